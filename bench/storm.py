"""A synthetic province or nation for the alert-path and delivery benchmarks.

Communities are 0.01° squares in a lattice, 200 per county (one township each), each with a
primary and a backup officer (phone and e-mail). Rows are written with bulk core INSERTs
(setup is not what is measured). :func:`storm` writes three hourly rain grids: 40 mm/h over
the first ``warned`` communities (red rainstorm), dry elsewhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from disaster.areas import Area
from disaster.communities import Community
from disaster.officers import Officer, OfficerAssignment
from disaster.weather.providers.grid_files import write_geotiff

CELL = 0.01
X0, Y0 = 100.0, 20.0
PER_COUNTY = 200
T = dt.datetime(2026, 7, 20, 3, tzinfo=dt.UTC)


def fresh_postgis(server: str) -> tuple[str, Engine]:
    """A new, migrated PostGIS database on ``server``; returns its URL and an admin engine."""
    from gis.db import make_engine
    from web.migrate import upgrade
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, admin


def drop_postgis(admin: Engine, url: str) -> None:
    """Remove a benchmark database."""
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def shape_for(n: int) -> tuple[int, int]:
    """Columns and rows of the lattice holding ``n`` communities (about 5:3)."""
    cols = int(np.ceil(np.sqrt(n * 5 / 3)))
    return cols, int(np.ceil(n / cols))


def build(engine: Engine, n: int) -> None:
    """Areas, ``n`` communities and 2 × ``n`` officers (primary and backup) in bulk."""
    cols, _ = shape_for(n)
    counties = (n + PER_COUNTY - 1) // PER_COUNTY
    with engine.begin() as conn:
        conn.execute(insert(Area), [{"code": "990000", "name": "演练省", "level": "city",
                                     "parent_code": None, "generated": False}])
        conn.execute(insert(Area), [{"code": f"{100000 + k:06d}", "name": f"演练{k}县",
                                     "level": "county", "parent_code": "990000",
                                     "generated": False} for k in range(counties)])
        conn.execute(insert(Area), [{"code": f"{100000 + k:06d}001", "name": f"演练{k}镇",
                                     "level": "township", "parent_code": f"{100000 + k:06d}",
                                     "generated": False} for k in range(counties)])
        for start in range(0, n, 20000):
            idx = np.arange(start, min(start + 20000, n))
            x = X0 + CELL * (idx % cols)
            y = Y0 + CELL * (idx // cols)
            boxes = shapely.box(x, y, x + CELL, y + CELL)
            rows = []
            for i, geom in zip(idx, boxes, strict=True):
                county = f"{100000 + i // PER_COUNTY:06d}"
                rows.append({"code": f"{county}001{i % PER_COUNTY:03d}", "name": f"演练{i}村",
                             "township_code": county + "001", "county_code": county,
                             "population": 1000, "households": 300, "elderly": 0,
                             "children": 0, "disabled": 0, "urban": False, "generated": False,
                             "geom": from_shape(MultiPolygon([geom]), srid=4326),
                             "point": from_shape(geom.centroid, srid=4326)})
            conn.execute(insert(Community), rows)
            officers = []
            for i in idx:
                for role in ("P", "B"):
                    officers.append({"code": f"{role}{i}", "name": f"信息员{role}{i}",
                                     "phone": f"13{8 if role == 'P' else 9}{i:08d}",
                                     "email": f"{role.lower()}{i}@example.cn", "active": True,
                                     "generated": False})
            conn.execute(insert(Officer), officers)
        ids = dict(conn.execute(text("SELECT code, id FROM officers")).all())
        for start in range(0, n, 20000):
            rows = []
            for i in range(start, min(start + 20000, n)):
                code = f"{100000 + i // PER_COUNTY:06d}001{i % PER_COUNTY:03d}"
                rows.append({"officer_id": ids[f"P{i}"], "community_code": code,
                             "role": "primary", "since": T})
                rows.append({"officer_id": ids[f"B{i}"], "community_code": code,
                             "role": "backup", "since": T})
            conn.execute(insert(OfficerAssignment), rows)


def storm(folder: Path, n: int, warned: int) -> dt.datetime:
    """Three hourly grids, red rain over the first ``warned`` communities; returns the time
    the last one arrives (when the evaluation runs)."""
    cols, rows = shape_for(n)
    grid = np.zeros((rows, cols), dtype=np.float32)
    flat = grid.reshape(-1)
    flat[:warned] = 40.0
    # GeoTIFF rows run north to south; lattice rows south to north
    grid = grid[::-1]
    transform = (CELL, 0.0, X0, 0.0, -CELL, Y0 + CELL * rows)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(3):
        end = T + dt.timedelta(hours=k + 1)
        write_geotiff(folder / f"precip_mm_{end:%Y%m%dT%H%M}Z.tif", grid, transform)
    return T + dt.timedelta(hours=3)
