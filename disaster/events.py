"""Disaster events: the unit that reports, assessments and situation reports belong to."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.errors import DisasterConflict, DisasterNotFound, DisasterValidationError
from disaster.warnings.levels import HAZARD_NAMES_ZH, Hazard
from gis.db import Base
from gis.messages import msg
from gis.types import UTCDateTime, intpk, utcnow, value_enum

SHANGHAI = ZoneInfo("Asia/Shanghai")


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


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------

def _snapshot(event: DisasterEvent) -> dict[str, Any]:
    return {"code": event.code, "name": event.name, "hazard": event.hazard.value,
            "status": event.status.value, "started_at": event.started_at,
            "ended_at": event.ended_at, "area_codes": event.area_codes, "source": event.source}


def event_dict(event: DisasterEvent) -> dict[str, Any]:
    """The JSON form of an event (API, CLI)."""
    return {"id": event.id, **_jsonable(_snapshot(event))}


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in d.items()}


def covers(event: DisasterEvent, community_code: str) -> bool:
    """True when the event's area includes the community (no area: the whole region)."""
    return coverage(event)(community_code)


def coverage(event: DisasterEvent) -> Callable[[str], bool]:
    """A fast test of :func:`covers` for one event and many communities.

    An area covers the communities whose code it prefixes: look up each prefix length the
    area codes have in a set, instead of comparing every code (a storm's event spans
    hundreds of counties, a province thousands of communities).
    """
    if not event.area_codes:
        return lambda code: True
    codes = {str(c) for c in event.area_codes}
    lengths = sorted({len(c) for c in codes})
    return lambda code: any(code[:n] in codes for n in lengths if n <= len(code))


def _new_code(session: Session, hazard: Hazard, started_at: dt.datetime) -> str:
    local = started_at.astimezone(SHANGHAI)
    base = f"EV{local:%Y%m%d}-{hazard.value}"
    taken = set(session.scalars(select(DisasterEvent.code).where(
        DisasterEvent.code.like(base + "%"))))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_event(session: Session, actor: Actor, *, hazard: Hazard | str,
                 started_at: dt.datetime | None = None, name: str | None = None,
                 area_codes: list[str] | None = None, code: str | None = None,
                 source: str = "manual") -> DisasterEvent:
    """Open a disaster event (duty officers and administrators; jobs as ``SYSTEM``).

    ``area_codes`` are county, township or community codes; empty means the whole region.
    """
    require_role(actor, Role.ADMIN, Role.DUTY_OFFICER, action="creating events")
    fields: dict[str, list[str]] = {}
    try:
        hazard = Hazard(hazard)
    except ValueError:
        fields["hazard"] = [msg("unknown hazard %(hazard)s", hazard=hazard)]
    started_at = started_at or utcnow()
    if started_at.tzinfo is None:
        fields["started_at"] = [msg("must include a time zone")]
    elif started_at > utcnow() + dt.timedelta(minutes=5):
        fields["started_at"] = [msg("is in the future")]
    codes = [str(c).strip() for c in (area_codes or []) if str(c).strip()]
    bad = [c for c in codes if not (c.isdigit() and len(c) in (6, 9, 12))]
    if bad:
        fields["area_codes"] = [msg("not county, township or community codes: %(codes)s",
                                    codes=", ".join(bad))]
    if code is not None and not (0 < len(code) <= 40):
        fields["code"] = [msg("1 to 40 characters")]
    if fields:
        raise DisasterValidationError(msg("the event has invalid fields"), fields=fields)
    if code and session.scalar(select(DisasterEvent.id).where(DisasterEvent.code == code)):
        raise DisasterConflict(msg("event %(code)s exists", code=code),
                               fields={"code": [msg("already used")]})
    assert isinstance(hazard, Hazard)
    event = DisasterEvent(
        code=code or _new_code(session, hazard, started_at),
        name=(name or "").strip() or f"{HAZARD_NAMES_ZH[hazard]} "
                                      f"{started_at.astimezone(SHANGHAI):%Y-%m-%d}",
        hazard=hazard, status=EventStatus.OPEN, started_at=started_at,
        area_codes=codes, source=source, created_by=actor.user_id)
    session.add(event)
    session.flush()
    audit.record(session, actor, "event.create", "event", event.code, None, _snapshot(event))
    # Warnings already in force belong to the event from its start (its peak impact).
    from disaster.event_impact import record_peaks
    record_peaks(session, events=[event])
    return event


def get_event(session: Session, event_id: int | str) -> DisasterEvent:
    """An event by id or code."""
    event = None
    text = str(event_id)
    # ASCII digits only ('¹'.isdigit() is true) within the INTEGER id column; else a code.
    if (isinstance(event_id, int) or (text.isascii() and text.isdigit())) and \
            0 < int(text) <= 2**31 - 1:
        event = session.get(DisasterEvent, int(text))
    if event is None:
        event = session.scalar(select(DisasterEvent).where(DisasterEvent.code == str(event_id)))
    if event is None:
        raise DisasterNotFound(msg("no event %(event)s", event=event_id),
                               fields={"event": [msg("unknown event")]})
    return event


def list_events(session: Session, status: EventStatus | str | None = None) -> list[DisasterEvent]:
    """Events, newest first; optionally only ``open`` or ``closed`` ones."""
    stmt = select(DisasterEvent).order_by(DisasterEvent.started_at.desc(), DisasterEvent.id.desc())
    if status:
        stmt = stmt.where(DisasterEvent.status == EventStatus(status))
    return list(session.scalars(stmt))


def close_event(session: Session, actor: Actor, event_id: int | str,
                ended_at: dt.datetime | None = None) -> DisasterEvent:
    """Close an event: no more reports are due or accepted for it, and the peak impact it
    held (:mod:`disaster.event_impact`) no longer counts."""
    require_role(actor, Role.ADMIN, Role.DUTY_OFFICER, action="closing events")
    event = get_event(session, event_id)
    if event.status == EventStatus.CLOSED:
        raise DisasterConflict(msg("event %(name)s is already closed", name=event.name),
                               code="already_closed")
    ended_at = ended_at or utcnow()
    if ended_at < event.started_at:
        raise DisasterValidationError(msg("the event has invalid fields"),
                                      fields={"ended_at": [msg("is before the event started")]})
    before = _snapshot(event)
    event.status = EventStatus.CLOSED
    event.ended_at = ended_at
    session.flush()
    audit.record(session, actor, "event.close", "event", event.code, before, _snapshot(event))
    return event


def extend_area(session: Session, actor: Actor, event: DisasterEvent, code: str) -> None:
    """Add a community (reached by a warning) to an event's area, audited."""
    if not event.area_codes or covers(event, code):
        return
    before = list(event.area_codes)
    event.area_codes = [*before, code]
    audit.record(session, actor, "event.extend_area", "event", event.code,
                 {"area_codes": before}, {"area_codes": event.area_codes})


# Run for every report filed: built once.
_OPEN_EVENTS = (select(DisasterEvent)
                .where(DisasterEvent.status == EventStatus.OPEN,
                       DisasterEvent.hazard == bindparam("hazard", type_=DisasterEvent.hazard.type))
                .order_by(DisasterEvent.started_at.desc(), DisasterEvent.id.desc()))


def open_event_for(session: Session, hazard: Hazard, community_code: str) -> DisasterEvent | None:
    """The most recent open event of ``hazard`` whose area covers the community."""
    for event in session.scalars(_OPEN_EVENTS, {"hazard": hazard}):
        if covers(event, community_code):
            return event
    return None
