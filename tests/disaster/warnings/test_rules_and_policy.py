"""Thresholds are data the administrator tunes; approval policy; every hazard of DESIGN §4.1."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from disaster.access import SYSTEM, Actor, Role
from disaster.errors import DisasterPermissionDenied, DisasterValidationError
from disaster.events import DisasterEvent
from disaster.notify.models import Notification
from disaster.warnings import alerts, rules
from disaster.warnings.models import Alert, WarningRule
from disaster.warnings.service import evaluate, ingest_and_evaluate
from disaster.warnings.state import current_levels
from tests.disaster.warnings import world

T3 = world.START + dt.timedelta(hours=3)


def _uniform(tmp_path, variable: str, hourly: list[float], name: str = "g"):
    values = np.stack([np.full(world.GRID_SHAPE, v, np.float32) for v in hourly])
    world.write_series(tmp_path / name, values, variable=variable)
    return tmp_path / name


def _levels(session, hazard: str) -> set[str]:
    return {by_h[hazard].value for by_h in current_levels(session).values() if hazard in by_h}


def test_defaults_are_the_cma_table_and_the_admin_can_tune_them(session, tmp_path):
    world.build(session)
    table = rules.rule_dicts(session)
    red = next(r for r in table if r["hazard"] == "rainstorm" and r["level"] == "red")
    assert (red["window_hours"], red["threshold"]) == (3, 100.0)
    with pytest.raises(DisasterPermissionDenied):
        rules.update_rule(session, Actor(1, "duty", Role.DUTY_OFFICER), red["id"], threshold=80)
    with pytest.raises(DisasterValidationError) as err:
        rules.update_rule(session, SYSTEM, red["id"], window_hours=0)
    assert "window_hours" in err.value.fields
    rules.update_rule(session, SYSTEM, red["id"], threshold=80)
    ingest_and_evaluate(session, "grid-files", str(_uniform(tmp_path, "precip_mm", [30, 30, 30])), now=T3)
    assert _levels(session, "rainstorm") == {"red"}  # 90 mm in 3 h is red under the tuned rule


@pytest.mark.parametrize(("variable", "hourly", "hazard", "level"), [
    ("wind_ms", [11.0] * 3, "gale", "blue"),               # mean force 6
    ("gust_ms", [29.0] * 3, "gale", "orange"),             # gust force 11 within 6 h
    ("snow_mm", [3.5, 3.5, 3.5], "snowstorm", "orange"),   # 10.5 mm in 6 h
    ("visibility_m", [800, 150, 300], "fog", "orange"),    # < 200 m
    ("tmax_c", [38.0, 39.0, 37.5], "heat", "orange"),      # ≥ 37 ℃
    ("tmin_c", [1.0, -4.0, -2.0], "frost", "yellow"),      # ≤ −3 ℃
])
def test_every_hazard_follows_its_cma_criterion(session, tmp_path, variable, hourly, hazard, level):
    world.build(session)
    ingest_and_evaluate(session, "grid-files", str(_uniform(tmp_path, variable, hourly)), now=T3)
    assert _levels(session, hazard) == {level}


def test_cold_wave_needs_the_drop_the_end_value_and_the_wind(session, tmp_path):
    world.build(session)
    temps = [14.0] * 12 + [10.0] * 6 + [2.0] * 6            # falls 12 ℃ within 24 h to 2 ℃
    _uniform(tmp_path, "tmin_c", temps)
    now = world.START + dt.timedelta(hours=24)
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"), now=now)
    assert _levels(session, "cold_wave") == set()             # no wind data: criterion unmet
    _uniform(tmp_path, "wind_ms", [11.5] * 24, name="g")      # force 6 wind
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"), now=now)
    assert _levels(session, "cold_wave") == {"yellow"}        # ≥10 ℃ to ≤4 ℃ with force 6
    assert _levels(session, "frost") == set()


def test_heat_yellow_needs_three_consecutive_hot_days(session, tmp_path):
    world.build(session)
    days = ([30.0] * 12 + [35.5] * 12) * 3                    # each day peaks at 35.5 ℃
    _uniform(tmp_path, "tmax_c", days)
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"), now=world.START + dt.timedelta(hours=72))
    assert _levels(session, "heat") == {"yellow"}


def test_approval_policy_holds_the_alert_until_approved_or_the_deadline(session, tmp_path):
    world.build(session)
    rules.set_policy(session, SYSTEM, "red", requires_approval=True, approval_deadline_minutes=10)
    ingest_and_evaluate(session, "grid-files", str(_uniform(tmp_path, "precip_mm", [40, 40, 40])), now=T3)
    pending = session.scalars(select(Alert)).all()
    assert {a.status.value for a in pending} == {"pending"}
    assert session.scalar(select(Notification.id)) is None    # nobody told yet
    assert _levels(session, "rainstorm") == {"red"}           # but the level is met
    approved = alerts.approve(session, Actor(None, "duty", Role.DUTY_OFFICER), pending[0].id, now=T3)
    assert approved.status.value == "active" and approved.approval == "approved"
    evaluate(session, T3 + dt.timedelta(minutes=10))          # deadline passes for the other
    statuses = {a.approval for a in session.scalars(select(Alert))}
    assert statuses == {"approved", "deadline"}
    assert session.scalar(select(Notification.id)) is not None


def test_orange_or_red_warning_opens_a_disaster_event(session, tmp_path):
    world.build(session)
    ingest_and_evaluate(session, "grid-files", str(_uniform(tmp_path, "precip_mm", [20, 20, 20])), now=T3)
    event = session.scalars(select(DisasterEvent)).one()
    assert event.source == "warning" and event.hazard.value == "rainstorm"
    assert {"341302", "341321"} <= set(event.area_codes)
    assert all(a.event_id == event.id for a in session.scalars(select(Alert)))


def test_rules_table_is_seeded_once(session):
    rules.ensure_defaults(session)
    n = len(session.scalars(select(WarningRule)).all())
    rules.ensure_defaults(session)
    assert n == len(rules.DEFAULT_RULES) == len(session.scalars(select(WarningRule)).all())
