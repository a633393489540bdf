"""Shelter operations: people checking in and leaving, counted at the shelter.

Occupancy is what is counted at the door, nothing else: issuing an evacuation order reserves
no places (:mod:`shelters.orders`). Every check-in or departure is a recorded movement
(:class:`shelters.models.OccupancyChange`: time, user, before and after) and an audit entry.
It is made by a duty officer or administrator, or by the information officer whose scope
covers the shelter's community. Occupancy never goes below 0 nor above capacity here; a
count beyond capacity is refused with a message naming the field ``people``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_community
from disaster.communities import Community
from gis.messages import msg
from gis.schema import validate
from gis.types import utcnow
from shelters.errors import ShelterConflict, ShelterPermissionDenied, ShelterValidationError
from shelters.models import OccupancyChange, OccupancyChangeKind, Shelter, ShelterStatus
from shelters.schemas import MovementIn
from shelters.services import get_shelter, snapshot

OPERATORS = (Role.ADMIN, Role.DUTY_OFFICER)


def may_operate(session: Session, actor: Actor, shelter: Shelter) -> bool:
    """Duty officers and administrators run every shelter; an information officer those in a
    community of their scope."""
    if actor.role in OPERATORS:
        return True
    if actor.role != Role.INFO_OFFICER or not shelter.community_code:
        return False
    community = session.scalar(select(Community).where(Community.code == shelter.community_code))
    return community is not None and covers_community(
        actor, community.code, community.township_code, community.county_code)


def shelters_for(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The shelters ``actor`` may operate, with their community's name, by name."""
    if actor.role not in (*OPERATORS, Role.INFO_OFFICER):
        raise ShelterPermissionDenied(msg("Your role does not run shelters."))
    rows = session.execute(select(Shelter, Community)
                           .join(Community, Community.code == Shelter.community_code,
                                 isouter=True).order_by(Shelter.name, Shelter.code)).all()
    # One query: the scope is checked on the joined community, not looked up per shelter.
    return [snapshot(s) | {"community_name": c.name if c is not None else None}
            for s, c in rows
            if actor.role in OPERATORS or (c is not None and covers_community(
                actor, c.code, c.township_code, c.county_code))]


def record_movement(session: Session, actor: Actor, code: str, data: Any) -> OccupancyChange:
    """Record ``data = {"kind": "arrival"|"departure", "people": n}`` at shelter ``code``.

    A check-in at a shelter on standby opens it; a closed shelter takes nobody. The shelter
    turns full at capacity and open again below it.
    """
    checked = validate(MovementIn, data, error=ShelterValidationError)
    shelter = get_shelter(session, code, lock=True)
    if not may_operate(session, actor, shelter):
        raise ShelterPermissionDenied(msg("You may not record people at %(shelter)s.",
                                          shelter=shelter.name))
    before_count = shelter.occupancy
    before = snapshot(shelter)
    if checked.kind == "arrival":
        if shelter.status == ShelterStatus.CLOSED:
            raise ShelterConflict(msg("%(shelter)s is closed and takes nobody in.",
                                      shelter=shelter.name),
                                  fields={"status": [msg("closed")]}, code="shelter_closed")
        free = max(0, shelter.capacity - before_count)
        if checked.people > free:
            raise ShelterValidationError(
                msg("%(shelter)s has only %(free)s free places of %(capacity)s; "
                    "%(people)s people cannot check in.", shelter=shelter.name, free=free,
                    capacity=shelter.capacity, people=checked.people),
                fields={"people": [msg("at most %(free)s (free places)", free=free)]},
                field_codes={"people": ["too_large"]}, code="over_capacity")
        after = before_count + checked.people
        kind = OccupancyChangeKind.ARRIVAL
        if shelter.status == ShelterStatus.STANDBY:
            shelter.status = ShelterStatus.OPEN
    else:
        if checked.people > before_count:
            raise ShelterValidationError(
                msg("Only %(occupancy)s people are in %(shelter)s; %(people)s cannot leave.",
                    occupancy=before_count, shelter=shelter.name, people=checked.people),
                fields={"people": [msg("at most %(occupancy)s (people present)",
                                       occupancy=before_count)]},
                field_codes={"people": ["too_large"]}, code="below_zero")
        after = before_count - checked.people
        kind = OccupancyChangeKind.DEPARTURE
    shelter.occupancy = after
    if shelter.status == ShelterStatus.OPEN and after >= shelter.capacity:
        shelter.status = ShelterStatus.FULL
    elif shelter.status == ShelterStatus.FULL and after < shelter.capacity:
        shelter.status = ShelterStatus.OPEN
    change = OccupancyChange(
        shelter_id=shelter.id, at=utcnow(), kind=kind, people=checked.people,
        occupancy_before=before_count, occupancy_after=after, capacity=shelter.capacity,
        override=False, reason=None, actor_id=actor.user_id, actor_name=actor.username)
    session.add(change)
    session.flush()
    audit.record(session, actor, f"shelter.{kind.value}", "shelter", code, before,
                 snapshot(shelter) | {"change_id": change.id})
    session.flush()
    return change


def movements(session: Session, code: str, limit: int = 20) -> list[OccupancyChange]:
    """The shelter's latest movements, newest first."""
    shelter = get_shelter(session, code)
    return list(session.scalars(select(OccupancyChange)
                                .where(OccupancyChange.shelter_id == shelter.id)
                                .order_by(OccupancyChange.id.desc()).limit(limit)))
