"""Shelter safety under the current warnings; rules are data."""

from __future__ import annotations

import pytest

from disaster.access import Actor, Role, cli_actor
from shelters import safety
from shelters.errors import ShelterPermissionDenied, ShelterValidationError
from tests.shelters.conftest import community_centre, community_code


def test_no_warning_means_every_shelter_is_safe(add_shelter, city):
    add_shelter(*community_centre(1, 1))
    assert safety.unsafe_codes(city) == set()


def test_shelter_in_a_red_warning_community_is_unsafe(add_shelter, warn, city):
    inside = add_shelter(*community_centre(1, 1))
    neighbour = add_shelter(*community_centre(2, 1))
    warn(community_code(1, 1), "red", "gale")
    verdicts = safety.assess(city)
    assert not verdicts[inside.code].safe and verdicts[neighbour.code].safe
    assert verdicts[inside.code].reasons[0] == {
        "rule": "red_warning_community", "hazard": "gale", "level": "red",
        "community": community_code(1, 1)}


def test_orange_rainstorm_makes_the_whole_touched_flood_zone_unsafe(add_shelter, warn, city):
    # The zone spans columns 3 and 4; the warning is in column 3 only, the shelter in column 4.
    in_zone = add_shelter(117.32, 33.70)
    outside_zone = add_shelter(117.38, 33.70)
    warn(community_code(3, 2), "orange")
    unsafe = safety.unsafe_codes(city)
    assert in_zone.code in unsafe and outside_zone.code not in unsafe
    reason = safety.assess(city)[in_zone.code].reasons[0]
    assert reason["zone"] == "HZ1" and reason["community"] == community_code(3, 2)


def test_yellow_rainstorm_or_orange_gale_leave_flood_zones_safe(add_shelter, warn, city):
    in_zone = add_shelter(117.32, 33.70)
    warn(community_code(3, 2), "yellow")
    warn(community_code(4, 2), "orange", "gale")
    assert in_zone.code not in safety.unsafe_codes(city)


def test_flood_zone_not_touching_a_warned_community_stays_safe(add_shelter, warn, city):
    in_zone = add_shelter(117.32, 33.70)
    warn(community_code(1, 1), "orange")
    assert in_zone.code not in safety.unsafe_codes(city)


def test_rules_can_be_extended_per_hazard(add_shelter, warn, city):
    shelter = add_shelter(*community_centre(1, 1))
    warn(community_code(1, 1), "orange", "gale")
    assert safety.unsafe_codes(city) == set()
    gale = {"name": "gale_orange", "hazard": "gale", "min_level": "orange", "where": "community"}
    safety.set_rules(city, cli_actor(), [*safety.DEFAULT_RULES, gale])
    assert safety.unsafe_codes(city) == {shelter.code}


def test_invalid_rules_are_refused_naming_the_rule(city):
    with pytest.raises(ShelterValidationError) as err:
        safety.set_rules(city, cli_actor(), [{"hazard": "meteor", "min_level": "red",
                                              "where": "community"}])
    assert "rules[0].hazard" in err.value.fields
    assert safety.rules(city) == safety.validate_rules(safety.DEFAULT_RULES)


def test_only_administrators_change_rules(city):
    duty = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
    with pytest.raises(ShelterPermissionDenied):
        safety.set_rules(city, duty, safety.DEFAULT_RULES)
