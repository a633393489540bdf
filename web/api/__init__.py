"""HTTP API ``/api/v1``: thin adapters over the domain services (JSON, GeoJSON, CAP)."""
