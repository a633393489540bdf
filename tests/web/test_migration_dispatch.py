"""Revision 0013_dispatch adds the plan's due hours and steps back down, on both backends,
keeping the plans and orders already stored."""

from __future__ import annotations

from sqlalchemy import inspect, text

from gis.db import make_engine
from tests.web.test_migration_user_notifications import _alembic, applied
from web.migrate import upgrade


def test_due_hours_column_comes_and_goes_without_losing_plans(database_url):
    engine = make_engine(database_url)
    try:
        assert "0013_dispatch" in applied(engine)
        _alembic(engine, "downgrade", "0009_stock_notices")
        assert "due_hours" not in {c["name"] for c in inspect(engine).get_columns("dispatch_plans")}
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO dispatch_plans (status, created_at, created_by, solver, objective, "
                "solve_seconds, problem, unmet) VALUES ('draft', CURRENT_TIMESTAMP, 'duty', "
                "'test', 0, 0, '{}', '[]')"))
        upgrade(engine)
        assert "0013_dispatch" in applied(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT created_by, due_hours FROM dispatch_plans")).one()
        assert row.created_by == "duty" and row.due_hours is None
    finally:
        engine.dispose()
