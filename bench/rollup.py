"""Benchmark: national roll-up of 600,000 communities' latest reports (target < 2 s).

Builds a throwaway PostGIS database shaped like the whole country: 2,850 counties, 50,000
townships, 600,000 communities (12 per township), each with its latest report plus 200,000
superseded ones, loaded with COPY. Then times :func:`disaster.reports.rollup.rollup`
(township, county and national totals plus the suggested response level) and the township
CSV export. Prints the figures; nothing is asserted.

    .venv/bin/python bench/rollup.py [--communities 600000]
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_TOWNSHIP = 12
TOWNSHIPS_PER_COUNTY = 18


def seed(url: str, communities: int, stale: int) -> None:
    from gis.db import make_engine
    from web.migrate import upgrade
    from web.models import import_all_models

    import_all_models()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    townships = -(-communities // PER_TOWNSHIP)
    counties = -(-townships // TOWNSHIPS_PER_COUNTY)
    rng = np.random.default_rng(5)
    now = dt.datetime.now(dt.UTC)
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO areas (code, name, level, generated) "
                    "VALUES ('100000', '全国', 'city', true)")
        with cur.copy("COPY areas (code, name, level, parent_code, generated) FROM STDIN") as cp:
            for c in range(counties):
                cp.write_row((f"{110000 + c:06d}", f"县{c}", "county", "100000", True))
            for t in range(townships):
                county = f"{110000 + t // TOWNSHIPS_PER_COUNTY:06d}"
                cp.write_row((f"{county}{t % TOWNSHIPS_PER_COUNTY + 1:03d}", f"乡镇{t}",
                              "township", county, True))
        cols = ("code, name, township_code, county_code, population, households, elderly, "
                "children, disabled, urban, generated")
        with cur.copy(f"COPY communities ({cols}) FROM STDIN") as cp:
            for k in range(communities):
                t = k // PER_TOWNSHIP
                county = f"{110000 + t // TOWNSHIPS_PER_COUNTY:06d}"
                township = f"{county}{t % TOWNSHIPS_PER_COUNTY + 1:03d}"
                cp.write_row((f"{township}{k % PER_TOWNSHIP + 200:03d}", f"村{k}", township,
                              county, 1500, 550, 300, 280, 90, False, True))
        cur.execute("INSERT INTO events (code, name, hazard, status, started_at, created_at) "
                    "VALUES ('BENCH', 'bench', 'rainstorm', 'open', %s, %s) RETURNING id",
                    (now, now))
        event_id = cur.fetchone()[0]
        cur.execute("SELECT code FROM communities ORDER BY id")
        codes = [r[0] for r in cur.fetchall()]
        figures = rng.integers(0, 200, size=(communities + stale, 6))
        cols = ("event_id, community_code, kind, hazard, occurred_at, submitted_at, is_latest, "
                "affected_people, dead, missing, evacuated, needing_aid, collapsed_households, "
                "collapsed_rooms, severely_damaged_households, severely_damaged_rooms, "
                "generally_damaged_households, generally_damaged_rooms, crop_affected_ha, "
                "crop_damaged_ha, crop_lost_ha, direct_loss_10k_yuan")
        with cur.copy(f"COPY reports ({cols}) FROM STDIN") as cp:
            for i in range(communities + stale):
                latest = i < communities
                a, b, c, d, e, f = (int(x) for x in figures[i])
                cp.write_row((event_id, codes[i % communities],
                              "update" if latest else "initial", "rainstorm", now, now, latest,
                              a + 10, b % 3, 0, a // 4, a // 5, c % 5, c % 5 + 1, d % 4, d % 4,
                              e % 6, e % 6 + 2, f / 10, f / 20, f / 40, f / 7))
        conn.commit()
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get(
        "DISASTER_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--communities", type=int, default=600_000)
    parser.add_argument("--stale", type=int, default=200_000,
                        help="superseded reports that the roll-up must skip")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from disaster.reports.rollup import export_csv, rollup
    from gis.db import make_engine, make_session_factory

    server = make_url(args.server).set(drivername="postgresql+psycopg")
    name = f"bench_rollup_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        t0 = time.perf_counter()
        seed(url, args.communities, args.stale)
        print(f"loaded {args.communities:,} communities and "
              f"{args.communities + args.stale:,} reports in {time.perf_counter() - t0:.1f} s")
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        for run in range(args.runs):
            with sessions() as s:
                t = time.perf_counter()
                data = rollup(s)
                elapsed = time.perf_counter() - t
            print(f"roll-up run {run + 1}: {elapsed:.2f} s — {len(data['townships']):,} "
                  f"townships, {len(data['counties']):,} counties, "
                  f"{data['totals']['communities_reported']:,} communities, "
                  f"affected {data['totals']['affected_people']:,}, "
                  f"suggested level {data['response']['level']}")
        with sessions() as s:
            t = time.perf_counter()
            text = export_csv(s)
            print(f"CSV by township: {time.perf_counter() - t:.2f} s, "
                  f"{len(text.splitlines()):,} lines")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
