"""Estimates belong to the event: while it is open, each community keeps its peak modelled
impact and its place on the silent list, however the warnings lift; closing it ends that."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from disaster.access import Actor, Role
from disaster.assessment.service import assessment_document, run_assessment
from disaster.event_impact import EventPeak
from disaster.events import close_event, create_event
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import current_levels
from tests.disaster.assessment.factories import build_region, report

DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
T0 = dt.datetime(2026, 7, 1, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
RED, ORANGE, YELLOW = WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW


def evaluate(session, at, levels, peaks=None, hazard=Hazard.RAINSTORM):
    """One run of the warning lifecycle (as the engine's evaluation applies it)."""
    peaks = peaks or {}
    desired = alerts_mod.Desired(levels, peaks, {c: "precip_mm_3h" for c in peaks})
    return alerts_mod.apply_levels(session, {hazard: desired}, at)


def figures(session, event_id=None):
    doc = assessment_document(run_assessment(session, event_id=event_id))
    return {r["code"]: r["modelled"] for r in doc["communities"]}, doc["silent"]


def test_lifting_warnings_keeps_the_events_peak_figures_and_chase_list(session):
    codes = build_region(session).communities
    event = create_event(session, DUTY, hazard="rainstorm", started_at=T0, name="7·1暴雨")
    evaluate(session, T0 + HOUR, {codes[0]: RED, codes[1]: ORANGE}, {codes[0]: 220.0})
    report(session, event, codes[1], affected_people=50)
    at_peak, silent_at_peak = figures(session)
    assert at_peak[codes[0]]["affected_people"] > 0 and codes[0] in silent_at_peak
    assert codes[1] not in silent_at_peak  # it reported

    evaluate(session, T0 + 2 * HOUR, {codes[0]: YELLOW, codes[1]: None}, {codes[0]: 60.0})
    evaluate(session, T0 + 3 * HOUR, {codes[0]: None})
    assert current_levels(session) == {}  # every warning lifted
    lifted, silent = figures(session)
    assert lifted[codes[0]] == at_peak[codes[0]] and lifted[codes[1]] == at_peak[codes[1]]
    assert silent == silent_at_peak
    by_event, silent_by_event = figures(session, event.id)
    assert by_event[codes[0]] == at_peak[codes[0]] and silent_by_event == silent_at_peak
    peak = session.scalar(select(EventPeak).where(EventPeak.community_code == codes[0]))
    assert (peak.level, peak.peak_value) == (RED, 220.0)

    close_event(session, DUTY, event.id, T0 + 4 * HOUR)
    closed, silent_closed = figures(session)
    assert closed[codes[0]]["affected_people"] == 0 and silent_closed == []


def test_an_event_opened_during_a_warning_holds_it_from_its_start(session):
    codes = build_region(session).communities
    evaluate(session, T0, {codes[2]: ORANGE})
    # An orange warning opens a warning event of its own; close it to see a manual one hold.
    for ev in session.scalars(select(EventPeak.event_id).distinct()):
        close_event(session, DUTY, ev, T0 + HOUR)
    event = create_event(session, DUTY, hazard="rainstorm", started_at=T0 + HOUR,
                         area_codes=["341302"])
    evaluate(session, T0 + 2 * HOUR, {codes[2]: None})
    held = {p.community_code: p.level for p in session.scalars(
        select(EventPeak).where(EventPeak.event_id == event.id))}
    assert held == {codes[2]: ORANGE}
    assert figures(session)[0][codes[2]]["affected_people"] > 0


def test_an_event_holds_only_its_hazard_within_its_area(session):
    codes = build_region(session).communities
    outside = next(c for c in codes if c.startswith("341322"))
    event = create_event(session, DUTY, hazard="rainstorm", started_at=T0, area_codes=["341302"])
    evaluate(session, T0 + HOUR, {codes[0]: YELLOW, outside: YELLOW})
    evaluate(session, T0 + HOUR, {codes[1]: YELLOW}, hazard=Hazard.GALE)
    held = {(p.community_code, p.hazard) for p in session.scalars(
        select(EventPeak).where(EventPeak.event_id == event.id))}
    assert held == {(codes[0], Hazard.RAINSTORM)}
