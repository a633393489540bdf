"""The field types every record schema shares: yes/no as people write it, counts, codes."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString, Point, Polygon

from disaster.record_schemas import CommunityRecord, OfficerRecord
from gis.errors import ValidationError
from gis.schema import Boolean, Schema, validate, validate_rows


class Flag(Schema):
    value: Boolean


@pytest.mark.parametrize("written", ["0", "false", "FALSE", " no ", "n", "否", 0, False, "off"])
def test_no_as_people_write_it_is_false(written: object) -> None:
    assert validate(Flag, {"value": written}).value is False


@pytest.mark.parametrize("written", ["1", "true", "Yes", "y", "是", 1, True, "on"])
def test_yes_as_people_write_it_is_true(written: object) -> None:
    assert validate(Flag, {"value": written}).value is True


@pytest.mark.parametrize("written", ["maybe", "2", 2, 0.5, "", [], "真的吗"])
def test_anything_else_is_refused_not_taken_as_true(written: object) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(Flag, {"value": written})
    assert "value" in caught.value.fields


def test_officer_written_inactive_in_a_csv_is_inactive() -> None:
    for written in ("0", "false", "否", "no"):
        record = OfficerRecord.model_validate({"code": "OF1", "name": "张伟",
                                               "active": written})
        assert record.active is False


def test_every_bad_community_row_is_named_with_its_field() -> None:
    square = Polygon([(117, 33.6), (117.01, 33.6), (117.01, 33.61), (117, 33.61)])
    rows = [
        {"code": "341302001001", "population": "1,200", "urban": "否", "geometry": square},
        {"code": "3413", "population": -1},
        {"code": "341302001003", "farmland_share": "NaN", "households": 2**31},
        {"code": "341302001004", "geometry": None},
        {"code": "341302001005", "geometry": LineString([(117, 33.6), (117.1, 33.7)]),
         "point": Point(math.nan, 33.6)},
    ]
    with pytest.raises(ValidationError) as caught:
        validate_rows(CommunityRecord, rows, what="communities")
    fields = caught.value.fields
    assert set(fields) == {"row 2: code", "row 2: population", "row 3: farmland_share",
                           "row 3: households", "row 4: geometry", "row 5: geometry",
                           "row 5: point"}
    assert caught.value.field_codes["row 3: households"] == ["too_large"]
    assert "geometry is required" in fields["row 4: geometry"][0]


def test_blank_cells_clear_nullable_columns_and_leave_the_others() -> None:
    record = CommunityRecord.model_validate({"code": "341302001001", "population": " ",
                                             "farmland_share": "", "urban": None})
    assert record.values() == {"code": "341302001001", "farmland_share": None}
