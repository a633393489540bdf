"""Evacuation orders: issuing a plan notifies each community's primary officer, who
acknowledges for their own communities only; shelter check-ins count against capacity."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from disaster.access import Actor, Role
from disaster.audit import AuditEntry
from disaster.notify.models import Notification
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters import evacuation, occupancy, orders
from shelters.errors import ShelterConflict, ShelterPermissionDenied, ShelterValidationError
from shelters.models import OccupancyChange, Shelter, ShelterStatus
from tests.web.browser import dataset

DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    """The browser dataset, an officer for the first township's communities, orange there."""
    data = dataset.load(session, per_side=2)
    township = data.township_codes[0]
    mine = [c for c in data.community_codes if c.startswith(township)]
    user = session.scalar(select(dataset.accounts.User).where(
        dataset.accounts.User.username == "officer"))
    officer = Officer(code="OF1", name="王信息员", phone="13800000000", user_id=user.id)
    session.add(officer)
    session.flush()
    for code in mine:
        session.add(OfficerAssignment(officer_id=officer.id, community_code=code,
                                      role=AssignmentRole.PRIMARY))
        set_level(session, code, Hazard.RAINSTORM, WarningLevel.ORANGE)
    other = next(c for c in data.community_codes if not c.startswith(township))
    set_level(session, other, Hazard.RAINSTORM, WarningLevel.ORANGE)
    session.flush()
    officer_actor = Actor(user_id=user.id, username="officer", role=Role.INFO_OFFICER,
                          scopes=frozenset({township}))
    return {"data": data, "mine": mine, "other": other, "officer": officer,
            "officer_actor": officer_actor}


def test_planned_communities_answer_for_every_community_with_names(session, world):
    plan = evacuation.plan_evacuation(session, DUTY)
    rows = orders.planned_communities(session, plan)
    assert {r["code"] for r in rows} == {g["community"] for g in plan["problem"]["groups"]}
    first = next(r for r in rows if r["code"] == world["mine"][0])
    assert first["township"] == "埇桥区第1镇"
    assert first["destinations"][0]["shelter_name"].endswith("避难场所")
    assert sum(d["people"] for d in first["destinations"]) + first["unassigned"] == first["people"]


def test_issuing_notifies_the_primary_officer_with_shelter_people_and_distance(session, world):
    plan = evacuation.plan_evacuation(session, DUTY)
    order = orders.issue_order(session, DUTY, {"plan_id": plan["id"]})
    notes = session.scalars(select(Notification).where(
        Notification.officer_id == world["officer"].id)).all()
    assert len(notes) == len(world["mine"])
    assert "避难场所" in notes[0].body and "公里" in notes[0].body and "人" in notes[0].body
    assert "/officer/evacuation#order-" in notes[0].body
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "evacuation.issue"))
    with pytest.raises(ShelterConflict):
        orders.issue_order(session, DUTY, {"plan_id": plan["id"]})
    view = orders.order_view(session, order)
    assert view["acknowledged"] == 0 and len(view["communities"]) == len(world["mine"]) + 1


def test_officer_acknowledges_own_communities_only(session, world):
    plan = evacuation.plan_evacuation(session, DUTY)
    order = orders.issue_order(session, DUTY, {"plan_id": plan["id"]})
    me = world["officer_actor"]
    orders.acknowledge(session, me, order.id, world["mine"][0])
    with pytest.raises(ShelterPermissionDenied):
        orders.acknowledge(session, me, order.id, world["other"])
    with pytest.raises(ShelterPermissionDenied):
        orders.acknowledge(session, DUTY, order.id, world["mine"][0])
    view = orders.order_view(session, order)
    done = [c for c in view["communities"] if c["acknowledged_at"]]
    assert [c["code"] for c in done] == [world["mine"][0]] and done[0]["acknowledged_by"]
    mine = orders.orders_for_officer(session, me)
    assert {c["code"] for c in mine[0]["communities"]} == set(world["mine"])


def test_info_officer_may_not_issue(session, world):
    plan = evacuation.plan_evacuation(session, DUTY)
    with pytest.raises(ShelterPermissionDenied):
        orders.issue_order(session, world["officer_actor"], {"plan_id": plan["id"]})


def test_check_ins_open_the_shelter_count_and_shrink_the_next_plan(session, world):
    code = world["data"].shelter_codes[0]
    before = evacuation.plan_evacuation(session, DUTY)["problem"]["shelters"]
    change = occupancy.record_movement(session, DUTY, code, {"kind": "arrival", "people": 400})
    shelter = session.scalar(select(Shelter).where(Shelter.code == code))
    assert shelter.status == ShelterStatus.OPEN and shelter.occupancy == 500
    assert change.actor_name == "duty" and change.occupancy_before == 100
    after = evacuation.plan_evacuation(session, DUTY)["problem"]["shelters"]
    free = {s["shelter"]: s["available"] for s in after}
    assert free[code] == shelter.capacity - 500
    assert {s["shelter"]: s["available"] for s in before}[code] == shelter.capacity - 100


def test_occupancy_never_goes_below_zero_nor_above_capacity(session, world):
    code = world["data"].shelter_codes[0]
    with pytest.raises(ShelterValidationError) as too_many:
        occupancy.record_movement(session, DUTY, code, {"kind": "arrival", "people": 901})
    assert set(too_many.value.fields) == {"people"}
    with pytest.raises(ShelterValidationError) as too_few:
        occupancy.record_movement(session, DUTY, code, {"kind": "departure", "people": 101})
    assert set(too_few.value.fields) == {"people"}
    with pytest.raises(ShelterValidationError) as zero:
        occupancy.record_movement(session, DUTY, code, {"kind": "departure", "people": 0})
    assert set(zero.value.fields) == {"people"}
    assert session.scalar(select(OccupancyChange.id)) is None


def test_info_officer_runs_the_shelter_of_own_community_only(session, world):
    mine, theirs = (session.scalar(select(Shelter).where(Shelter.code == c))
                    for c in world["data"].shelter_codes[:2])
    mine.community_code = world["mine"][0]
    theirs.community_code = world["other"]
    session.flush()
    me = world["officer_actor"]
    occupancy.record_movement(session, me, mine.code, {"kind": "arrival", "people": 5})
    with pytest.raises(ShelterPermissionDenied):
        occupancy.record_movement(session, me, theirs.code, {"kind": "arrival", "people": 5})
    assert [s["code"] for s in occupancy.shelters_for(session, me)] == [mine.code]
