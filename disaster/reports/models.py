"""The report record: one row per submission, the latest per event and community counts."""

from __future__ import annotations

import datetime as dt
import enum

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from disaster.warnings.levels import Hazard
from gis.db import Base
from gis.types import UTCDateTime, geometry, intpk, utcnow, value_enum


class ReportKind(enum.StrEnum):
    INITIAL = "initial"   # 初报
    UPDATE = "update"     # 续报
    FINAL = "final"       # 核报


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
