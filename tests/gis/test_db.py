"""The spatial database layer: engines, migrations and spatial indexes on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon

from disaster.access import Role
from disaster.accounts import User
from disaster.areas import Area, AreaLevel
from gis.db import make_engine
from gis.errors import SpatialiteMissing
from gis.spatial import backend_name
from web.migrate import current_heads, upgrade


def _square(x: float, y: float, d: float = 0.1) -> MultiPolygon:
    return MultiPolygon([Polygon([(x, y), (x + d, y), (x + d, y + d), (x, y + d)])])


def test_geometry_round_trips_in_epsg4326(session):
    session.add(Area(code="341300", name="宿州市", level=AreaLevel.CITY,
                     geom=from_shape(_square(117.0, 33.6), srid=4326)))
    session.flush()
    area = session.scalar(sa.select(Area).where(Area.code == "341300"))
    assert to_shape(area.geom).equals(_square(117.0, 33.6))
    srid = session.scalar(sa.select(sa.func.ST_SRID(Area.geom)).where(Area.code == "341300"))
    assert srid == 4326


def test_spatial_query_finds_containing_area(session):
    session.add_all([
        Area(code="341302", name="埇桥区", level=AreaLevel.COUNTY,
             geom=from_shape(_square(117.0, 33.6), srid=4326)),
        Area(code="341321", name="砀山县", level=AreaLevel.COUNTY,
             geom=from_shape(_square(116.3, 34.4), srid=4326)),
    ])
    session.flush()
    point = sa.func.ST_GeomFromText("POINT(117.05 33.65)", 4326)
    codes = session.scalars(sa.select(Area.code).where(sa.func.ST_Contains(Area.geom, point)))
    assert list(codes) == ["341302"]


def test_geometry_columns_have_spatial_indexes(engine):
    with engine.connect() as conn:
        if backend_name(conn) == "spatialite":
            rows = conn.exec_driver_sql(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns "
                "WHERE spatial_index_enabled = 1").all()
        else:
            rows = conn.execute(sa.text(
                "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ILIKE :p"),
                {"p": "%gist%"}).all()
    tables = {r[0] for r in rows}
    assert {"areas", "communities", "hazard_zones", "shelters", "depots"} <= tables


def test_migrations_are_idempotent(database_url):
    engine = make_engine(database_url)
    heads = current_heads(engine)
    upgrade(engine)
    assert current_heads(engine) == heads
    engine.dispose()


def test_times_are_stored_in_utc_and_come_back_aware(session):
    t = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    session.add(User(username="clock", role=Role.ADMIN, created_at=t))
    session.flush()
    session.expire_all()
    value = session.scalar(sa.select(User.created_at).where(User.username == "clock"))
    assert value == t
    assert value.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(session):
    session.add(User(username="naive", role=Role.ADMIN, created_at=dt.datetime(2026, 1, 1)))
    with pytest.raises(sa.exc.StatementError, match="naive"):
        session.flush()


def test_missing_spatialite_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("SPATIALITE_LIBRARY_PATH", "/nonexistent/mod_spatialite.so")
    import gis.db as db

    monkeypatch.setattr(db, "_load_spatialite", _broken_loader(db._load_spatialite))
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(SpatialiteMissing, match="libsqlite3-mod-spatialite"), engine.connect():
        pass


def _broken_loader(real):
    def load(dbapi_conn, record):
        class NoSpatialite:
            def __getattr__(self, name):
                return getattr(dbapi_conn, name)

            def load_extension(self, path):
                raise OSError(f"{path}: cannot open shared object file")

        return real(NoSpatialite(), record)

    return load


def test_spatialite_does_not_break_shapely_or_rasterio_loaded_after_it(tmp_path):
    # mod_spatialite's system GEOS/PROJ are loaded RTLD_GLOBAL; make_engine must load the
    # wheels' own copies first or later shapely/rasterio calls crash the process.
    import subprocess
    import sys

    script = f"""
from gis.db import make_engine
engine = make_engine("sqlite:///{tmp_path / 'order.sqlite'}")
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT spatialite_version()")
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin
assert shapely.contains_xy(shapely.box(0, 0, 1, 1), 0.5, 0.5)
with rasterio.open("{tmp_path / 'g.tif'}", "w", driver="GTiff", height=4, width=4, count=1,
                   dtype="float32", crs="EPSG:4326", transform=from_origin(116, 34, 0.1, 0.1)) as ds:
    ds.write(np.ones((1, 4, 4), dtype="float32"))
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
