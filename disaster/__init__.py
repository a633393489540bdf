"""Areas, communities, hazards, weather, warnings, officers, reports, assessment and needs."""
