"""Replaying a heavy-rain sequence hour by hour gives every community its CMA peak level."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from sqlalchemy import func, select

from disaster.warnings.alerts import alert_dicts
from disaster.warnings.levels import Hazard
from disaster.warnings.models import Alert
from disaster.warnings.service import ingest_and_evaluate
from disaster.warnings.state import CommunityWarning, current_levels
from tests.disaster.warnings import world

RANK = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
RAIN_HOURS = 14


@pytest.fixture
def replayed(session, tmp_path):
    world.build(session)
    rain = world.rain_sequence(RAIN_HOURS)
    dry = np.zeros((12, *world.GRID_SHAPE), dtype=np.float32)
    values = np.concatenate([rain, dry])
    world.write_series(tmp_path / "grids", values)
    report, counts = ingest_and_evaluate(session, "grid-files", str(tmp_path / "grids"),
                                         now=world.START + dt.timedelta(days=2), replay=True)
    return values, report, counts, tmp_path / "grids"


def test_replay_gives_every_community_the_cma_peak_level(session, replayed):
    values, report, counts, _ = replayed
    assert report.stored == values.shape[0] and not report.errors
    seen: dict[str, int] = {}
    for a in alert_dicts(session):
        if a["msg_type"] != "Cancel" and a["hazard"] == "rainstorm":
            for code in a["communities"]:
                seen[code] = max(seen.get(code, 0), RANK[a["level"]])
    expected = world.reference_peak_levels(values)
    assert {c: seen.get(c, 0) for c in expected} == expected
    # The storm is strong enough to exercise every level.
    assert set(expected.values()) >= {1, 2, 3, 4}
    assert counts["issued"] > 0 and counts["updated"] > 0 and counts["cancelled"] > 0


def test_parallel_evaluation_gives_the_same_levels(session, tmp_path, monkeypatch):
    from disaster.warnings import engine

    monkeypatch.setattr(engine, "PARALLEL_CELLS", 1)  # split even this small grid
    engine.LABELS.clear()
    world.build(session)
    values = world.rain_sequence(8, seed=11)
    world.write_series(tmp_path / "g", values)
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"),
                        now=world.START + dt.timedelta(days=1), replay=True)
    seen: dict[str, int] = {}
    for a in alert_dicts(session):
        if a["msg_type"] != "Cancel":
            for code in a["communities"]:
                seen[code] = max(seen.get(code, 0), RANK[a["level"]])
    expected = world.reference_peak_levels(values)
    assert {c: seen.get(c, 0) for c in expected} == expected


def test_twelve_dry_hours_later_no_rainstorm_warning_is_active(session, replayed):
    assert not [a for a in alert_dicts(session, active_only=True) if a["hazard"] == "rainstorm"]
    assert not any(Hazard.RAINSTORM in by_h for by_h in current_levels(session).values())


def test_second_replay_issues_nothing(session, replayed):
    _, _, _, folder = replayed
    before = session.scalar(select(func.count(Alert.id)))
    report, counts = ingest_and_evaluate(session, "grid-files", str(folder),
                                         now=world.START + dt.timedelta(days=2), replay=True)
    assert counts == {"issued": 0, "updated": 0, "cancelled": 0}
    assert report.stored == 0 and report.unchanged == 26
    assert session.scalar(select(func.count(Alert.id))) == before


def test_level_changes_are_updates_referencing_the_earlier_message(session, replayed):
    by_identifier = {a["identifier"]: a for a in alert_dicts(session)}
    updates = [a for a in by_identifier.values() if a["msg_type"] == "Update"]
    assert updates
    for u in updates:
        assert u["references"], u
        for ref in u["references"]:
            earlier = by_identifier[ref]
            assert earlier["sent"] < u["sent"] and earlier["status"] in ("updated", "cancelled")
            assert set(earlier["communities"]) & set(u["communities"]) or earlier["level"] == u["level"]
    for c in (a for a in by_identifier.values() if a["msg_type"] == "Cancel"):
        assert len(c["references"]) == 1 and by_identifier[c["references"][0]]["status"] == "cancelled"


def test_identifiers_follow_gb_t_35965_1(session, replayed):
    idents = [a["identifier"] for a in alert_dicts(session)]
    assert len(idents) == len(set(idents))
    for ident in idents:
        assert re.fullmatch(r"34(1302|1321)\d{8}_\d{14}_\d", ident), ident


def test_community_state_has_one_row_per_community_while_met(session, tmp_path):
    world.build(session)
    heavy = np.full((3, *world.GRID_SHAPE), 40.0, dtype=np.float32)  # 120 mm in 3 h: red
    world.write_series(tmp_path / "g", heavy)
    _, counts = ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"),
                                    now=world.START + dt.timedelta(hours=3))
    assert counts["issued"] == 2  # one red message per county
    rows = session.scalars(select(CommunityWarning)).all()
    assert len(rows) == 25 and {r.level.value for r in rows} == {"red"}
    active = {a["id"]: a for a in alert_dicts(session, active_only=True)}
    for r in rows:
        assert r.community_code in active[r.alert_id]["communities"]
        assert r.peak_value == pytest.approx(120.0)
