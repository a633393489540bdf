"""Revisions 0008_user_notifications and 0009_stock_notices upgrade a database that already
holds officers' notifications, and step back down, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from gis.db import make_engine
from web.migrate import alembic_config, current_heads, upgrade

MINE = {"0008_user_notifications", "0009_stock_notices"}


def _alembic(engine, verb: str, target: str) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def applied(engine) -> set[str]:  # type: ignore[no-untyped-def]
    """Every revision the database is at or past (later revisions may build on ours)."""
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(
        hide_password=False)))
    return {r.revision for r in script.iterate_revisions(sorted(current_heads(engine)), "base")}


def test_upgrade_keeps_officer_notifications_and_their_deliveries(database_url):
    engine = make_engine(database_url)
    try:
        assert applied(engine) >= MINE
        _alembic(engine, "downgrade", "0003_warnings")
        _alembic(engine, "downgrade", "0005_stock")
        assert not MINE & applied(engine)
        assert "user_id" not in {c["name"] for c in inspect(engine).get_columns("notifications")}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO officers (code, name, active, generated) "
                              "VALUES ('OF-M', '信息员', true, false)"))
            conn.execute(text(
                "INSERT INTO notifications (officer_id, kind, subject, body, token, created_at) "
                "SELECT id, 'alert', '预警', '请叫应', 'tok-m', CURRENT_TIMESTAMP FROM officers "
                "WHERE code = 'OF-M'"))
            conn.execute(text(
                "INSERT INTO deliveries (notification_id, channel, state, attempts, updated_at) "
                "SELECT id, 'inbox', 'delivered', 0, CURRENT_TIMESTAMP FROM notifications"))
        upgrade(engine)
        assert applied(engine) >= MINE
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar() == 1
            row = conn.execute(text("SELECT officer_id, user_id FROM notifications")).one()
            assert row.officer_id is not None and row.user_id is None
        assert "stock_warning_notices" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
