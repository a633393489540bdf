"""The in-app inbox of a signed-in user, and marking its notifications read.

A user's inbox holds the notifications addressed to the user (depot managers and duty
officers: stock warnings…) and those of the community officer records linked to the user
(information officers: warnings, escalations, report reminders). Only the owner reads them
and marks them read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor
from disaster.errors import DisasterNotFound, DisasterPermissionDenied
from disaster.notify.models import Notification
from disaster.officers import Officer
from gis.types import utcnow

DEFAULT_LIMIT = 100


def linked_officer_ids(session: Session, user_id: int | None) -> list[int]:
    """Ids of the officer records linked to the user (as the officer page finds them)."""
    if user_id is None:
        return []
    return list(session.scalars(select(Officer.id).where(Officer.user_id == user_id)
                                .order_by(Officer.id)))


def _owned_by(session: Session, actor: Actor) -> ColumnElement[bool]:
    if actor.user_id is None:  # the system and the command line have no inbox
        return false()
    officers = linked_officer_ids(session, actor.user_id)
    mine = [Notification.user_id == actor.user_id]
    if officers:
        mine.append(Notification.officer_id.in_(officers))
    return or_(*mine)


def notifications_for(session: Session, actor: Actor, *, unread_only: bool = False,
                      limit: int = DEFAULT_LIMIT) -> list[Notification]:
    """The actor's notifications, newest first.

    Parameters
    ----------
    unread_only
        Leave out those already read.
    limit
        At most this many (the newest).
    """
    stmt = select(Notification).where(_owned_by(session, actor))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(),
                                              Notification.id.desc()).limit(limit)))


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the actor's notifications are unread (for the navigation badge)."""
    return session.scalar(select(func.count(Notification.id)).where(
        _owned_by(session, actor), Notification.read_at.is_(None))) or 0


def _is_owner(session: Session, actor: Actor, note: Notification) -> bool:
    if actor.user_id is None:
        return False
    if note.user_id is not None:
        return note.user_id == actor.user_id
    return note.officer_id in linked_officer_ids(session, actor.user_id)


def mark_read(session: Session, actor: Actor, notification_id: int, *,
              now: dt.datetime | None = None) -> Notification:
    """Mark one of the actor's own notifications read (audited; already read: unchanged).

    Raises
    ------
    DisasterNotFound
        No such notification.
    DisasterPermissionDenied
        It belongs to someone else (administrators included: an inbox is personal).
    """
    note = session.get(Notification, notification_id)
    if note is None:
        raise DisasterNotFound(f"no notification {notification_id}")
    if not _is_owner(session, actor, note):
        raise DisasterPermissionDenied("that notification is not yours")
    if note.read_at is None:
        note.read_at = now or utcnow()
        session.flush()
        audit.record(session, actor, "notification.read", "notification", note.id,
                     {"read_at": None}, {"read_at": note.read_at})
    return note


def mark_all_read(session: Session, actor: Actor, *, now: dt.datetime | None = None) -> int:
    """Mark every unread notification of the actor read; returns how many (audited once)."""
    now = now or utcnow()
    notes = session.scalars(select(Notification).where(
        _owned_by(session, actor), Notification.read_at.is_(None))
        .order_by(Notification.id)).all()
    for note in notes:
        note.read_at = now
    session.flush()
    if notes:
        audit.record(session, actor, "notification.read_all", "notification", None, None,
                     {"ids": [n.id for n in notes], "read_at": now})
    return len(notes)
