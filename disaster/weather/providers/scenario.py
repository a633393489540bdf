"""``scenario``: a bundled, plausible 宿州 rainstorm for the demo and exercises — GENERATED.

Nothing here is observed data. A parametric mesoscale convective system (a moving
elliptical core with a trailing stratiform band, the usual shape of a Huang-Huai Meiyu
rainstorm) crosses 宿州市 from west-south-west to east-north-east on a 0.01° grid. Peak
intensities reach about 45 mm/h, so the centre of the track gets red warnings (≥100 mm in 3 h)
and its flanks orange, yellow and blue; then twelve dry hours let every warning end.
Every grid is marked ``generated`` and named ``scenario:…(generated)``.

``--source`` is the scenario name (``suzhou-rainstorm``); options ``start`` (ISO time of the
first hour's start, default 2025-07-10T18:00Z) and ``seed``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from disaster.weather.batch import Batch, FetchContext, GridItem
from disaster.weather.errors import IngestError
from disaster.weather.grids import GridSpec

WGS84_WKT = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],' \
            'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
CELL = 0.01
WEST, NORTH, WIDTH, HEIGHT = 116.30, 34.70, 200, 160   # covers 宿州 with a margin
RAIN_HOURS, DRY_HOURS = 12, 13
SCENARIOS = {"suzhou-rainstorm"}
DEFAULT_START = "2025-07-10T18:00:00+00:00"


def spec() -> GridSpec:
    return GridSpec(WGS84_WKT, (CELL, 0.0, WEST, 0.0, -CELL, NORTH), WIDTH, HEIGHT)


def rain_fields(seed: int = 20250710) -> np.ndarray:
    """Hourly rain (mm) on the scenario grid: shape (hours, HEIGHT, WIDTH), float32."""
    rng = np.random.default_rng(seed)
    lon = WEST + CELL * (np.arange(WIDTH) + 0.5)
    lat = NORTH - CELL * (np.arange(HEIGHT) + 0.5)
    lon2, lat2 = np.meshgrid(lon, lat)
    hours = RAIN_HOURS + DRY_HOURS
    out = np.zeros((hours, HEIGHT, WIDTH), dtype=np.float32)
    # Track from 116.45°E 33.45°N towards 118.05°E 33.85°N, through the city seat's south.
    for k in range(RAIN_HOURS):
        f = k / (RAIN_HOURS - 1)
        cx, cy = 116.45 + 1.6 * f, 33.45 + 0.40 * f + 0.05 * np.sin(3 * f)
        grow = np.sin(np.pi * (0.15 + 0.85 * f)) ** 0.7  # develops, matures, decays
        dx, dy = (lon2 - cx) * np.cos(np.radians(33.6)), lat2 - cy
        # core elongated along the track (about 30 km × 15 km)
        u = (dx * 0.97 + dy * 0.24) / 0.16
        v = (-dx * 0.24 + dy * 0.97) / 0.075
        core = 45.0 * grow * np.exp(-(u ** 2 + v ** 2))
        band = 8.0 * grow * np.exp(-(((u + 1.8) / 2.2) ** 2 + (v / 2.0) ** 2))
        texture = rng.gamma(2.0, 0.5, size=(HEIGHT, WIDTH))
        field = (core + band) * (0.8 + 0.2 * texture)
        out[k] = np.round(np.where(field < 0.1, 0.0, field), 1)
    return out


class ScenarioProvider:
    name = "scenario"

    def fetch(self, source: str, ctx: FetchContext) -> Batch:
        name = source or "suzhou-rainstorm"
        if name not in SCENARIOS:
            raise IngestError(f"unknown scenario {name!r}; bundled: {', '.join(sorted(SCENARIOS))}",
                              source=name)
        start = dt.datetime.fromisoformat(str(ctx.options.get("start") or DEFAULT_START))
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        fields = rain_fields(int(ctx.options.get("seed", 20250710)))
        grid = spec()
        batch = Batch(source=f"scenario:{name}")
        batch.notes.append("generated scenario, not observed data")
        for k in range(fields.shape[0]):
            end = start + dt.timedelta(hours=k + 1)
            batch.grids.append(GridItem("precip_mm", end, grid, fields[k].ravel(),
                                        f"scenario:{name}@{end:%Y%m%dT%H%MZ} (generated)",
                                        generated=True))
        return batch
