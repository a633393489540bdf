"""The report schema behind ``clean_report``: bounds, types and stable field codes."""

from __future__ import annotations

import datetime as dt

import pytest

from disaster.reports.schemas import MAX_LOSS_10K_YUAN, MAX_PEOPLE
from disaster.reports.validation import clean_report

NOW = dt.datetime(2026, 7, 10, 6, 0, tzinfo=dt.UTC)


def data(**figures):  # type: ignore[no-untyped-def]
    return {"community": "341302001001", "kind": "initial", "hazard": "rainstorm",
            "occurred_at": "2026-07-10T08:30:00+08:00", **figures}


@pytest.mark.parametrize(("figures", "field", "code"), [
    ({"direct_loss_10k_yuan": 1e300}, "direct_loss_10k_yuan", "too_large"),
    ({"direct_loss_10k_yuan": float("inf")}, "direct_loss_10k_yuan", "type"),
    ({"direct_loss_10k_yuan": float("nan")}, "direct_loss_10k_yuan", "type"),
    ({"affected_people": 2**31}, "affected_people", "too_large"),
    ({"affected_people": 2**70}, "affected_people", "too_large"),
    ({"crop_lost_ha": 1e300}, "crop_lost_ha", "too_large"),
    ({"dead": True}, "dead", "invalid"),
    ({"notes": [None]}, "notes", "type"),
    ({"notes": "x" * 4001}, "notes", "too_long"),
    ({"notes": "a\x00b"}, "notes", "invalid"),
    ({"community": 341302001001}, "community", "type"),
    ({"event": [1]}, "event", "type"),
    ({"affected_people": -1}, "affected_people", "too_small"),
])
def test_figures_and_texts_out_of_bounds_are_named_with_a_stable_code(figures, field, code):
    _, errors = clean_report(data(**figures), NOW)
    assert field in errors, dict(errors)
    assert code in errors.codes[field]


def test_absent_and_empty_figures_are_a_zero_report():
    values, errors = clean_report(data(affected_people="", dead=None), NOW)
    assert not errors
    assert values["affected_people"] == 0 and values["dead"] == 0
    assert values["direct_loss_10k_yuan"] == 0.0


def test_figures_at_their_bounds_are_accepted():
    values, errors = clean_report(data(affected_people=MAX_PEOPLE, evacuated=MAX_PEOPLE,
                                       direct_loss_10k_yuan=MAX_LOSS_10K_YUAN), NOW)
    assert not errors, dict(errors)
    assert values["affected_people"] == MAX_PEOPLE


def test_consistency_rules_still_name_each_field():
    _, errors = clean_report(data(affected_people=10, dead=6, missing=5, needing_aid=11), NOW)
    assert {"dead", "missing", "needing_aid"} <= set(errors)
    assert errors.codes["dead"] == ["inconsistent"]


def test_a_list_is_not_a_report():
    _, errors = clean_report([1, 2], NOW)  # type: ignore[arg-type]
    assert "body" in errors


def test_event_may_be_an_id_or_a_code():
    values, errors = clean_report(data(event=12), NOW)
    assert not errors and values["event"] == "12"
