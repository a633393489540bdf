"""Benchmark: ``disaster sample load`` on SpatiaLite and PostGIS (first load and reload).

Generates the 宿州 sample once (in a child process, as the loader does), then per backend
creates a fresh database, loads the sample through the domain services and commits, and
loads it again (idempotent: nothing written). Prints figures only.

    .venv/bin/python bench/sample_load.py [--backends spatialite,postgis]
        [--postgis-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from gis.db import make_engine
from web.migrate import upgrade
from web.models import import_all_models
from web.sample_loader import generate_sample_data, load_sample


def new_database(backend: str, folder: Path, server: str) -> tuple[str, object]:
    if backend == "spatialite":
        return f"sqlite:///{folder / f'sample-{uuid.uuid4().hex[:6]}.sqlite'}", lambda: None
    base = make_url(server).set(drivername="postgresql+psycopg")
    name = f"bench_sample_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="spatialite,postgis")
    parser.add_argument("--postgis-server", default=os.environ.get(
        "DISASTER_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    import_all_models()
    t0 = time.perf_counter()
    data = generate_sample_data(as_of=dt.date.today())
    print(f"generation (child process): {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            url, drop = new_database(backend.strip(), Path(tmp), args.postgis_server)
            try:
                engine = make_engine(url)
                upgrade(engine)
                for label in ("first load", "reload"):
                    t0 = time.perf_counter()
                    with Session(engine) as session:
                        result = load_sample(session, cli_actor(), data=data)
                        session.commit()
                    written = sum(c["created"] + c["updated"] for c in result["counts"].values())
                    print(f"{backend:10s} {label:10s} {time.perf_counter() - t0:6.1f} s  "
                          f"({written} records created or updated)")
                engine.dispose()
            finally:
                drop()


if __name__ == "__main__":
    main()
