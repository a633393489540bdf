"""Weather ingestion: provider plugins that turn grids, forecasts and upstream CAP into data."""
