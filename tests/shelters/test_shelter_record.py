"""Registering a shelter reads its record with the registry import's schema (ShelterRecord)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shelters.errors import ShelterValidationError
from shelters.models import Shelter


@pytest.mark.parametrize("written", ["false", "0", "否"])
def test_generated_written_as_no_is_not_generated(add_shelter, written):
    shelter = add_shelter(117.05, 33.55, generated=written)
    assert shelter.generated is False


def test_facilities_flags_parse_as_people_write_them(add_shelter):
    shelter = add_shelter(117.05, 33.55, facilities={"water": "是", "power": "0", "toilets": "4"})
    assert shelter.facilities == {"water": True, "power": False, "toilets": 4}


@pytest.mark.parametrize(("extra", "field"), [
    ({"name": "体育\x00馆"}, "name"),
    ({"address": "x" * 201}, "address"),
    ({"county_code": "34130"}, "county_code"),
    ({"facilities": {"water": "maybe"}}, "facilities.water"),
    ({"geometry": None}, "geometry"),
])
def test_bad_fields_are_named_and_nothing_is_registered(city, add_shelter, extra, field):
    with pytest.raises(ShelterValidationError) as caught:
        add_shelter(117.05, 33.55, **extra)
    assert field in caught.value.fields
    assert city.scalar(select(func.count()).select_from(Shelter)) == 0
