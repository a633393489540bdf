"""Revision 0012_report_review upgrades a database that already holds reports and photos
(they wait for review), and steps back down, on both backends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from gis.db import make_engine
from web.migrate import alembic_config, current_heads, upgrade


def _alembic(engine, verb: str, target: str) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def test_upgrade_keeps_reports_and_photos_and_sets_them_waiting(database_url):
    engine = make_engine(database_url)
    try:
        assert "0012_report_review" in current_heads(engine)
        _alembic(engine, "downgrade", "0012_report_review@0004_reports")
        assert "review_status" not in {c["name"] for c in inspect(engine).get_columns("reports")}
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO areas (code, name, level, generated) VALUES "
                "('341302', '埇桥区', 'county', false), ('341302001', '街道', 'township', false)"))
            conn.execute(text(
                "INSERT INTO communities (code, name, township_code, county_code, population, "
                "households, elderly, children, disabled, urban, generated) VALUES "
                "('341302001001', '村', '341302001', '341302', 1, 1, 0, 0, 0, false, false)"))
            conn.execute(text(
                "INSERT INTO events (code, name, hazard, status, started_at, area_codes, source, "
                "created_at) "
                "VALUES ('EV1', '暴雨', 'rainstorm', 'open', CURRENT_TIMESTAMP, '[]', 'report', "
                "CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO reports (event_id, community_code, kind, hazard, occurred_at, "
                "submitted_at, is_latest, affected_people, dead, missing, evacuated, needing_aid, "
                "collapsed_households, collapsed_rooms, severely_damaged_households, "
                "severely_damaged_rooms, generally_damaged_households, generally_damaged_rooms, "
                "crop_affected_ha, crop_damaged_ha, crop_lost_ha, direct_loss_10k_yuan) "
                "SELECT id, '341302001001', 'initial', 'rainstorm', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, true, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM events"))
            conn.execute(text(
                "INSERT INTO report_photos (report_id, content_type, width, height, size_bytes, "
                "sha256, data, created_at) SELECT id, 'image/png', 1, 1, 1, 'x', :d, "
                "CURRENT_TIMESTAMP FROM reports"), {"d": b"\x89"})
        upgrade(engine)
        assert "0012_report_review" in current_heads(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT review_status FROM reports")).scalar() == "pending"
            assert conn.execute(text("SELECT count(*) FROM report_photos")).scalar() == 1
        assert "report_reviews" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
