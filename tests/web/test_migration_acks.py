"""Revision 0010_acks upgrades a database in the middle of a storm: the acknowledgements of
messages in force become community acknowledgements, so nobody is asked again; it steps back
down on both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.models import Acknowledgement, Alert, AlertStatus, MsgType
from disaster.warnings.state import CommunityWarning
from gis.db import make_engine
from tests.disaster.warnings import world
from tests.web.test_migration_user_notifications import _alembic
from web.migrate import current_heads, upgrade

NOW = dt.datetime(2026, 7, 10, 2, tzinfo=dt.UTC)
# 0010_acks or a revision built on it (0019_delivery_workers)
AT_OR_AFTER_ACKS = {"0010_acks", "0019_delivery_workers"}
A, B = "341302001200", "341302001201"


def _storm(engine) -> int:  # type: ignore[no-untyped-def]
    """A yellow warning over A and B, acknowledged by A's officer; returns that officer."""
    with Session(engine) as s:
        primaries = world.build(s)
        alert = Alert(identifier="341300000000000_20260710100000_0", sender="test", sent=NOW,
                      msg_type=MsgType.UPDATE, status=AlertStatus.ACTIVE, hazard=Hazard.RAINSTORM,
                      level=WarningLevel.YELLOW, county_code="341302", communities=[A, B],
                      references=[], expires=NOW + dt.timedelta(hours=24), evaluated_at=NOW,
                      headline="更新暴雨黄色预警", description="…")
        s.add(alert)
        s.flush()
        for code in (A, B):
            s.add(CommunityWarning(community_code=code, hazard=Hazard.RAINSTORM,
                                   level=WarningLevel.YELLOW, alert_id=alert.id, since=NOW))
        s.add(Acknowledgement(alert_id=alert.id, officer_id=primaries[A], via="link", at=NOW))
        s.commit()
        return primaries[A]


def test_upgrade_carries_acknowledgements_of_messages_in_force(database_url):
    engine = make_engine(database_url)
    try:
        assert current_heads(engine) & AT_OR_AFTER_ACKS
        _alembic(engine, "downgrade", "0008_user_notifications")
        tables = inspect(engine).get_table_names()
        assert "community_acks" not in tables and "event_peaks" not in tables
        officer = _storm(engine)
        upgrade(engine)
        assert current_heads(engine) & AT_OR_AFTER_ACKS
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT community_code, hazard, level, officer_id, via "
                                     "FROM community_acks")).all()
        assert [tuple(r) for r in rows] == [(A, "rainstorm", "yellow", officer, "link")]
        _alembic(engine, "downgrade", "0008_user_notifications")
        assert "community_acks" not in inspect(engine).get_table_names()
        upgrade(engine)
    finally:
        engine.dispose()
