"""Disaster events: the unit that reports, assessments and situation reports belong to."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from disaster.warnings.levels import Hazard
from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class EventStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DisasterEvent(Base):
    __tablename__ = "events"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "event_hazard"))
    status: Mapped[EventStatus] = mapped_column(value_enum(EventStatus, "event_status"),
                                                default=EventStatus.OPEN)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # County/township/community codes the event covers.
    area_codes: Mapped[list[Any] | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(40))  # "warning" or "manual"
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
