"""Roll-ups from each community's latest report; response level from thresholds as data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from disaster.errors import DisasterPermissionDenied, DisasterValidationError
from disaster.reports.rollup import export_csv, rollup, set_threshold, suggest_response_level
from disaster.reports.services import submit_report
from tests.disaster.reports.factories import TOWNSHIPS

NOW = dt.datetime(2026, 7, 10, 2, 0, tzinfo=dt.UTC)


def file(session, actor, code, kind="initial", **figures):  # type: ignore[no-untyped-def]
    submit_report(session, actor, {"community": code, "kind": kind, "hazard": "rainstorm",
                                   "occurred_at": "2026-07-10T08:00:00+08:00", **figures},
                  now=NOW)


def test_totals_use_only_the_latest_report_of_each_community(session, region):
    c = region.communities
    file(session, region.duty, c[0], affected_people=100, evacuated=40, crop_affected_ha=2.5)
    file(session, region.duty, c[0], "update", affected_people=120, evacuated=50,
         crop_affected_ha=3.0)
    file(session, region.duty, c[1], affected_people=30, dead=1)
    file(session, region.duty, c[3], affected_people=7)
    data = rollup(session)
    by_code = {r["code"]: r for r in data["townships"]}
    first = by_code[TOWNSHIPS[0]]
    assert first["affected_people"] == 150 and first["evacuated"] == 50
    assert first["crop_affected_ha"] == 3.0 and first["communities_reported"] == 2
    assert first["name"] == "埇桥街道"
    assert by_code[TOWNSHIPS[1]]["affected_people"] == 7
    [county] = data["counties"]
    assert county["affected_people"] == 157 and county["dead"] == 1
    assert data["totals"]["code"] == "341300" and data["totals"]["affected_people"] == 157


def test_response_level_follows_the_thresholds(session, region):
    assert suggest_response_level(session, {"dead": 0})["level"] is None
    # City defaults: IV at 1 dead or missing; national IV at 20.
    assert suggest_response_level(session, {"dead": 1}, "city")["level"] == "IV"
    assert suggest_response_level(session, {"dead": 1}, "national")["level"] is None
    national = suggest_response_level(session, {"dead": 150, "missing": 60}, "national")
    assert national["level"] == "I"
    assert national["reasons"][0]["indicator"] == "dead_missing"
    houses = suggest_response_level(
        session, {"collapsed_households": 20_000, "severely_damaged_households": 15_000},
        "national")
    assert houses["level"] == "III"  # 35,000 households ≥ 30,000


def test_administrator_edits_city_thresholds(session, region):
    set_threshold(session, region.admin, "city", "IV", "dead_missing", 2)
    assert suggest_response_level(session, {"dead": 1}, "city")["level"] is None
    with pytest.raises(DisasterValidationError):
        set_threshold(session, region.admin, "city", "IV", "dead_missing", 1_000)  # above III
    with pytest.raises(DisasterPermissionDenied):
        set_threshold(session, region.duty, "city", "IV", "dead_missing", 2)


def test_csv_lists_every_township_with_the_standard_indicators(session, region):
    file(session, region.duty, region.communities[0], affected_people=12)
    rows = list(csv.DictReader(io.StringIO(export_csv(session))))
    assert [r["township_code"] for r in rows] == [*TOWNSHIPS, "341300"]
    assert rows[0]["affected_people"] == "12" and rows[1]["affected_people"] == "0"
    assert "crop_lost_ha" in rows[0] and "direct_loss_10k_yuan" in rows[0]


def test_latest_reports_of_several_events_add_up_and_count_each_community_once(session, region):
    from disaster.events import create_event

    c = region.communities
    first = create_event(session, region.duty, hazard="rainstorm", area_codes=[c[0]])
    second = create_event(session, region.duty, hazard="gale", area_codes=[c[0]])
    file(session, region.duty, c[0], affected_people=10, event=first.id)
    submit_report(session, region.duty, {"community": c[0], "kind": "initial", "hazard": "gale",
                                         "occurred_at": "2026-07-10T08:00:00+08:00",
                                         "affected_people": 4, "event": second.id}, now=NOW)
    totals = rollup(session)["totals"]
    assert totals["affected_people"] == 14 and totals["communities_reported"] == 1
    only_first = rollup(session, event=first.id)["totals"]
    assert only_first["affected_people"] == 10


def test_rolled_up_sums_beyond_32_bits_do_not_overflow(session, region):
    from sqlalchemy import update

    from disaster.reports.models import INDICATORS, Report
    from disaster.reports.schemas import MAX_LOSS_10K_YUAN, MAX_PEOPLE

    file(session, region.duty, region.communities[0], affected_people=1)
    first = session.scalars(select_reports()).one()
    session.execute(update(Report).values(affected_people=MAX_PEOPLE, dead=MAX_PEOPLE,
                                          direct_loss_10k_yuan=MAX_LOSS_10K_YUAN))
    session.refresh(first)
    # 300 latest reports at the bound: 3 × 10⁹ people, beyond a 32-bit integer.
    for _ in range(299):
        session.add(Report(event_id=first.event_id, community_code=first.community_code,
                           kind=first.kind, hazard=first.hazard, occurred_at=first.occurred_at,
                           submitted_at=first.submitted_at, is_latest=True,
                           **{name: getattr(first, name) for name in INDICATORS}))
    session.flush()
    totals = rollup(session, first.event_id)["totals"]
    assert totals["affected_people"] == 300 * MAX_PEOPLE
    assert totals["direct_loss_10k_yuan"] == pytest.approx(300 * MAX_LOSS_10K_YUAN)


def select_reports():  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from disaster.reports.models import Report

    return select(Report)
