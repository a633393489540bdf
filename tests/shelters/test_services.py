"""Shelter registry and occupancy: capacity, status, arrivals and departures, bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from sqlalchemy import select

from disaster.access import Actor, Role, cli_actor
from disaster.audit import AuditEntry
from shelters import services
from shelters.errors import (
    ShelterConflict,
    ShelterNotFound,
    ShelterPermissionDenied,
    ShelterValidationError,
)
from shelters.models import OccupancyChange, Shelter, ShelterStatus

DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
INFO = Actor(user_id=None, username="officer", role=Role.INFO_OFFICER, scopes=frozenset({"341302"}))


def _count(session, model) -> int:
    return len(session.scalars(select(model)).all())


def test_capacity_is_derived_from_area_at_one_and_a_half_square_metres(add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=None, area_m2=1500.0)
    assert shelter.capacity == 1000


def test_capacity_follows_a_custom_per_person_norm(add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=None, area_m2=1000.0, area_per_person_m2=2.0)
    assert shelter.capacity == 500


def test_explicit_capacity_wins_over_area(add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=300, area_m2=1500.0)
    assert shelter.capacity == 300


def test_negative_capacity_is_refused_and_nothing_changes(city, add_shelter):
    with pytest.raises(ShelterValidationError) as err:
        add_shelter(117.05, 33.55, capacity=-5)
    assert "capacity" in err.value.fields
    assert _count(city, Shelter) == 0


def test_shelter_outside_the_city_is_refused(city, add_shelter):
    with pytest.raises(ShelterValidationError) as err:
        add_shelter(118.5, 33.55)
    assert err.value.fields == {"geometry": ["outside all county areas of the city"]}
    assert _count(city, Shelter) == 0


def test_unknown_status_is_refused_and_nothing_changes(city, add_shelter):
    shelter = add_shelter(117.05, 33.55)
    with pytest.raises(ShelterValidationError) as err:
        services.set_status(city, DUTY, shelter.code, "flooded")
    assert "status" in err.value.fields
    assert shelter.status == ShelterStatus.STANDBY


def test_occupancy_beyond_capacity_at_registration_is_refused(city, add_shelter):
    with pytest.raises(ShelterValidationError) as err:
        add_shelter(117.05, 33.55, capacity=10, occupancy=11)
    assert "occupancy" in err.value.fields


def test_arrivals_need_an_open_shelter(add_shelter, city):
    shelter = add_shelter(117.05, 33.55)
    with pytest.raises(ShelterConflict):
        services.record_arrivals(city, DUTY, shelter.code, 5)
    assert shelter.occupancy == 0


def test_arrivals_beyond_capacity_are_refused_without_override(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    services.set_status(city, DUTY, shelter.code, "open")
    services.record_arrivals(city, DUTY, shelter.code, 8)
    with pytest.raises(ShelterValidationError) as err:
        services.record_arrivals(city, DUTY, shelter.code, 3)
    assert "2 free" in err.value.message
    assert shelter.occupancy == 8
    assert _count(city, OccupancyChange) == 1


def test_override_beyond_capacity_needs_a_reason_and_is_audited(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    services.set_status(city, DUTY, shelter.code, "open")
    with pytest.raises(ShelterValidationError) as err:
        services.record_arrivals(city, DUTY, shelter.code, 12, override=True)
    assert "reason" in err.value.fields
    change = services.record_arrivals(city, DUTY, shelter.code, 12, override=True,
                                      reason="夜间暴雨，临时加床")
    assert change.override and shelter.occupancy == 12
    assert shelter.status == ShelterStatus.FULL
    entry = city.scalars(select(AuditEntry).where(
        AuditEntry.action == "shelter.occupancy_override")).one()
    assert entry.actor_name == "duty" and entry.after["reason"] == "夜间暴雨，临时加床"
    assert entry.before["occupancy"] == 0 and entry.after["occupancy"] == 12


def test_departures_beyond_the_people_present_are_refused(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    services.set_status(city, DUTY, shelter.code, "open")
    services.record_arrivals(city, DUTY, shelter.code, 4)
    with pytest.raises(ShelterValidationError) as err:
        services.record_departures(city, DUTY, shelter.code, 5)
    assert "people" in err.value.fields
    assert shelter.occupancy == 4


def test_negative_or_fractional_arrivals_are_refused(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    services.set_status(city, DUTY, shelter.code, "open")
    for bad in (-1, 2.5, "3", True, 0):
        with pytest.raises(ShelterValidationError):
            services.record_arrivals(city, DUTY, shelter.code, bad)
    assert shelter.occupancy == 0


def test_full_shelter_reopens_when_people_leave(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=5)
    services.set_status(city, DUTY, shelter.code, "open")
    services.record_arrivals(city, DUTY, shelter.code, 5)
    assert shelter.status == ShelterStatus.FULL
    services.record_departures(city, DUTY, shelter.code, 1)
    assert shelter.status == ShelterStatus.OPEN


def test_closing_a_shelter_with_people_inside_is_refused(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=5)
    services.set_status(city, DUTY, shelter.code, "open")
    services.record_arrivals(city, DUTY, shelter.code, 2)
    with pytest.raises(ShelterConflict):
        services.set_status(city, DUTY, shelter.code, "closed")
    assert shelter.status == ShelterStatus.OPEN


def test_lowering_capacity_below_occupancy_needs_override(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    services.set_status(city, DUTY, shelter.code, "open")
    services.record_arrivals(city, DUTY, shelter.code, 8)
    with pytest.raises(ShelterValidationError):
        services.update_capacity(city, DUTY, shelter.code, {"capacity": 5})
    assert shelter.capacity == 10
    services.update_capacity(city, DUTY, shelter.code, {"area_m2": 15.0})
    assert shelter.capacity == 10 and shelter.area_m2 == 15.0


def test_info_officers_may_not_change_shelters(city, add_shelter):
    shelter = add_shelter(117.05, 33.55)
    with pytest.raises(ShelterPermissionDenied):
        services.set_status(city, INFO, shelter.code, "open")
    with pytest.raises(ShelterPermissionDenied):
        services.record_arrivals(city, INFO, shelter.code, 1)
    assert shelter.status == ShelterStatus.STANDBY


def test_unknown_shelter_is_not_found(city):
    with pytest.raises(ShelterNotFound):
        services.set_status(city, DUTY, "SH404", "open")


def test_patch_document_with_a_bad_field_changes_nothing(city, add_shelter):
    shelter = add_shelter(117.05, 33.55, capacity=10)
    with pytest.raises(ShelterValidationError) as err:
        services.apply_patch(city, DUTY, shelter.code, {"status": "open", "colour": "red"})
    assert err.value.fields == {"colour": ["unknown field"]}
    assert shelter.status == ShelterStatus.STANDBY


_ops = st.lists(st.tuples(st.sampled_from(["arrival", "departure", "count"]),
                          st.integers(min_value=0, max_value=30), st.booleans()),
                min_size=1, max_size=25)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_occupancy_is_exact_and_every_change_is_recorded(city, ops):
    nested = city.begin_nested()
    try:
        shelter = services.create_shelter(city, cli_actor(), {
            "code": "SHH", "name": "性质测试", "kind": "fixed", "capacity": 40,
            "status": "open", "geometry": Point(117.05, 33.55)})
        expected = 0
        for kind, people, override in ops:
            reason = "测试" if override else None
            try:
                services.record_occupancy(city, DUTY, "SHH", kind, people, override=override,
                                          reason=reason)
            except ShelterValidationError:
                assert shelter.occupancy == expected  # refused: nothing changed
                continue
            expected = {"arrival": expected + people, "departure": expected - people,
                        "count": people}[kind]
            assert shelter.occupancy == expected
            assert expected <= 40 or override
        assert shelter.occupancy == expected
        history = services.occupancy_history(city, "SHH")
        running = 0
        for row in history:
            assert row["occupancy_before"] == running
            running = row["occupancy_after"]
            assert row["override"] == (running > row["capacity"])
        assert running == shelter.occupancy
        audited = city.scalars(select(AuditEntry).where(AuditEntry.entity_id == "SHH",
                                                         AuditEntry.action != "shelter.create")).all()
        assert len(audited) == len(history)
    finally:
        nested.rollback()


def test_concurrent_arrivals_never_overfill_a_shelter(database_url):
    """Two duty officers record arrivals at once: the total stops exactly at capacity."""
    import threading

    from gis.db import make_engine, make_session_factory, unit_of_work
    from tests.shelters.conftest import build_city

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        build_city(s)
        services.create_shelter(s, cli_actor(), {
            "code": "SHC", "name": "并发测试", "kind": "fixed", "capacity": 25,
            "status": "open", "geometry": Point(117.05, 33.55)})
    refused: list[int] = []

    def officer() -> None:
        for _ in range(20):
            try:
                with unit_of_work(factory) as s:
                    services.record_arrivals(s, DUTY, "SHC", 1)
            except ShelterValidationError:
                refused.append(1)

    threads = [threading.Thread(target=officer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with factory() as s:
        assert services.get_shelter(s, "SHC").occupancy == 25
        assert len(services.occupancy_history(s, "SHC")) == 25
    assert len(refused) == 15
    engine.dispose()
