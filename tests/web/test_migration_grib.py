"""Revision 0018_grib adds ``weather_grid_origins``, ``alert_certainties`` and
``impact_matrices`` and steps back down on both backends."""

from __future__ import annotations

from sqlalchemy import inspect

from gis.db import make_engine
from tests.web.test_migration_user_notifications import _alembic, applied
from web.migrate import upgrade


def test_grid_origins_table_comes_and_goes_with_its_revision(database_url):
    engine = make_engine(database_url)
    try:
        assert "0018_grib" in applied(engine)
        _alembic(engine, "downgrade", "0010_acks")
        ours = {"weather_grid_origins", "alert_certainties", "impact_matrices"}
        assert not ours & set(inspect(engine).get_table_names())
        assert "0010_acks" in applied(engine) and "0018_grib" not in applied(engine)
        upgrade(engine)
        tables = inspect(engine).get_table_names()
        assert ours <= set(tables)
    finally:
        engine.dispose()
