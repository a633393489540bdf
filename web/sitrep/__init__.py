"""The printable situation report (灾情简报) per event, its CSV/GeoJSON downloads, and the plan
indicators page."""
