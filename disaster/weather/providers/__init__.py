"""Weather providers: a name → dotted-path registry (CONTRACT.md, weather providers)."""

from __future__ import annotations

import importlib
from typing import Any

from disaster.errors import DisasterValidationError

REGISTRY = {
    "grid-files": "disaster.weather.providers.grid_files:GridFilesProvider",
    "open-meteo": "disaster.weather.providers.open_meteo:OpenMeteoProvider",
    "cap-feed": "disaster.weather.providers.cap_feed:CapFeedProvider",
    "scenario": "disaster.weather.providers.scenario:ScenarioProvider",
    "grib2": "disaster.weather.providers.grib2:Grib2Provider",
}


def load(name: str, **options: Any) -> Any:
    """Instantiate the provider registered under ``name``."""
    if name not in REGISTRY:
        raise DisasterValidationError(
            f"unknown weather provider {name!r}; one of {', '.join(sorted(REGISTRY))}",
            fields={"provider": [f"unknown provider {name!r}"]})
    module, _, attr = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attr)(**options)
