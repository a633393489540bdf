"""Declared schemas of the disaster API: events, alerts, acknowledgements, officers, inbox.

The request schemas validate the body or query string at the API (``web.api.common
.json_body`` / ``query``) and generate the OpenAPI document; the response schemas document
what the views return. Lengths follow the columns (``disaster.events``: code 40, name 200).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from disaster.reports.schemas import Time
from disaster.warnings.levels import Hazard
from gis.schema import Id, Schema, text

# County (6), township (9) or community (12) codes: ASCII digits only.
AreaCode = Annotated[str, Field(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$", max_length=12)]
Flag = Literal["1", "true", "yes", "0", "false", "no", ""]


class EventIn(Schema):
    """A disaster event opened by a duty officer."""

    hazard: Hazard
    name: text(200) | None = None
    started_at: Time | None = None
    area_codes: Annotated[list[AreaCode], Field(max_length=2000)] | None = None


class EventClose(Schema):
    """``POST /events/ID/close``: the end time (default now)."""

    ended_at: Time | None = None


class EventOut(Schema):
    id: int
    code: str
    name: str
    hazard: Hazard
    status: Literal["open", "closed"]
    started_at: str
    ended_at: str | None
    area_codes: list[str] | None
    source: str | None


class EventsQuery(Schema):
    status: Literal["open", "closed", ""] | None = None


class HandoverIn(Schema):
    """Hand an officer's communities over to another officer."""

    from_: text(40, 1) = Field(alias="from")
    to: text(40, 1)
    communities: Annotated[list[text(12)], Field(max_length=10_000)] | None = None
    deactivate: bool = False


class HandoverOut(Schema):
    from_: str = Field(alias="from")
    to: str
    moved: Any = None


class ProposalIn(Schema):
    max_load: Annotated[int, Field(ge=1, le=10_000)] = 30


class ProposalOut(Schema):
    id: int
    status: str
    max_load: int
    items: Any
    unassigned: Any
    created_at: str
    created_by: str | None
    decided_at: str | None
    decided_by: str | None


class ApprovalOut(Schema):
    id: int
    applied: Any
    skipped: Any


class AckIn(Schema):
    """A duty officer records an acknowledgement taken by phone for ``officer_id``."""

    officer_id: Id | None = None


class AckOut(Schema):
    alert: int
    acknowledged: list[int]


class AlertsQuery(Schema):
    status: Literal["active", "pending", "updated", "cancelled", "expired", ""] | None = None
    acks: Flag | None = None


class AlertOut(Schema):
    """One CAP message (CONTRACT.md ``alerts list --format json``, plus extras)."""

    id: int
    identifier: str
    hazard: Hazard
    level: Literal["blue", "yellow", "orange", "red"]
    status: str
    msg_type: str
    communities: list[str]
    sent: str
    expires: str
    references: list[str]
    county: str | None = None
    headline: str | None = None
    event_id: int | None = None


class NotificationsQuery(Schema):
    officer_id: Id | None = None
    unread: Flag | None = None


class NotificationOut(Schema):
    id: int
    officer_id: int | None
    user_id: int | None
    kind: str
    subject: str
    body: str
    reference: str | None
    created_at: str
    read_at: str | None
    deliveries: list[dict[str, Any]]


class CountOut(Schema):
    marked: int


class FeatureCollection(Schema):
    """A GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


def _blank(value: Any) -> Any:
    """An empty query parameter counts as absent."""
    return None if value == "" else value


Bbox = Annotated[Annotated[str, Field(max_length=200, pattern=r"^[-+0-9.eE]+(,[-+0-9.eE]+){3}$",
                                      description="west,south,east,north in degrees")] | None,
                 BeforeValidator(_blank)]
CountyCode = Annotated[Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None,
                       BeforeValidator(_blank)]
TownshipCode = Annotated[Annotated[str, Field(pattern=r"^[0-9]{9}$")] | None,
                         BeforeValidator(_blank)]


class LayerQuery(Schema):
    """A map layer's view: bounding box and simplification (``zoom`` or ``simplify``)."""

    bbox: Bbox = None
    zoom: Annotated[int, Field(ge=0, le=20)] | None = None
    simplify: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False,
                                     description="tolerance in degrees")] | None = None


class AreasQuery(LayerQuery):
    level: Literal["city", "county", "township", ""] | None = None


class CommunitiesQuery(LayerQuery):
    county: CountyCode = None
    township: TownshipCode = None


class HazardZonesQuery(LayerQuery):
    kind: text(40) | None = None


class SheltersQuery(Schema):
    county: CountyCode = None
    status: Literal["standby", "open", "full", "closed", ""] | None = None


class AssessmentQuery(Schema):
    event: text(40) | None = None
    only_affected: Flag | None = None


class RiskQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
