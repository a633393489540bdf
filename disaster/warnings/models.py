"""Warning rules, alert policy, CAP alert messages, acknowledgements and escalations."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from disaster.warnings.levels import Hazard, WarningLevel
from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class MsgType(enum.StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class AlertStatus(enum.StrEnum):
    """CONTRACT.md statuses plus ``pending`` (waiting for a duty officer's approval)."""

    PENDING = "pending"
    ACTIVE = "active"
    UPDATED = "updated"      # superseded by a later message
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class WarningRule(Base):
    """One criterion of DESIGN.md §4.1 as data.

    Criteria with the same ``hazard``, ``level`` and ``group_no`` must all hold (AND);
    groups of one level are alternatives (OR). ``kind``: ``sum`` (accumulation over the
    window ≥ threshold), ``max`` (highest value in the window ≥ threshold), ``min_le`` (lowest
    value ≤ threshold), ``min_lt`` (< threshold), ``drop`` (fall over the window ≥ threshold,
    ``params.to_at_most`` bounds the end value), ``days_max`` (the daily maximum ≥ threshold
    on ``params.days`` consecutive days).
    """

    __tablename__ = "warning_rules"
    __table_args__ = (UniqueConstraint("hazard", "level", "group_no", "variable", "kind"),)

    id: Mapped[intpk]
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "rule_hazard"))
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "rule_level"))
    group_no: Mapped[int] = mapped_column(Integer, default=0)
    variable: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    window_hours: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float] = mapped_column(Float)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class AlertPolicy(Base):
    """Per level: approval requirement and deadline, escalation time, message lifetime."""

    __tablename__ = "alert_policies"

    id: Mapped[intpk]
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "policy_level"),
                                                unique=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_deadline_minutes: Mapped[float] = mapped_column(Float, default=10.0)
    escalate_after_minutes: Mapped[float | None] = mapped_column(Float)
    expires_hours: Mapped[float] = mapped_column(Float, default=24.0)


class Alert(Base):
    """One CAP 1.2 message (Alert, Update or Cancel) for one hazard, level and county."""

    __tablename__ = "alerts"

    id: Mapped[intpk]
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(200))
    sent: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    msg_type: Mapped[MsgType] = mapped_column(value_enum(MsgType, "alert_msg_type"))
    status: Mapped[AlertStatus] = mapped_column(value_enum(AlertStatus, "alert_status"),
                                                index=True)
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "alert_hazard"))
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "alert_level"))
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    communities: Mapped[list[str]] = mapped_column(JSON)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {community code: statistic that met the criterion}, e.g. 3-hour rain in mm.
    peaks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metric: Mapped[str | None] = mapped_column(String(40))
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    headline: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    approve_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approval: Mapped[str] = mapped_column(String(20), default="auto")  # auto approved deadline
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Acknowledgement(Base):
    """An officer's acknowledgement (叫应) of an alert message."""

    __tablename__ = "alert_acks"
    __table_args__ = (UniqueConstraint("alert_id", "officer_id"),)

    id: Mapped[intpk]
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(20))  # api link page phone
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunityAck(Base):
    """An officer's 叫应 of a community's warning of one hazard, at the highest level acknowledged.

    It outlives the message it was given on: every Update or extension of the warning at the
    same or a lower level is covered by it, a higher level asks again, and the row is removed
    when the community's warning of that hazard ends (cancelled or expired), so that a new
    warning asks again.
    """

    __tablename__ = "community_acks"
    __table_args__ = (UniqueConstraint("community_code", "hazard", "officer_id"),)

    id: Mapped[intpk]
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "ack_hazard"))
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "ack_level"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"),
                                            index=True)
    # The message acknowledged (no FK: the acknowledgement outlives pruned messages).
    alert_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(20))  # api link page phone
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    """An orange/red alert not acknowledged in time for a community: the backup was told."""

    __tablename__ = "alert_escalations"
    __table_args__ = (UniqueConstraint("alert_id", "community_code"),)

    id: Mapped[intpk]
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          index=True)
    community_code: Mapped[str] = mapped_column(String(12))
    primary_officer_id: Mapped[int | None] = mapped_column(Integer)
    backup_officer_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
