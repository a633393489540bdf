"""The schema core: field names and stable codes of each broken rule."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field

from gis.errors import ValidationError
from gis.schema import Id, Schema, text, validate


class Sample(Schema):
    name: text(10, 1)
    ident: Id | None = None
    either: Annotated[str, Field(pattern=r"^[0-9]+$")] | int | None = None


@pytest.mark.parametrize(("data", "field", "code"), [
    ({"name": "x" * 11}, "name", "too_long"),
    ({"name": "a\x00"}, "name", "invalid"),
    ({"name": 5}, "name", "type"),
    ({"name": "a", "ident": 2**31}, "ident", "too_large"),
    ({"name": "a", "ident": 0}, "ident", "too_small"),
    ({"name": "a", "either": "x"}, "either", "format"),
])
def test_each_broken_rule_names_its_field_with_a_stable_code(data, field, code):
    with pytest.raises(ValidationError) as caught:
        validate(Sample, data)
    assert code in caught.value.field_codes[field], caught.value.field_codes


def test_a_list_is_not_an_object():
    with pytest.raises(ValidationError) as caught:
        validate(Sample, [1])
    assert caught.value.field_codes == {"body": ["type"]}
