"""Inbox notifications and their per-channel deliveries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class Notification(Base):
    """One message to one recipient; always readable in the in-app inbox.

    The recipient is either a community information officer (``officer_id``: warnings,
    escalations, report reminders) or a signed-in user (``user_id``: depot managers and duty
    officers, e.g. stock warnings); exactly one of the two is set.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("(officer_id IS NULL) <> (user_id IS NULL)", name="one_recipient"),
    )

    id: Mapped[intpk]
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    # Random secret for the acknowledgement link in e-mail/SMS (no sign-in needed).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One channel's attempt to deliver a notification: queued → sent | failed."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_channel", "state", "channel"),)

    id: Mapped[intpk]
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), index=True)  # queued sent failed delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A delivery worker's claim (disaster.notify.worker): who holds the row and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Earliest retry after a failed attempt (exponential backoff); when the gateway accepted it.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
