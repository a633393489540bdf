"""Benchmark: risk index and damage assessment for 20,000 communities (target < 5 s each).

Synthetic but realistically shaped: a 200 × 100 grid of ~1 km² communities near 宿州, 300
hazard zones (river corridors and waterlogging patches, three levels), 400 shelters, 15 depots,
warnings on a third of the communities and reports from a tenth. Prints the figures of each
stage; nothing is asserted.

    .venv/bin/python bench/assessment.py [--communities 20000] [--database]

``--database`` also loads the data set into a fresh SpatiaLite file and times the full path the
API and ``disaster assess`` take (read from the database, coping inputs from shelters and
depots, model, JSON), cold and with the overlay cached.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, box

from disaster.assessment.access import supply_per_person
from disaster.assessment.inputs import CommunityTable, WarningState
from disaster.assessment.overlay import cached_hazard_shares
from disaster.assessment.parameters import DEFAULT_IMPACT_CURVES, DEFAULT_RISK_WEIGHTS
from disaster.assessment.risk import CopingInputs, compute_risk, risk_document
from disaster.assessment.service import assess_tables, assessment_document

CELL = 0.01  # degrees, about 1 km


def synthetic(n: int, seed: int = 8) -> tuple[list[dict], list, list[str], list[int]]:
    rng = np.random.default_rng(seed)
    cols = 200
    records = []
    for k in range(n):
        i, j = k % cols, k // cols
        x0, y0 = 116.4 + i * CELL, 33.2 + j * CELL
        pop = int(rng.integers(300, 6000))
        township = f"3413{2 + (i // 50):02d}{(j // 10) % 1000:03d}"
        records.append({
            "code": f"{township}{k % 1000:03d}", "name": f"村{k}", "township_code": township,
            "county_code": township[:6], "population": pop, "households": round(pop / 2.74),
            "elderly": int(pop * rng.uniform(0.12, 0.3)),
            "children": int(pop * rng.uniform(0.12, 0.25)),
            "disabled": int(pop * rng.uniform(0.03, 0.08)),
            "farmland_share": float(rng.uniform(0.1, 0.8)), "urban": bool(rng.random() < 0.1),
            "geometry": MultiPolygon([box(x0, y0, x0 + CELL, y0 + CELL)]),
            "point": Point(x0 + CELL / 2, y0 + CELL / 2),
        })
    # Keep codes unique when the grid repeats a township's 3-digit suffix.
    seen: set[str] = set()
    for k, r in enumerate(records):
        while r["code"] in seen:
            r["code"] = f"{r['township_code']}{(int(r['code'][-3:]) + 1) % 1000:03d}"
        seen.add(r["code"])
        records[k] = r
    rows = max(1, n // cols)
    # About twice 宿州's area: 40 river corridors (1–3 km wide, 50–200 km long) and 120
    # waterlogging patches (1–5 km across), like the 42 zones of the 宿州 sample scaled up.
    zones, kinds, levels = [], [], []
    for z in range(160):
        if z < 40:
            y = 33.2 + rng.uniform(0, rows * CELL)
            x0 = 116.4 + rng.uniform(0, cols * CELL * 0.5)
            xs = np.linspace(x0, x0 + rng.uniform(0.5, 2.0), 40)
            line = shapely.LineString(np.column_stack([xs, y + 0.03 * np.sin(xs * 7 + z)]))
            zones.append(line.buffer(rng.uniform(0.005, 0.015)))
            kinds.append("flood_prone")
        else:
            cx = 116.4 + rng.uniform(0, cols * CELL)
            cy = 33.2 + rng.uniform(0, rows * CELL)
            zones.append(Point(cx, cy).buffer(rng.uniform(0.005, 0.025), quad_segs=8))
            kinds.append("waterlogging")
        levels.append(int(rng.integers(1, 4)))
    return records, zones, kinds, levels


def database_path(records: list[dict], zones: list, kinds: list[str], levels: list[int],
                  rng: np.random.Generator) -> None:
    """Load everything into a fresh SpatiaLite database and time the web gatherer on it."""
    import tempfile
    from decimal import Decimal
    from pathlib import Path

    from geoalchemy2.shape import from_shape
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from disaster.areas import Area
    from disaster.assessment.overlay import _CACHE as overlay_cache
    from disaster.communities import Community
    from disaster.hazards import HazardZone
    from disaster.warnings.state import CommunityWarning
    from gis.db import make_engine
    from shelters.models import Shelter
    from stockpile.models import Depot, Item, StockLevel
    from web import assessment_inputs as gather
    from web.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        upgrade(engine)
        t0 = time.perf_counter()
        with Session(engine) as session:
            counties = sorted({r["county_code"] for r in records})
            townships = sorted({(r["township_code"], r["county_code"]) for r in records})
            session.execute(insert(Area), [{"code": "341300", "name": "宿州市", "level": "city"}])
            session.execute(insert(Area), [{"code": c, "name": c, "level": "county",
                                            "parent_code": "341300"} for c in counties])
            session.execute(insert(Area), [{"code": t, "name": t, "level": "township",
                                            "parent_code": c} for t, c in townships])
            session.execute(insert(Community), [{
                k: r[k] for k in ("code", "name", "township_code", "county_code", "population",
                                  "households", "elderly", "children", "disabled",
                                  "farmland_share", "urban")}
                | {"geom": from_shape(r["geometry"], 4326), "point": from_shape(r["point"], 4326)}
                for r in records])
            session.execute(insert(HazardZone), [
                {"code": f"HZ{i}", "name": f"HZ{i}", "kind": k, "level": lv,
                 "geom": from_shape(MultiPolygon([z]), 4326)}
                for i, (z, k, lv) in enumerate(zip(zones, kinds, levels, strict=True))])
            picks = rng.choice(len(records), 400, replace=False)
            session.execute(insert(Shelter), [{
                "code": f"SH{i}", "name": f"SH{i}", "kind": "emergency", "capacity": 2000,
                "occupancy": 0, "status": "standby",
                "geom": from_shape(records[int(j)]["point"], 4326)} for i, j in enumerate(picks)])
            session.add(Item(code="QUILT", name="棉被", unit="床", category="bedding"))
            for i, j in enumerate(rng.choice(len(records), 15, replace=False)):
                session.add(Depot(code=f"DP{i}", name=f"DP{i}", level="county",
                                  geom=from_shape(records[int(j)]["point"], 4326)))
            session.flush()
            item_id = session.query(Item.id).scalar()
            depot_ids = [d for (d,) in session.query(Depot.id)]
            session.execute(insert(StockLevel), [{"depot_id": d, "item_id": item_id, "lot": "",
                                                   "on_hand": Decimal(5000), "reserved": Decimal(0)}
                                                  for d in depot_ids])
            now = dt.datetime.now(dt.UTC)
            session.execute(insert(CommunityWarning), [{
                "community_code": r["code"], "hazard": "rainstorm",
                "level": ["orange", "red"][k % 2], "since": now, "updated_at": now,
                "peak_value": 80.0 + k % 200, "metric": "precip_mm_24h"}
                for k, r in enumerate(records[: len(records) // 3])])
            session.commit()
        print(f"database load (SpatiaLite) {time.perf_counter() - t0:7.3f} s  (setup, not timed below)")
        overlay_cache.clear()  # the in-memory run above filled it with the same geometries
        for label in ("cold", "cached"):
            with Session(engine) as session:
                t0 = time.perf_counter()
                doc = risk_document(gather.risk(session))
                t_risk = time.perf_counter() - t0
                t0 = time.perf_counter()
                adoc = gather.assessment_json(session)
                t_assess = time.perf_counter() - t0
            print(f"DB risk index ({label:6})    {t_risk:7.3f} s  ({len(doc['communities']):,} rows)")
            print(f"DB assessment ({label:6})    {t_assess:7.3f} s  (after the risk index, "
                  "sharing its overlay) "
                  f"(modelled affected {adoc['totals']['modelled']['affected_people']:,})")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=20_000)
    parser.add_argument("--database", action="store_true",
                        help="also time the full path through a SpatiaLite database")
    args = parser.parse_args()
    n = args.communities
    rng = np.random.default_rng(1)
    records, zones, kinds, levels = synthetic(n)
    print(f"communities {n:,}, hazard zones {len(zones)}")

    t0 = time.perf_counter()
    table = CommunityTable.from_records(records)
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    shares = cached_hazard_shares(table.geometry, zones, kinds, levels)
    t_overlay = time.perf_counter() - t0
    t0 = time.perf_counter()
    cached_hazard_shares(table.geometry, zones, kinds, levels)
    t_overlay_warm = time.perf_counter() - t0
    low = shares.low_lying

    # Risk index: coping inputs (2SFCA for 400 shelters and 15 depots) + index + ranked doc.
    t0 = time.perf_counter()
    lon, lat = table.lon, table.lat
    pick = rng.choice(n, 400, replace=False)
    shelters = supply_per_person(lon, lat, table.population, lon[pick], lat[pick],
                                 rng.integers(200, 5000, 400), 10.0)
    depots = rng.choice(n, 15, replace=False)
    stock = supply_per_person(lon, lat, table.population, lon[depots], lat[depots],
                              rng.integers(1000, 20000, 15), 50.0)
    coping = CopingInputs(shelters, stock, rng.random(n) < 0.97, rng.random(n) < 0.9)
    t_access = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = compute_risk(table, shares, DEFAULT_RISK_WEIGHTS, coping,
                          rng.integers(0, 12, n).astype(float))
    doc = risk_document(result)
    t_risk = time.perf_counter() - t0

    # Assessment: warnings on a third, reports from a tenth; model, compare, roll up, JSON.
    warned = rng.choice(n, n // 3, replace=False)
    warnings = {table.code[i]: [WarningState("rainstorm", ["blue", "yellow", "orange", "red"][
        int(rng.integers(0, 4))], float(rng.uniform(40, 300)), "precip_mm_24h")] for i in warned}
    reported = {table.code[i]: {"affected_people": int(rng.integers(0, 3000)),
                                "direct_loss_10k_yuan": float(rng.uniform(0, 500)),
                                "crop_affected_ha": float(rng.uniform(0, 80))}
                for i in rng.choice(warned, n // 10, replace=False)}
    t0 = time.perf_counter()
    a = assess_tables(table, shares, warnings, reported, DEFAULT_RISK_WEIGHTS,
                      DEFAULT_IMPACT_CURVES)
    t_model = time.perf_counter() - t0
    t0 = time.perf_counter()
    adoc = assessment_document(a)
    t_doc = time.perf_counter() - t0

    risk_total = t_overlay + t_access + t_risk
    assess_total = t_overlay + t_model + t_doc
    print(f"table from records        {t_table:7.3f} s")
    print(f"hazard-zone overlay       {t_overlay:7.3f} s  (shared by both; "
          f"{(low > 0).mean():.0%} of communities touch a flood or waterlogging zone)")
    print(f"overlay again (cached)    {t_overlay_warm:7.3f} s  (same geometries: hash lookup)")
    print(f"coping access (2SFCA)     {t_access:7.3f} s")
    print(f"risk index + ranked JSON  {t_risk:7.3f} s  ({len(doc['communities']):,} rows)")
    print(f"impact model + compare    {t_model:7.3f} s")
    print(f"assessment JSON + rollups {t_doc:7.3f} s  ({len(adoc['by_township'])} townships)")
    print(f"RISK INDEX TOTAL          {risk_total:7.3f} s  (target < 5 s; "
          f"{risk_total - t_overlay + t_overlay_warm:.3f} s with the overlay cached)")
    print(f"ASSESSMENT TOTAL          {assess_total:7.3f} s  (target < 5 s; "
          f"{assess_total - t_overlay + t_overlay_warm:.3f} s with the overlay cached)")
    print(f"modelled affected {adoc['totals']['modelled']['affected_people']:,}, "
          f"silent {len(adoc['silent']):,}, far from model {len(adoc['far_from_model']):,}")
    if args.database:
        database_path(records, zones, kinds, levels, rng)


if __name__ == "__main__":
    main()
