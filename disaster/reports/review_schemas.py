"""Declared request and response bodies of report review (pydantic, :mod:`gis.schema`).

The figures of a correction are typed here; their consistency rules (dead + missing within
affected people, 绝收 ≤ 成灾 ≤ 受灾…) stay in :func:`disaster.reports.validation.clean_report`,
the one validation every filing and every resend goes through.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from disaster.reports.models import ReportKind, ReviewStatus
from disaster.warnings.levels import Hazard
from gis.messages import msg
from gis.schema import INT32_MAX, Schema, text

Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Area = Annotated[float, Field(ge=0, allow_inf_nan=False)]
MAX_COMMENT = 2000


def _nullable(schema: dict[str, Any]) -> None:
    """Spell ``X | None`` properties as OpenAPI 3.0 does (``nullable``), not as JSON Schema's
    ``anyOf`` with a ``null`` type, which OpenAPI 3.0 does not know."""
    for prop in (schema.get("properties") or {}).values():
        options = prop.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1:
                del prop["anyOf"]
                prop.update(rest[0])
                prop["nullable"] = True
        if prop.get("default", 0) is None:
            del prop["default"]


class ReviewSchema(Schema):
    """Base of this module's schemas (OpenAPI 3.0 spelling of optional fields)."""

    model_config = ConfigDict(json_schema_extra=_nullable)  # type: ignore[typeddict-item]


class ReviewDecision(ReviewSchema):
    """The duty officer's decision on a waiting report."""

    decision: Literal["verified", "returned"]
    comment: text(MAX_COMMENT) = Field(default="", validate_default=True)  # type: ignore[valid-type]

    @field_validator("comment")
    @classmethod
    def _comment_when_returned(cls, value: str, info: ValidationInfo) -> str:
        # The officer must learn what to correct: a return without a reason helps no one.
        if info.data.get("decision") == "returned" and not value:
            raise ValueError(msg("say what the officer should correct"))
        return value


class ReportCorrection(ReviewSchema):
    """A returned report's corrected fields; a field left out keeps its filed value.

    Community, kind, hazard and event are those of the report and cannot change here.
    """

    occurred_at: text(40) | None = None  # type: ignore[valid-type]
    affected_people: Count | None = None
    dead: Count | None = None
    missing: Count | None = None
    evacuated: Count | None = None
    needing_aid: Count | None = None
    collapsed_households: Count | None = None
    collapsed_rooms: Count | None = None
    severely_damaged_households: Count | None = None
    severely_damaged_rooms: Count | None = None
    generally_damaged_households: Count | None = None
    generally_damaged_rooms: Count | None = None
    crop_affected_ha: Area | None = None
    crop_damaged_ha: Area | None = None
    crop_lost_ha: Area | None = None
    direct_loss_10k_yuan: Area | None = None
    notes: text(4000) | None = None  # type: ignore[valid-type]
    location: dict[str, Any] | None = Field(default=None, description="GeoJSON Point")


class ReviewQuery(ReviewSchema):
    """Filters of the review list (all optional; times in ISO 8601)."""

    since: dt.datetime | None = Field(default=None, description="occurred at or after")
    until: dt.datetime | None = Field(default=None, description="occurred before")
    township: text(9) | None = None  # type: ignore[valid-type]
    kind: ReportKind | None = None
    hazard: Hazard | None = None
    status: ReviewStatus | None = None
    event: text(40) | None = None  # type: ignore[valid-type]
    limit: int = Field(default=500, ge=1, le=2000)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # A filter select left on "all" sends an empty value.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v not in ("", None)}
        return data


class ReviewStepOut(ReviewSchema):
    action: Literal["returned", "resent", "verified"]
    comment: str | None
    actor: str
    at: dt.datetime


class ReviewReportOut(ReviewSchema):
    """One report as the review list shows it: names, figures, photos, point and history."""

    id: int
    event: int
    event_code: str
    event_name: str
    community: str
    community_name: str
    township: str
    township_name: str
    kind: ReportKind
    hazard: Hazard
    occurred_at: dt.datetime
    submitted_at: dt.datetime
    submitted_by: str | None
    is_latest: bool
    figures: dict[str, float]
    notes: str | None
    point: list[float] | None = Field(description="[lon, lat]")
    point_source: Literal["report", "community"] | None
    photos: list[int]
    review_status: ReviewStatus
    history: list[ReviewStepOut]


class TownshipOut(ReviewSchema):
    code: str
    name: str


class ReviewListOut(ReviewSchema):
    reports: list[ReviewReportOut]
    counts: dict[str, int] = Field(description="reports per review status in your scope")
    townships: list[TownshipOut]
