"""Needs per community and per open shelter."""

from __future__ import annotations

import math

from stockpile import catalog
from stockpile.needs import compute_needs, people_quantity
from tests.stockpile.conftest import ADMIN


def _by_code(session, profile=None):
    return {d.code: d for d in compute_needs(session, profile)}


def test_reported_figures_are_used_where_an_officer_reported(relief_db):
    dest = _by_code(relief_db)["341302001202"]
    assert (dest.basis, dest.evacuated, dest.needing_aid) == ("reported", 100, 50)
    # china profile, 3 days: 3 L water per person per day for everyone counted.
    assert dest.needs["WATER"] == 3 * 150 * 3
    assert dest.needs["QUILT"] == 100
    assert dest.needs["TENT12"] == math.ceil(100 / 2.74)


def test_warned_communities_are_modelled_with_vulnerability(relief_db):
    dest = _by_code(relief_db)["341302001201"]
    # red: 5 % evacuated, 10 % needing aid, × (1 + 0.5 × 30 % vulnerable).
    assert dest.basis == "modelled" and dest.level == "red"
    assert dest.evacuated == round(10_000 * 1.15 * 0.05)
    assert dest.needing_aid == round(10_000 * 1.15 * 0.10)
    assert dest.priority == round(4.0 * 1.15, 2)


def test_open_shelter_occupants_are_served_at_the_shelter(relief_db):
    needs = _by_code(relief_db)
    assert needs["SH1"].kind == "shelter" and needs["SH1"].evacuated == 200
    assert needs["SH1"].needs["QUILT"] == 200
    # The host community has no report or warning: nothing left to serve there.
    assert "341302001203" not in needs


def test_orders_on_their_way_are_subtracted(relief_db):
    from stockpile import orders

    before = _by_code(relief_db)
    plan = orders.create_plan(relief_db, ADMIN)
    orders.approve_plan(relief_db, ADMIN, plan.id)
    after = _by_code(relief_db)
    sent: dict[tuple[str, str], int] = {}
    for order in orders.plan_dict(relief_db, plan)["orders"]:
        for line in order["lines"]:
            key = (order["destination"], line["item"])
            sent[key] = sent.get(key, 0) + line["quantity"]
    assert sent
    for (dest, item), qty in sent.items():
        assert after[dest].committed[item] == qty
        assert after[dest].needs.get(item, 0) == before[dest].needs[item] - qty


def test_profiles_change_the_norms(relief_db):
    inasafe = _by_code(relief_db, "inasafe")["341302001202"]
    assert inasafe.needs["RICE"] == math.ceil(2.8 * 100)  # per displaced person per week
    assert "FOOD" not in inasafe.needs


def test_people_quantity_per_household():
    norm = {"item": "TENT12", "per": "household", "quantity": 1, "applies_to": "evacuated"}
    assert people_quantity(norm, 10, 99, 3, 2.5) == 4
    assert people_quantity({**norm, "per": "person_week", "quantity": 7}, 2, 0, 3, 2.5) == 6


def test_admin_edits_a_profile_and_bad_norms_name_the_field(relief_db):
    import pytest

    from disaster.access import Actor, Role
    from gis.errors import PermissionDenied, ValidationError

    catalog.save_profile(relief_db, ADMIN, "china", norms=[
        {"item": "QUILT", "per": "person", "quantity": 2, "applies_to": "evacuated"}])
    assert _by_code(relief_db)["341302001202"].needs == {"QUILT": 200}
    with pytest.raises(ValidationError) as err:
        catalog.save_profile(relief_db, ADMIN, "china", norms=[
            {"item": "NOPE", "per": "person", "quantity": -1}])
    assert set(err.value.fields) == {"norms[0].item", "norms[0].quantity"}
    duty = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
    with pytest.raises(PermissionDenied):
        catalog.save_profile(relief_db, duty, "china", days=5)



def test_needs_of_a_lifted_warning_stay_while_its_event_is_open(session):
    """Estimates belong to the event: needs modelled at the peak outlive the warning until the
    duty officer closes the event."""
    from disaster.events import close_event, create_event
    from tests.disaster.assessment.factories import build_region
    from tests.disaster.assessment.test_event_peaks import DUTY, HOUR, RED, T0, evaluate

    catalog.ensure_items(session, ADMIN)
    code = build_region(session).communities[0]
    event = create_event(session, DUTY, hazard="rainstorm", started_at=T0, name="7·1暴雨")
    evaluate(session, T0 + HOUR, {code: RED}, {code: 220.0})
    at_peak = {d.code: d for d in compute_needs(session, source="model")}[code]
    assert at_peak.level == "red" and at_peak.evacuated > 0

    evaluate(session, T0 + 2 * HOUR, {code: None})  # the warning lifts
    lifted = {d.code: d for d in compute_needs(session, source="model")}
    assert lifted[code].level == "red" and lifted[code].evacuated == at_peak.evacuated

    close_event(session, DUTY, event.id, T0 + 3 * HOUR)
    assert code not in {d.code for d in compute_needs(session, source="model")}
