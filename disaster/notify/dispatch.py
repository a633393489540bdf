"""Sending notifications: one inbox row per officer, one delivery row per channel.

:func:`send` only writes rows (inside the caller's transaction, so a rolled-back warning
sends nothing); :func:`deliver_pending` does the network work afterwards and records each
delivery's state. Other areas (report deadlines, low stock) call :func:`send` too.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM
from disaster.notify import channels as channels_mod
from disaster.notify.models import Delivery, Notification
from disaster.officers import Officer
from gis.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def send(session: Session, *, officer_ids: list[int], subject: str, body: str, kind: str,
         reference: str | None, channels: Iterable[str] | None = None,
         now: dt.datetime | None = None) -> list[Notification]:
    """Notify each officer: an inbox notification plus a queued delivery per channel.

    Parameters
    ----------
    officer_ids
        Officers to notify (duplicates and inactive officers are skipped).
    kind
        What it is about, e.g. ``alert``, ``escalation``, ``report_due``, ``low_stock``.
    reference
        What it refers to (an alert identifier, a report id…), shown and used for grouping.
    channels
        Channel names besides the inbox; default: those configured in the environment.

    Returns
    -------
    list of Notification
    """
    now = now or utcnow()
    names = [c for c in (channels if channels is not None else channels_mod.from_env())
             if c != "inbox"]
    officers = session.scalars(select(Officer).where(Officer.id.in_(sorted(set(officer_ids))),
                                                     Officer.active.is_(True))).all()
    out = []
    for officer in officers:
        note = Notification(officer_id=officer.id, kind=kind, subject=subject[:300], body=body,
                            reference=reference, token=secrets.token_urlsafe(24),
                            created_at=now)
        session.add(note)
        session.flush()
        session.add(Delivery(notification_id=note.id, channel="inbox",
                             address=f"officer:{officer.id}", state="delivered", updated_at=now))
        for name in names:
            address = officer.email if name == "email" else officer.phone if name == "sms" else None
            session.add(Delivery(notification_id=note.id, channel=name, address=address,
                                 state="queued" if address else "skipped",
                                 last_error=None if address else f"officer has no {name} address",
                                 updated_at=now))
        out.append(note)
    session.flush()
    if out:
        audit.record(session, SYSTEM, "notification.send", "notification", reference, None,
                     {"kind": kind, "officers": [n.officer_id for n in out]})
    return out


def deliver_pending(session: Session, channels: dict[str, channels_mod.Channel] | None = None,
                    *, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt queued deliveries; each ends ``sent`` or, after repeated failures, ``failed``.

    Returns counts ``{"sent", "failed", "retry"}``.
    """
    channels = channels if channels is not None else channels_mod.from_env()
    base = channels_mod.link_base()
    counts = {"sent": 0, "failed": 0, "retry": 0}
    rows = session.execute(
        select(Delivery, Notification).join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.state == "queued").order_by(Delivery.id).limit(limit)).all()
    for delivery, note in rows:
        channel = channels.get(delivery.channel)
        delivery.attempts += 1
        delivery.updated_at = now or utcnow()
        if channel is None:
            delivery.last_error = f"channel {delivery.channel} is not configured"
        else:
            link = f"{base}/alerts/ack/{note.token}" if base else None
            try:
                channel.send(channels_mod.Message(delivery.address or "", note.subject, note.body,
                                                  note.reference, link))
            except channels_mod.ChannelError as exc:
                delivery.last_error = str(exc)
                log.warning("delivery %s via %s failed: %s", delivery.id, delivery.channel, exc)
            else:
                delivery.state = "sent"
                delivery.last_error = None
                counts["sent"] += 1
                continue
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
            counts["failed"] += 1
        else:
            counts["retry"] += 1
    session.flush()
    return counts


def inbox(session: Session, officer_id: int, *, unread_only: bool = False,
          limit: int = 100) -> list[Notification]:
    """An officer's notifications, newest first."""
    stmt = select(Notification).where(Notification.officer_id == officer_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))
