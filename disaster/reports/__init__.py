"""Field reports (初报/续报/核报) of the 《自然灾害情况统计调查制度》 and their roll-ups."""
