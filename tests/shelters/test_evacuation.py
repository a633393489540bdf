"""Evacuation plans from the database: people at risk, safe shelters only, stored plans."""

from __future__ import annotations

import datetime as dt

import pytest

from disaster.access import Actor, Role, cli_actor
from disaster.events import DisasterEvent
from disaster.reports.models import Report, ReportKind
from disaster.warnings.levels import Hazard
from shelters import evacuation, services
from shelters.errors import ShelterPermissionDenied, ShelterValidationError
from tests.shelters.conftest import community_centre, community_code

DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
INFO = Actor(user_id=None, username="officer", role=Role.INFO_OFFICER)
CONTRACT_KEYS = {"id", "assignments", "unassigned", "problem", "objective"}


def _report_evacuated(session, code: str, people: int) -> None:
    now = dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC)
    event = DisasterEvent(code=f"EV{code}", name="暴雨", hazard=Hazard.RAINSTORM, started_at=now)
    session.add(event)
    session.flush()
    session.add(Report(event_id=event.id, community_code=code, kind=ReportKind.INITIAL,
                       hazard=Hazard.RAINSTORM, occurred_at=now, evacuated=people))
    session.flush()


def test_people_at_risk_follow_the_rates_minus_those_evacuated(warn, city):
    warn(community_code(1, 1), "red")
    warn(community_code(2, 1), "orange")
    warn(community_code(2, 2), "yellow")
    _report_evacuated(city, community_code(1, 1), 50)
    groups = {g.community: g for g in evacuation.people_at_risk(city)}
    # Default rates: red 20 %, orange 5 %, yellow 0 of 1,000 people (250 vulnerable).
    assert groups[community_code(1, 1)].people == 200 - 50
    assert groups[community_code(1, 1)].vulnerable == 200 - 50
    assert groups[community_code(2, 1)].people == 50
    assert groups[community_code(2, 1)].vulnerable == 50
    assert community_code(2, 2) not in groups


def test_rates_are_data_per_hazard(warn, city):
    warn(community_code(1, 1), "orange", "gale")
    evacuation.set_rates(city, cli_actor(), {"*": {"orange": 0.05, "red": 0.2},
                                            "gale": {"orange": 0.5}})
    assert evacuation.people_at_risk(city)[0].people == 500
    with pytest.raises(ShelterValidationError) as err:
        evacuation.set_rates(city, cli_actor(), {"gale": {"orange": 1.5}})
    assert "rates.gale.orange" in err.value.fields


def test_plan_uses_only_safe_open_or_standby_shelters(add_shelter, warn, city):
    warn(community_code(1, 1), "red")
    warn(community_code(3, 2), "orange")
    in_red = add_shelter(*community_centre(1, 1), capacity=500)
    in_flood_zone = add_shelter(117.32, 33.70, capacity=500)
    closed = add_shelter(*community_centre(2, 1), capacity=500, status="closed")
    safe = add_shelter(*community_centre(2, 2), capacity=60)
    standby = add_shelter(*community_centre(1, 2), capacity=500)
    services.set_status(city, DUTY, safe.code, "open")
    plan = evacuation.plan_evacuation(city, DUTY)
    offered = {s["shelter"] for s in plan["problem"]["shelters"]}
    assert offered == {safe.code, standby.code}
    assert {in_red.code, in_flood_zone.code} <= set(plan["excluded_unsafe"])
    assert closed.code not in offered
    used = {a["shelter"] for a in plan["assignments"]}
    assert used <= offered and in_red.code not in used
    assert set(plan) >= CONTRACT_KEYS
    assert set(plan["problem"]) == {"groups", "shelters", "costs", "unassigned_penalty"}
    # 200 (red) + 50 (orange) people at risk, 560 places: everyone is placed.
    assert sum(a["people"] for a in plan["assignments"]) == 250 and plan["unassigned"] == []


def test_red_warning_shelters_are_never_used_even_if_rules_are_removed(add_shelter, warn, city):
    warn(community_code(1, 1), "red")
    in_red = add_shelter(*community_centre(1, 1), capacity=500, status="open")
    services.set_setting(city, cli_actor(), "safety_rules", [])
    plan = evacuation.plan_evacuation(city, DUTY)
    assert in_red.code not in {s["shelter"] for s in plan["problem"]["shelters"]}
    assert plan["unassigned"] == [{"community": community_code(1, 1), "people": 200,
                                   "vulnerable": 200}]


def test_free_places_account_for_people_already_inside(add_shelter, warn, city):
    warn(community_code(1, 1), "red")
    shelter = add_shelter(*community_centre(2, 1), capacity=150, status="open")
    services.record_arrivals(city, DUTY, shelter.code, 100)
    plan = evacuation.plan_evacuation(city, DUTY, penalty_km=100)
    assert plan["problem"]["shelters"] == [{"shelter": shelter.code, "available": 50}]
    assert plan["assignments"][0]["people"] == 50
    assert plan["unassigned"][0]["people"] == 150
    assert plan["objective"] == pytest.approx(
        50 * plan["assignments"][0]["distance_km"] + 100 * 150)


def test_plans_are_stored_and_give_each_community_its_destinations(add_shelter, warn, city):
    warn(community_code(1, 1), "red")
    shelter = add_shelter(*community_centre(2, 1), capacity=500, status="open")
    plan = evacuation.plan_evacuation(city, DUTY)
    assert evacuation.get_plan(city, plan["id"]) == plan
    assert evacuation.latest_plan_id(city) == plan["id"]
    where = evacuation.community_destinations(plan, community_code(1, 1))
    assert where["destinations"][0]["shelter"] == shelter.code
    assert where["destinations"][0]["people"] == 200 and where["unassigned"] == 0


def test_info_officers_may_not_plan(city):
    with pytest.raises(ShelterPermissionDenied):
        evacuation.plan_evacuation(city, INFO)


def test_bad_penalty_is_refused(city):
    with pytest.raises(ShelterValidationError) as err:
        evacuation.plan_evacuation(city, DUTY, penalty_km=-3)
    assert "unassigned_penalty" in err.value.fields


def test_plan_uses_road_distances_when_a_network_is_loaded(add_shelter, warn, city):
    from geoalchemy2.shape import from_shape
    from shapely.geometry import LineString

    from stockpile.dispatch_models import RoadSegment  # the imported road network

    warn(community_code(1, 1), "red")
    shelter = add_shelter(*community_centre(2, 1), capacity=500, status="open")
    straight = evacuation.plan_evacuation(city, DUTY)
    # A road that detours north before reaching the shelter.
    (x0, y0), (x1, y1) = community_centre(1, 1), community_centre(2, 1)
    road = LineString([(x0, y0), (x0, y0 + 0.05), (x1, y1 + 0.05), (x1, y1)])
    city.add(RoadSegment(geom=from_shape(road, srid=4326), length_km=21.0))
    city.flush()
    by_road = evacuation.plan_evacuation(city, DUTY)
    assert straight["distance_mode"] == "great_circle" and by_road["distance_mode"] == "road"
    assert by_road["assignments"][0]["shelter"] == shelter.code
    assert by_road["assignments"][0]["distance_km"] > straight["assignments"][0]["distance_km"] + 9
