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

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor
from disaster.accounts import User
from disaster.notify import channels as channels_mod
from disaster.notify.models import Delivery, Notification
from disaster.officers import Officer
from gis.spatial import reserve_ids
from gis.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def send(session: Session, *, officer_ids: Iterable[int] = (), subject: str, body: str,
         kind: str, reference: str | None, channels: Iterable[str] | None = None,
         now: dt.datetime | None = None, user_ids: Iterable[int] = (),
         actor: Actor = SYSTEM, load: bool = True) -> list[Notification]:
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
    load
        Return the notifications (false: return nothing and skip reading them back, for
        callers sending to thousands that do not need them).

    Returns
    -------
    list of Notification
        Officers' notifications first, then users'.
    """
    now = now or utcnow()
    names = [c for c in (channels if channels is not None else channels_mod.from_env())
             if c != "inbox"]
    officers = _recipients(session, Officer, officer_ids)
    users = _recipients(session, User, user_ids)
    recipients = [("officer", r) for r in officers] + [("user", r) for r in users]
    if not recipients:
        return []
    # Ids reserved up front, then one executemany each for the notifications and their
    # deliveries: a red warning over a province notifies tens of thousands at once.
    ids = reserve_ids(session, Notification.__tablename__, len(recipients))
    session.execute(insert(Notification), [
        {"id": nid, "kind": kind, "subject": subject[:300], "body": body, "reference": reference,
         "token": secrets.token_urlsafe(24), "created_at": now, "read_at": None,
         "officer_id": r.id if who == "officer" else None,
         "user_id": r.id if who == "user" else None}
        for nid, (who, r) in zip(ids, recipients, strict=True)])
    deliveries = []
    for nid, (who, r) in zip(ids, recipients, strict=True):
        deliveries.append({"notification_id": nid, "channel": "inbox",
                           "address": f"{who}:{r.id}", "state": "delivered", "attempts": 0,
                           "last_error": None, "updated_at": now})
        for name in names:
            address = r.email if name == "email" else r.phone if name == "sms" else None
            deliveries.append({"notification_id": nid, "channel": name, "address": address,
                               "state": "queued" if address else "skipped", "attempts": 0,
                               "last_error": None if address else f"{who} has no {name} address",
                               "updated_at": now})
    session.execute(insert(Delivery), deliveries)
    after: dict[str, Any] = {"kind": kind, "officers": [r.id for who, r in recipients
                                                        if who == "officer"]}
    if users:
        after["users"] = [r.id for who, r in recipients if who == "user"]
    audit.record(session, actor, "notification.send", "notification", reference, None, after)
    if not load:
        return []
    found = {n.id: n for start in range(0, len(ids), 5000) for n in session.scalars(
        select(Notification).where(Notification.id.in_(ids[start:start + 5000])))}
    return [found[i] for i in ids]


def _recipients(session: Session, model: Any, ids: Iterable[int]) -> list[Any]:
    """The active officers or users among ``ids``, by id (looked up in chunks: bind limits)."""
    wanted = sorted(set(ids))
    found: list[Any] = []
    for start in range(0, len(wanted), 5000):
        found += session.execute(
            select(model.id, model.email, model.phone).where(
                model.id.in_(wanted[start:start + 5000]), model.active.is_(True))
            .order_by(model.id)).all()
    return found


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
