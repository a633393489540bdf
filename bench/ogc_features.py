"""OGC API at province scale: GDAL reading 20,000 communities through OAPIF with paging, and
one zoom-8 vector tile of 100,000 communities (issue 16; targets ≤ 3 s and ≤ 100 ms).

The communities are the province-sized generated set of ``bench/console_load.py`` (jagged
20-vertex polygons tiling a rectangle the size of Anhui). GDAL runs in its own process (as
QGIS or ogr2ogr would) against a live waitress server; the time is GDAL's own, from opening
``OAPIF:…/ogc`` to the last feature, paging with the page size GDAL picks from ``/ogc/api``.
The server's geometry cache is warmed first, as ``disaster serve`` does when it starts. The
tile is the one over the province's centre, fetched over HTTP: first request, then the median
of repeated requests (SpatiaLite keeps encoded tiles until the data or the warnings change;
PostGIS encodes each request with ``ST_AsMVT``).

Usage: ``.venv/bin/python bench/ogc_features.py [--backend spatialite|postgis|both]
[--postgis-server URL] [--runs 5]`` (PostGIS: a throwaway database on the server, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import shapely  # noqa: F401 - imported before SpatiaLite loads, so shapely's GEOS is the one used

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests
import sqlalchemy as sa
from console_load import PROVINCE, load_province
from sqlalchemy.engine import make_url

from disaster import accounts
from disaster.access import cli_actor
from disaster.communities import Community
from gis.db import make_engine
from tests.web.ogc_clients import gdal_read
from web.api.geojson import cache
from web.app import create_app
from web.config import Settings
from web.migrate import upgrade
from web.ogc.views import lon_lat_to_tile
from web.server import ServerThread

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def database(backend: str, folder: Path, server: str) -> Iterator[str]:
    """A fresh migrated database URL on ``backend``, dropped afterwards (PostGIS)."""
    if backend == "spatialite":
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    admin = sa.create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    name = f"bench_ogc_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def serve(url: str, home: Path, n: int):  # type: ignore[no-untyped-def]
    """An app on ``url`` with ``n`` generated communities and a bench user; returns
    ``(app, token)``."""
    app = create_app(Settings(home=home, database_url=url, secret_key=secrets.token_hex(16)))
    started = time.perf_counter()
    with app.extensions["disaster_runtime"].sessions() as s:
        load_province(s, n)
        accounts.add_user(s, cli_actor(), "bench", "duty_officer")
        token = accounts.issue_token(s, cli_actor(), "bench")
        s.commit()
    print(f"  loaded {n:,} communities in {time.perf_counter() - started:.0f} s", flush=True)
    with app.app_context(), app.extensions["disaster_runtime"].sessions() as s:
        cache().warm(s, Community)
    return app, token


def bench_features(backend: str, folder: Path, server: str) -> None:
    with database(backend, folder, server) as url:
        app, token = serve(url, folder, 20_000)
        with ServerThread(app, threads=4) as srv:
            for run in range(2):
                started = time.perf_counter()
                frame, stats = gdal_read(f"{srv.url}/ogc", "communities", token=token)
                wall = time.perf_counter() - started
                label = "first" if run == 0 else "again"
                print(f"  OAPIF communities ({label}): {stats['rows']:,} features, GDAL "
                      f"{stats['seconds']:.2f} s (with process start {wall:.2f} s)", flush=True)
            assert len(frame) == 20_000, "GDAL did not read every community"
        app.extensions["disaster_runtime"].engine.dispose()


def bench_tile(backend: str, folder: Path, server: str, runs: int) -> None:
    with database(backend, folder, server) as url:
        app, token = serve(url, folder, 100_000)
        w, s, e, n = PROVINCE
        col, row = lon_lat_to_tile((w + e) / 2, (s + n) / 2, 8)
        with ServerThread(app, threads=4) as srv:
            tile = (f"{srv.url}/ogc/collections/communities/tiles/WebMercatorQuad/"
                    f"8/{row}/{col}")
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                response = http.get(tile, timeout=120)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
            import mapbox_vector_tile

            count = len(mapbox_vector_tile.decode(response.content)["communities"]["features"])
            print(f"  tile 8/{row}/{col}: {count:,} communities, {len(response.content) / 1e3:.0f} "
                  f"kB; first {times[0] * 1000:.0f} ms, then median "
                  f"{statistics.median(times[1:]) * 1000:.0f} ms over {runs}", flush=True)
        app.extensions["disaster_runtime"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--postgis-server", default=PG_SERVER)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["features", "tile"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            print(f"{backend}:", flush=True)
            if args.only in (None, "features"):
                bench_features(backend, Path(tmp), args.postgis_server)
            if args.only in (None, "tile"):
                bench_tile(backend, Path(tmp), args.postgis_server, args.runs)
    print("targets: OAPIF 20,000 communities ≤ 3 s; one zoom-8 tile of 100,000 ≤ 100 ms")


if __name__ == "__main__":
    main()
