"""Declared schemas of the shelter API: a shelter change, safety settings, evacuation plans,
shelter check-ins and evacuation orders.

The API validates each body here before :mod:`shelters.services` applies it; the OpenAPI
document is generated from the same classes. Unknown keys are refused (a misspelt
``ocupancy`` must not pass as a no-op).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema

from gis.schema import INT32_MAX, Schema, text

# Far beyond any shelter (the largest stadium shelters hold about 100,000 people), well
# inside the 32-bit columns.
MAX_PEOPLE = 10_000_000
People = Annotated[int, Field(ge=0, le=MAX_PEOPLE)]
Area = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class Strict(Schema):
    model_config = ConfigDict(**{**Schema.model_config, "extra": "forbid"})


class ShelterPatchIn(Strict):
    """Arrivals, departures, a head count, or a status or capacity change."""

    status: Literal["standby", "open", "full", "closed"] | None = None
    arrivals: Annotated[int, Field(ge=1, le=MAX_PEOPLE)] | None = None
    departures: Annotated[int, Field(ge=1, le=MAX_PEOPLE)] | None = None
    occupancy: People | None = Field(None, description="head count")
    capacity: People | None = None
    area_m2: Area | None = None
    area_per_person_m2: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None
    capacity_day: People | None = None
    capacity_night: People | None = None
    override: bool = False
    reason: text(2000) | None = None


class SafetyRulesIn(Strict):
    """Safety rules, evacuation rates and the unassigned penalty (administrators)."""

    rules: Annotated[list[dict[str, Any]], Field(max_length=500)] | None = None
    rates: dict[str, Any] | None = None
    unassigned_penalty_km: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None


class EvacuationPlanIn(Strict):
    unassigned_penalty_km: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    period: Literal["day", "night"] | None = None


class LimitQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=500)] | None = None


# Text or null, written as OpenAPI 3.0 spells it (3.0 has no "null" type).
OptionalText = Annotated[str | None, WithJsonSchema({"type": "string", "nullable": True})]


class MovementIn(Schema):
    """People checking in to or leaving a shelter, by count."""

    kind: Literal["arrival", "departure"]
    people: int = Field(ge=1, le=INT32_MAX)


class ShelterOut(Schema):
    """A shelter as the operations page and the API show it."""

    code: str
    name: str
    status: str
    capacity: int
    occupancy: int
    free: int
    community_code: OptionalText = None
    community_name: OptionalText = None


class IssueOrderIn(Schema):
    """Issue a reviewed evacuation plan as an order to the communities' officers."""

    plan_id: int = Field(ge=1, le=INT32_MAX)


class DestinationOut(Schema):
    shelter: str
    shelter_name: str
    people: int
    distance_km: float


class PlannedCommunityOut(Schema):
    """Where one community's people go in a plan or an order, with names to show."""

    code: str
    name: str
    township: str
    people: int
    unassigned: int
    destinations: list[DestinationOut]


class OrderCommunityOut(PlannedCommunityOut):
    acknowledged_at: OptionalText = None
    acknowledged_by: OptionalText = None


class OrderOut(Schema):
    id: int
    plan_id: int
    issued_at: str
    issued_by: str
    people: int
    acknowledged: int
    communities: list[OrderCommunityOut]
