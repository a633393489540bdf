"""The report record: one row per submission, the latest per event and community counts."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from disaster.events import DisasterEvent
from disaster.warnings.levels import Hazard
from gis.db import Base
from gis.types import UTCDateTime, geometry, intpk, utcnow, value_enum


class ReportKind(enum.StrEnum):
    INITIAL = "initial"   # 初报
    UPDATE = "update"     # 续报
    FINAL = "final"       # 核报


class ReviewStatus(enum.StrEnum):
    """Where a report stands in the duty officer's review (disaster/reports/review.py)."""

    PENDING = "pending"     # 待审核: filed or resent, waiting for the duty officer
    VERIFIED = "verified"   # 已核实
    RETURNED = "returned"   # 退回修改: back with the officer, with a comment


# The core indicators (CONTRACT.md "Report fields"), in the order of the statistical form.
PEOPLE_FIELDS = ("affected_people", "dead", "missing", "evacuated", "needing_aid")
HOUSE_FIELDS = ("collapsed_households", "collapsed_rooms", "severely_damaged_households",
                "severely_damaged_rooms", "generally_damaged_households",
                "generally_damaged_rooms")
CROP_FIELDS = ("crop_affected_ha", "crop_damaged_ha", "crop_lost_ha")
LOSS_FIELDS = ("direct_loss_10k_yuan",)
INDICATORS = PEOPLE_FIELDS + HOUSE_FIELDS + CROP_FIELDS + LOSS_FIELDS


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_event_community", "event_id", "community_code"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    kind: Mapped[ReportKind] = mapped_column(value_enum(ReportKind, "report_kind"))
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "report_hazard"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # True for the latest report of its (event, community): roll-ups read only these rows.
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    affected_people: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    evacuated: Mapped[int] = mapped_column(Integer, default=0)
    needing_aid: Mapped[int] = mapped_column(Integer, default=0)
    collapsed_households: Mapped[int] = mapped_column(Integer, default=0)
    collapsed_rooms: Mapped[int] = mapped_column(Integer, default=0)
    severely_damaged_households: Mapped[int] = mapped_column(Integer, default=0)
    severely_damaged_rooms: Mapped[int] = mapped_column(Integer, default=0)
    generally_damaged_households: Mapped[int] = mapped_column(Integer, default=0)
    generally_damaged_rooms: Mapped[int] = mapped_column(Integer, default=0)
    crop_affected_ha: Mapped[float] = mapped_column(Float, default=0.0)
    crop_damaged_ha: Mapped[float] = mapped_column(Float, default=0.0)
    crop_lost_ha: Mapped[float] = mapped_column(Float, default=0.0)
    direct_loss_10k_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    notes: Mapped[str | None] = mapped_column(Text)
    location: Mapped[WKBElement | None] = mapped_column(geometry("POINT"))
    review_status: Mapped[ReviewStatus] = mapped_column(
        value_enum(ReviewStatus, "review_status"), default=ReviewStatus.PENDING,
        server_default=ReviewStatus.PENDING.value, index=True)
    event: Mapped[DisasterEvent] = relationship(DisasterEvent, lazy="select")


class ReportReview(Base):
    """One step of a report's review history: returned (with the comment), resent (with the
    figures before and after the correction) or verified. Never updated nor deleted, so what
    was returned and why stays readable after the correction."""

    __tablename__ = "report_reviews"

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    action: Mapped[str] = mapped_column(String(16))  # returned | resent | verified
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A resend's Idempotency-Key: the phone's retry of a correction replays, never re-applies.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class ReportPhoto(Base):
    """A photo attached to a report, re-encoded without its metadata (EXIF/GPS removed)."""

    __tablename__ = "report_photos"

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"),
                                           index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportObligation(Base):
    """A community that owes reports for an event since an orange/red warning reached it.

    Persisted (not derived from the current warning state) because the duty to report stays
    when the warning is lifted: 续报 remain due daily until the 核报 or the event closes.
    """

    __tablename__ = "report_obligations"
    __table_args__ = (UniqueConstraint("event_id", "community_code"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    triggered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    warning_level: Mapped[str] = mapped_column(String(16))
    initial_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportReminder(Base):
    """One reminder sent for one overdue report (stage ``officer`` then ``backup``)."""

    __tablename__ = "report_reminders"
    __table_args__ = (UniqueConstraint("event_id", "community_code", "kind", "due_at", "stage"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # initial | update
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stage: Mapped[str] = mapped_column(String(16))  # officer | backup
    officer_ids: Mapped[list[Any]] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(String(200))


class ResponseThreshold(Base):
    """A response-level threshold held as data (国家自然灾害救助应急预案, DESIGN.md §4.4).

    ``profile`` is ``national`` (the plan's values) or ``city`` (the city's scaled values,
    editable by the administrator); ``indicator`` one of :data:`RESPONSE_INDICATORS`.
    """

    __tablename__ = "response_thresholds"
    __table_args__ = (UniqueConstraint("profile", "level", "indicator"),)

    id: Mapped[intpk]
    profile: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(4))  # I II III IV
    indicator: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))


# Combined indicators the response plan compares against its thresholds.
RESPONSE_INDICATORS = {
    "dead_missing": ("dead", "missing"),
    "evacuated_needing_aid": ("evacuated", "needing_aid"),
    "collapsed_severe_rooms": ("collapsed_rooms", "severely_damaged_rooms"),
    "collapsed_severe_households": ("collapsed_households", "severely_damaged_households"),
}
RESPONSE_LEVELS = ("I", "II", "III", "IV")
