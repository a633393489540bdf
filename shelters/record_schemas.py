"""Record schemas of the shelters package: the shelter registry's import row and its edits.

The importer, the CLI and :func:`shelters.registry.upsert_shelters` validate a shelter
record with :class:`ShelterRecord`; the occupancy and capacity services use the field types
below (:data:`People`), so "how many people" is parsed one way everywhere.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from disaster import upsert as u
from gis.messages import msg
from gis.schema import INT32_MAX, Boolean, Schema, text
from shelters.models import OccupancyChangeKind, ShelterClass, ShelterKind, ShelterStatus

SHELTER_LEVELS = ("provincial", "municipal", "county", "township")

# A number of people (capacity, occupancy, arrivals): whole, not negative, fits INTEGER.
# In files a cell is text ("1,200"); in a JSON body it is a number ("3" or true is refused).
People = u.count()
PeopleNumber = Annotated[int, Field(ge=0, le=INT32_MAX, strict=True)]


class Facilities(Schema):
    """Water, power and medical care on site, and the number of toilets."""

    model_config = Schema.model_config | {"extra": "forbid"}

    water: Boolean | None = None
    power: Boolean | None = None
    medical: Boolean | None = None
    toilets: u.count() | None = None


def _facilities_json(value: Any) -> Any:
    # Files carry the facilities as JSON text in one cell.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(msg('is not a JSON object such as {"water": true, "toilets": 4}')) \
                from None
    return value


class ShelterRecord(u.RecordSchema):
    """A registered shelter (GB 21734 class, GB 51143 kind) with its point."""

    COLUMNS: ClassVar[dict[str, str]] = {"geometry": "geom"}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ("geometry",)

    code: u.code(32)
    name: text(120, min_length=1) = None
    kind: u.enum_of(ShelterKind) = None
    shelter_class: u.enum_of(ShelterClass) | None = None
    level: u.choice(*SHELTER_LEVELS) | None = None
    capacity: People = None
    capacity_day: People | None = None
    capacity_night: People | None = None
    area_m2: u.number(0.0) | None = None
    facilities: Annotated[Facilities, BeforeValidator(_facilities_json)] | None = None
    status: u.enum_of(ShelterStatus) = None
    occupancy: People = None
    county_code: u.digits(6) | None = None
    community_code: u.digits(12) | None = None
    address: text(200) | None = None
    generated: u.Generated = None
    geometry: u.PointGeometry = None

    def values(self) -> dict[str, Any]:
        """The given fields by column; facilities as the stored dict of the flags given."""
        out = super().values()
        if out.get("facilities") is not None:
            out["facilities"] = self.facilities.model_dump(exclude_none=True)
        return out


class OccupancyChangeIn(Schema):
    """Arrivals, departures or a head count at a shelter."""

    kind: OccupancyChangeKind
    people: PeopleNumber
