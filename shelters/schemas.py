"""Declared inputs and outputs of the shelter operations and evacuation orders (pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from gis.schema import INT32_MAX, Schema

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
