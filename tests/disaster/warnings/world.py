"""A small synthetic world for warning tests: two counties, 24 square communities and a tiny
one smaller than a grid cell, officers for each, and hourly rain grids written as GeoTIFFs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, box

from disaster.access import SYSTEM
from disaster.areas import upsert_areas
from disaster.communities import upsert_communities
from disaster.officers import upsert_officers
from disaster.weather.providers.grid_files import write_geotiff

CELL = 0.01
# Grid of 22 × 18 cells of 0.01° covering the communities with a margin.
GRID_TRANSFORM = (CELL, 0.0, 116.98, 0.0, -CELL, 33.74)
GRID_SHAPE = (18, 22)
START = dt.datetime(2020, 8, 1, 0, tzinfo=dt.UTC)
COUNTIES = {"341302": "埇桥区", "341321": "砀山县"}
TINY = "341321001900"


def community_records() -> list[dict]:
    recs = []
    for row in range(4):
        for col in range(6):
            county = "341302" if col < 3 else "341321"
            township = county + "001"
            x0, y0 = 117.00 + 0.03 * col, 33.60 + 0.03 * row
            code = f"{township}{200 + row * 6 + col:03d}"
            recs.append({"code": code, "name": f"测试{row}{col}村", "township_code": township,
                         "county_code": county, "population": 1000, "households": 365,
                         "geometry": MultiPolygon([box(x0, y0, x0 + 0.03, y0 + 0.03)])})
    tiny = box(117.1905, 33.5805, 117.1935, 33.5835)
    recs.append({"code": TINY, "name": "小村", "township_code": "341321001",
                 "county_code": "341321", "population": 50, "households": 18,
                 "geometry": MultiPolygon([tiny]), "point": Point(117.192, 33.582)})
    return recs


def build(session) -> dict[str, int]:
    """Load the areas, communities and officers; returns ``{community: primary officer id}``."""
    city = box(116.9, 33.5, 117.3, 33.8)
    areas = [{"code": "341300", "name": "宿州市", "level": "city", "parent_code": None,
              "geometry": MultiPolygon([city])}]
    for code, name in COUNTIES.items():
        geom = box(116.9, 33.5, 117.09, 33.8) if code == "341302" else box(117.09, 33.5, 117.3, 33.8)
        areas.append({"code": code, "name": name, "level": "county", "parent_code": "341300",
                      "geometry": MultiPolygon([geom])})
        areas.append({"code": code + "001", "name": name + "一镇", "level": "township",
                      "parent_code": code, "geometry": MultiPolygon([geom])})
    upsert_areas(session, SYSTEM, areas)
    comms = community_records()
    upsert_communities(session, SYSTEM, comms)
    officers = []
    for c in comms:
        officers.append({"code": f"OF{c['code']}", "name": f"信息员{c['code'][-3:]}",
                         "phone": f"138{c['code'][-8:]}", "email": f"officer-{c['code']}@example.cn",
                         "home_community_code": c["code"], "primary": [c["code"]], "backup": []})
    for county in COUNTIES:
        officers.append({"code": f"OB{county}001", "name": f"备岗{county}",
                         "phone": f"139{county}00", "email": f"backup-{county}@example.cn",
                         "home_community_code": None, "primary": [],
                         "backup": [c["code"] for c in comms if c["county_code"] == county]})
    upsert_officers(session, SYSTEM, officers)
    session.flush()
    from sqlalchemy import select

    from disaster.officers import Officer
    ids = {code: oid for code, oid in session.execute(select(Officer.code, Officer.id))}
    return {c["code"]: ids[f"OF{c['code']}"] for c in comms}


def rain_sequence(hours: int, seed: int = 7) -> np.ndarray:
    """Hourly rain (mm, multiples of 0.5 so float32 sums are exact) with a moving storm."""
    rng = np.random.default_rng(seed)
    h, w = GRID_SHAPE
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((hours, h, w), dtype=np.float32)
    for t in range(hours):
        cx, cy = 3 + t * 1.6, 9 + 3 * np.sin(t / 3)
        core = 38 * np.exp(-(((xx - cx) / 4.0) ** 2 + ((yy - cy) / 5.0) ** 2))
        noise = rng.gamma(1.2, 2.0, size=(h, w))
        out[t] = np.round((core + noise) * 2) / 2
    return out


def write_series(folder: Path, values: np.ndarray, start: dt.datetime = START,
                 variable: str = "precip_mm", transform: tuple = GRID_TRANSFORM,
                 crs: str = "EPSG:4326", nodata: float | None = None) -> list[Path]:
    """One GeoTIFF per hour; the file of hour k is named by the END of that hour."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(values.shape[0]):
        end = start + dt.timedelta(hours=k + 1)
        paths.append(write_geotiff(folder / f"{variable}_{end:%Y%m%dT%H%M}Z.tif", values[k],
                                   transform, crs, nodata))
    return paths


def cell_centres(transform: tuple, shape: tuple[int, int], crs: str = "EPSG:4326") -> np.ndarray:
    """Centres of all cells as lon/lat points (row-major), computed independently of rasterio."""
    a, _, c, _, e, f = transform[:6]
    h, w = shape
    cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    x, y = c + cols * a, f + rows * e
    if crs != "EPSG:4326":
        x, y = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return shapely.points(np.asarray(x).ravel(), np.asarray(y).ravel())


THRESHOLDS = [(4, 3, 100.0), (3, 3, 50.0), (2, 6, 50.0), (1, 12, 50.0)]


def reference_peak_levels(values: np.ndarray, transform: tuple = GRID_TRANSFORM,
                          crs: str = "EPSG:4326") -> dict[str, int]:
    """Brute force: per community, its cells, every window end, every CMA rainstorm rule."""
    h, w = values.shape[1:]
    centres = cell_centres(transform, (h, w), crs)
    flat = values.reshape(values.shape[0], -1).astype(np.float64)
    out = {}
    for rec in community_records():
        poly = rec["geometry"]
        cells = [i for i, p in enumerate(centres) if poly.contains(p)]
        if not cells:
            pt = rec.get("point") or poly.representative_point()
            d = [pt.distance(shapely.box(*_cell_box(transform, i, w, crs))) for i in range(h * w)]
            cells = [int(np.argmin(d))]
        best = 0
        for rank, win, thr in THRESHOLDS:
            for i in cells:
                series = flat[:, i]
                for end in range(series.size):
                    window = series[max(0, end - win + 1):end + 1]
                    if np.isnan(window).any():
                        continue
                    if window.sum() >= thr:
                        best = max(best, rank)
        out[rec["code"]] = best
    return out


def _cell_box(transform: tuple, i: int, w: int, crs: str) -> tuple[float, float, float, float]:
    a, _, c, _, e, f = transform[:6]
    r, k = divmod(i, w)
    return (c + k * a, f + (r + 1) * e, c + (k + 1) * a, f + r * e)
