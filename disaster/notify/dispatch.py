"""Sending notifications: one inbox row per recipient, one delivery row per channel.

A recipient is a community information officer (``officer_ids``) or a signed-in user
(``user_ids``: depot managers, duty officers). :func:`send` only writes rows (inside the
caller's transaction, so a rolled-back warning sends nothing); :func:`deliver_pending` does
the network work afterwards and records each delivery's state. Other areas (report
deadlines, stock warnings) call :func:`send` too.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor
from disaster.accounts import User
from disaster.notify import channels as channels_mod
from disaster.notify.models import Delivery, Notification
from disaster.officers import Officer
from gis.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def send(session: Session, *, officer_ids: Iterable[int] = (), subject: str, body: str,
         kind: str, reference: str | None, channels: Iterable[str] | None = None,
         now: dt.datetime | None = None, user_ids: Iterable[int] = (),
         actor: Actor = SYSTEM) -> list[Notification]:
    """Notify each officer and user: an inbox notification plus a queued delivery per channel.

    Parameters
    ----------
    officer_ids
        Community information officers to notify (duplicates and inactive ones are skipped).
    user_ids
        Signed-in users to notify, e.g. depot managers and duty officers (duplicates and
        deactivated accounts are skipped). E-mail and SMS go to the user's ``email`` and
        ``phone`` when set.
    kind
        What it is about, e.g. ``alert``, ``escalation``, ``report_reminder``, ``low_stock``.
    reference
        What it refers to (an alert identifier, a report id…), shown and used for grouping.
    channels
        Channel names besides the inbox; default: those configured in the environment.
    actor
        Who sends, for the audit entry (the system for scheduled jobs).

    Returns
    -------
    list of Notification
        Officers' notifications first, then users'.
    """
    now = now or utcnow()
    names = [c for c in (channels if channels is not None else channels_mod.from_env())
             if c != "inbox"]
    officers = session.scalars(select(Officer).where(Officer.id.in_(sorted(set(officer_ids))),
                                                     Officer.active.is_(True))
                               .order_by(Officer.id)).all()
    users = session.scalars(select(User).where(User.id.in_(sorted(set(user_ids))),
                                               User.active.is_(True))
                            .order_by(User.id)).all()
    out = [_notify(session, "officer", o, names, subject, body, kind, reference, now)
           for o in officers]
    out += [_notify(session, "user", u, names, subject, body, kind, reference, now)
            for u in users]
    session.flush()
    if out:
        after: dict[str, Any] = {"kind": kind, "officers": [n.officer_id for n in out
                                                            if n.officer_id is not None]}
        if users:
            after["users"] = [n.user_id for n in out if n.user_id is not None]
        audit.record(session, actor, "notification.send", "notification", reference, None,
                     after)
    return out


def _notify(session: Session, who: str, recipient: Officer | User, names: list[str],
            subject: str, body: str, kind: str, reference: str | None,
            now: dt.datetime) -> Notification:
    """One inbox row for ``recipient`` (an officer or a user) and its delivery rows."""
    note = Notification(kind=kind, subject=subject[:300], body=body, reference=reference,
                        token=secrets.token_urlsafe(24), created_at=now)
    if who == "officer":
        note.officer_id = recipient.id
    else:
        note.user_id = recipient.id
    session.add(note)
    session.flush()
    session.add(Delivery(notification_id=note.id, channel="inbox",
                         address=f"{who}:{recipient.id}", state="delivered", updated_at=now))
    for name in names:
        address = recipient.email if name == "email" else recipient.phone if name == "sms" \
            else None
        session.add(Delivery(notification_id=note.id, channel=name, address=address,
                             state="queued" if address else "skipped",
                             last_error=None if address else f"{who} has no {name} address",
                             updated_at=now))
    return note


def deliver_pending(session: Session, channels: dict[str, channels_mod.Channel] | None = None,
                    *, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt queued deliveries one after another inside the caller's transaction.

    Each ends ``sent`` or, after repeated failures, ``failed``. Rows a delivery worker
    (:mod:`disaster.notify.worker`, the way to send at scale) holds under a lease are left
    to it. Returns counts ``{"sent", "failed", "retry"}``.
    """
    channels = channels if channels is not None else channels_mod.from_env()
    try:
        return _deliver_serially(session, channels, now or utcnow(), limit)
    finally:
        # the kept SMTP sessions and HTTP connections of this batch
        for channel in channels.values():
            channels_mod.close(channel)


def _deliver_serially(session: Session, channels: dict[str, channels_mod.Channel],
                      now: dt.datetime, limit: int) -> dict[str, int]:
    base = channels_mod.link_base()
    counts = {"sent": 0, "failed": 0, "retry": 0}
    rows = session.execute(
        select(Delivery, Notification).join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.state == "queued",
               or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
        .order_by(Delivery.id).limit(limit)).all()
    for delivery, note in rows:
        channel = channels.get(delivery.channel)
        delivery.attempts += 1
        delivery.updated_at = now
        if channel is None:
            delivery.last_error = f"channel {delivery.channel} is not configured"
        else:
            try:
                channel.send(_message(delivery, note, base))
            except channels_mod.ChannelError as exc:
                delivery.last_error = str(exc)
                log.warning("delivery %s via %s failed: %s", delivery.id, delivery.channel, exc)
            else:
                delivery.state = "sent"
                delivery.sent_at = now
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


def _message(delivery: Delivery, note: Notification, base: str | None) -> channels_mod.Message:
    """The message of one delivery; officers get the acknowledgement link, users their inbox."""
    if note.officer_id is not None:
        link = f"{base}/alerts/ack/{note.token}" if base else None
        return channels_mod.Message(delivery.address or "", note.subject, note.body,
                                    note.reference, link, key=delivery_key(delivery.id))
    return channels_mod.Message(delivery.address or "", note.subject, note.body, note.reference,
                                f"{base}/inbox/" if base else None,
                                link_text="查看通知 / open inbox", key=delivery_key(delivery.id))


def delivery_key(delivery_id: int) -> str:
    """The reference a gateway sees for one delivery (the same on every retry)."""
    return f"dlv-{delivery_id}"


def inbox(session: Session, officer_id: int, *, unread_only: bool = False,
          limit: int = 100) -> list[Notification]:
    """An officer's notifications, newest first."""
    stmt = select(Notification).where(Notification.officer_id == officer_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))
