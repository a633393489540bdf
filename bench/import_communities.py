"""Benchmark: ``disaster import communities`` of 100,000 polygons on SpatiaLite and PostGIS.

Target (issue 2 §8): under 60 s for 100,000 on each backend. Generates a GeoJSON file of
12-sided community polygons tiling a 0.5° × 0.5° square near 宿州 (125 townships × 800
communities), creates a fresh database per backend, and times the full import path
(:func:`web.data_io.import_file`: read, validate every row, bulk insert, audit, commit), then
a re-import of the same file (everything unchanged, nothing written). Prints figures only.

Audit: above ``disaster.upsert.BULK_AUDIT_THRESHOLD`` created records, one audit entry per
1,000 codes (``community.bulk_create`` listing them) is written instead of one per record.

    .venv/bin/python bench/import_communities.py [--n 100000] [--backends spatialite,postgis]
        [--postgis-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from disaster.areas import upsert_areas
from disaster.audit import AuditEntry
from disaster.communities import Community
from gis.db import make_engine
from gis.vector_io import write_vector
from web.data_io import import_file
from web.migrate import upgrade
from web.models import import_all_models

COUNTY = "341302"
PER_TOWNSHIP = 800
WEST, SOUTH, SIZE = 116.8, 33.4, 0.5


def synthetic_file(n: int, folder: Path) -> tuple[Path, list[dict]]:
    """Write ``n`` community polygons as GeoJSON; return the file and the area records."""
    side = int(np.ceil(np.sqrt(n)))
    cell = SIZE / side
    k = np.arange(n)
    cx = WEST + (k % side + 0.5) * cell
    cy = SOUTH + (k // side + 0.5) * cell
    polygons = shapely.buffer(shapely.points(cx, cy), cell * 0.45, quad_segs=3)
    townships = (n + PER_TOWNSHIP - 1) // PER_TOWNSHIP
    areas = [{"code": "341300", "name": "宿州市", "level": "city", "parent_code": None},
             {"code": COUNTY, "name": "埇桥区", "level": "county", "parent_code": "341300",
              "geometry": box(WEST, SOUTH, WEST + SIZE, SOUTH + SIZE)}]
    areas += [{"code": f"{COUNTY}{t + 1:03d}", "name": f"第{t + 1}镇", "level": "township",
               "parent_code": COUNTY} for t in range(townships)]
    rows = []
    rng = np.random.default_rng(7)
    population = rng.integers(300, 4000, n)
    for i in range(n):
        township = f"{COUNTY}{i // PER_TOWNSHIP + 1:03d}"
        rows.append({"code": f"{township}{i % PER_TOWNSHIP + 1:03d}", "name": f"第{i + 1}村",
                     "township_code": township, "county_code": COUNTY,
                     "population": int(population[i]),
                     "households": int(population[i] / 2.74)})
    path = folder / "communities.geojson"
    write_vector(path, "geojson", rows, list(polygons))
    return path, areas


def new_database(backend: str, folder: Path, server: str) -> tuple[str, callable]:
    if backend == "spatialite":
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.sqlite'}"
        return url, lambda: None
    base = make_url(server).set(drivername="postgresql+psycopg")
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def run(backend: str, path: Path, areas: list[dict], folder: Path, server: str, n: int) -> None:
    url, drop = new_database(backend, folder, server)
    try:
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session:
            upsert_areas(session, cli_actor(), areas)
            session.commit()
        for label in ("import", "re-import"):
            t0 = time.perf_counter()
            with Session(engine) as session:
                summary = import_file(session, cli_actor(), "communities", path)
                t1 = time.perf_counter()
                session.commit()
            t2 = time.perf_counter()
            print(f"{backend:10s} {label:9s} {n:7d} rows  {t2 - t0:6.1f} s  "
                  f"({n / (t2 - t0):7.0f} rows/s; commit {t2 - t1:4.1f} s)  "
                  f"created {summary.created} updated {summary.updated} "
                  f"unchanged {summary.unchanged}")
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(Community))
            audits = session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.entity_type == "community"))
        print(f"{backend:10s} stored {stored} communities, {audits} community audit entries")
        engine.dispose()
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backends", default="spatialite,postgis")
    parser.add_argument("--postgis-server", default=os.environ.get(
        "DISASTER_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    import_all_models()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        path, areas = synthetic_file(args.n, folder)
        print(f"generated {args.n} polygons: {path.stat().st_size / 1e6:.1f} MB GeoJSON in "
              f"{time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        from gis.vector_io import read_vector

        read_vector(path)
        print(f"reading the file alone: {time.perf_counter() - t0:.1f} s")
        for backend in args.backends.split(","):
            run(backend.strip(), path, areas, folder, args.postgis_server, args.n)


if __name__ == "__main__":
    main()
