"""Declared schemas of the report API: the filed report, thresholds and the report's JSON form.

Figures carry plausible upper bounds (one community's report; 《自然灾害情况统计调查制度》
indicators): nobody files ten million casualties or a trillion 万元 for one village, and a
bound keeps every figure and every roll-up well inside the columns that hold them (32-bit
integers for people and houses, doubles for areas and money). The bound by the community's
own population needs the database and is checked in :func:`disaster.reports.services
.submit_report`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, WithJsonSchema

from disaster.reports.models import ReportKind
from disaster.warnings.levels import Hazard
from gis.messages import msg
from gis.schema import Int64, Schema, text

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_NOTES = 4000
# Upper bounds of one community's figures (a city district has about a million people).
MAX_PEOPLE = 10_000_000
MAX_HOUSES = 10_000_000
MAX_CROP_HA = 1_000_000.0   # 10,000 km², more farmland than any county has
MAX_LOSS_10K_YUAN = 10_000_000.0  # 1,000 亿元
MAX_THRESHOLD = 1e12


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 to aware UTC; a time without offset is taken as Beijing time (phones)."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(dt.UTC)


def _time(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return parse_time(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(msg("must be a date and time (ISO 8601)"))
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(msg("not an ISO 8601 time: %(value)s", value=value[:40])) from None


def _figure(value: Any) -> Any:
    """Absent figures count as zero (a "zero report"); yes/no is not a figure."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise ValueError(msg("must be a number"))
    return value


def _event(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _point(value: Any) -> Any:
    if value in (None, "", {}):
        return None
    coords = value.get("coordinates") if isinstance(value, Mapping) else None
    point = None
    if (isinstance(value, Mapping) and value.get("type") == "Point"
            and isinstance(coords, list | tuple) and len(coords) in (2, 3)):
        try:
            lon, lat = float(coords[0]), float(coords[1])
        except (TypeError, ValueError):
            lon = lat = math.nan
        if (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
                and -90 <= lat <= 90):
            point = (lon, lat)
    if point is None:
        raise ValueError(msg('expected a GeoJSON Point {"type": "Point", '
                             '"coordinates": [lon, lat]}'))
    return point


Time = Annotated[dt.datetime, BeforeValidator(_time),
                 WithJsonSchema({"type": "string", "format": "date-time"})]
People = Annotated[int, Field(ge=0, le=MAX_PEOPLE), BeforeValidator(_figure)]
Houses = Annotated[int, Field(ge=0, le=MAX_HOUSES), BeforeValidator(_figure)]
CropHa = Annotated[float, Field(ge=0, le=MAX_CROP_HA, allow_inf_nan=False),
                   BeforeValidator(_figure)]
Loss = Annotated[float, Field(ge=0, le=MAX_LOSS_10K_YUAN, allow_inf_nan=False),
                 BeforeValidator(_figure)]
GeoPoint = Annotated[tuple[float, float] | None, BeforeValidator(_point), WithJsonSchema({
    "type": "object", "nullable": True, "description": "GeoJSON Point [lon, lat]",
    "required": ["type", "coordinates"],
    "properties": {"type": {"type": "string", "enum": ["Point"]},
                   "coordinates": {"type": "array", "minItems": 2, "maxItems": 3,
                                   "items": {"type": "number"}}}})]
EventRef = Annotated[text(40, 1) | None, BeforeValidator(_event), WithJsonSchema({
    "type": "string", "maxLength": 40, "nullable": True,
    "description": "event id or code (default: the open event covering the community)"})]


class ReportIn(Schema):
    """A 初报, 续报 or 核报 (CONTRACT.md "Report fields")."""

    community: text(12, 1)
    kind: ReportKind
    hazard: Hazard
    event: EventRef = None
    occurred_at: Time
    affected_people: People = 0
    dead: People = 0
    missing: People = 0
    evacuated: People = 0
    needing_aid: People = 0
    collapsed_households: Houses = 0
    collapsed_rooms: Houses = 0
    severely_damaged_households: Houses = 0
    severely_damaged_rooms: Houses = 0
    generally_damaged_households: Houses = 0
    generally_damaged_rooms: Houses = 0
    crop_affected_ha: CropHa = 0.0
    crop_damaged_ha: CropHa = 0.0
    crop_lost_ha: CropHa = 0.0
    direct_loss_10k_yuan: Loss = 0.0
    notes: text(MAX_NOTES) | None = None
    location: GeoPoint = None


class PointOut(Schema):
    type: Literal["Point"]
    coordinates: list[float]


class ReportOut(Schema):
    """A filed report as the API returns it."""

    id: int
    event: int
    event_code: str | None
    community: str
    kind: ReportKind
    hazard: Hazard
    occurred_at: str
    submitted_at: str
    is_latest: bool
    affected_people: int
    dead: int
    missing: int
    evacuated: int
    needing_aid: int
    collapsed_households: int
    collapsed_rooms: int
    severely_damaged_households: int
    severely_damaged_rooms: int
    generally_damaged_households: int
    generally_damaged_rooms: int
    crop_affected_ha: float
    crop_damaged_ha: float
    crop_lost_ha: float
    direct_loss_10k_yuan: float
    notes: str | None
    location: PointOut | None
    photos: list[int]


class ReportQuery(Schema):
    community: text(12) | None = None
    event: text(40) | None = None
    latest: Literal["1", "true", "0", "false", ""] | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] | None = None


class ThresholdIn(Schema):
    """One response-level threshold (国家自然灾害救助应急预案 indicators)."""

    profile: Literal["city", "national"]
    level: Literal["I", "II", "III", "IV"]
    indicator: text(40, 1)
    value: Annotated[float, Field(ge=0, le=MAX_THRESHOLD, allow_inf_nan=False)]


class RollupQuery(Schema):
    event: text(40) | None = None
    profile: Literal["city", "national"] = "city"


class EventQuery(Schema):
    event: text(40) | None = None


__all__ = ["Int64", "ReportIn", "ReportOut", "ReportQuery", "RollupQuery", "ThresholdIn",
           "parse_time"]
