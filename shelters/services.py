"""Shelter writes: registration, capacity, status and occupancy, each validated and audited.

Every function takes the caller's session and :class:`disaster.access.Actor`, checks the role,
validates, writes, records an audit entry and flushes; none commits.

Only administrators and duty officers change shelters. A separate shelter-manager role was
not added: roles are shared by the whole system (``disaster.access.Role``) and CONTRACT.md fixes
the four of them; duty officers already record arrivals and departures for every shelter.
"""

from __future__ import annotations

import math
from typing import Any

import pydantic
from geoalchemy2.shape import from_shape, to_shape
from pydantic import TypeAdapter
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, role_word
from disaster.areas import Area, AreaLevel
from gis.messages import Message, msg
from gis.schema import error_fields, validate
from gis.spatial import for_update
from gis.types import utcnow
from shelters.errors import (
    ShelterConflict,
    ShelterNotFound,
    ShelterPermissionDenied,
    ShelterValidationError,
)
from shelters.models import (
    DEFAULT_AREA_PER_PERSON_M2,
    OccupancyChange,
    OccupancyChangeKind,
    Shelter,
    ShelterClass,
    ShelterKind,
    ShelterSetting,
    ShelterStatus,
)
from shelters.record_schemas import PeopleNumber, ShelterRecord

# Keys of a shelter record (the capacity norm ``area_per_person_m2`` is create-only input).
_RECORD_KEYS = frozenset(ShelterRecord.model_fields)

WRITERS = (Role.ADMIN, Role.DUTY_OFFICER)
_SHAPE_FIELDS = ("capacity", "capacity_day", "capacity_night", "area_m2", "area_per_person_m2")


# --- access and lookup -------------------------------------------------------------------

def require_writer(actor: Actor, action: Message | str) -> None:
    """Refuse anyone but an administrator or a duty officer (``action``: a msg() or key)."""
    if actor.role not in WRITERS:
        raise ShelterPermissionDenied(msg("the %(role)s role may not %(action)s",
                                          role=role_word(actor.role),
                                          action=action if isinstance(action, Message)
                                          else msg(action)))


def get_shelter(session: Session, code: str, *, lock: bool = False) -> Shelter:
    """The shelter with ``code`` (row-locked until commit on PostGIS when ``lock``)."""
    stmt = select(Shelter).where(Shelter.code == code)
    if lock:
        # Re-read under the lock: an object already in the session may hold stale figures.
        stmt = for_update(stmt, session).execution_options(populate_existing=True)
    shelter = session.scalar(stmt)
    if shelter is None:
        raise ShelterNotFound(msg("shelter %(code)s does not exist", code=code),
                              fields={"code": [msg("unknown")]})
    return shelter


def snapshot(shelter: Shelter) -> dict[str, Any]:
    """A JSON-ready view of the shelter (audit entries and API responses)."""
    point = to_shape(shelter.geom) if shelter.geom is not None else None
    return {
        "code": shelter.code, "name": shelter.name, "kind": _value(shelter.kind),
        "shelter_class": _value(shelter.shelter_class), "level": shelter.level,
        "capacity": shelter.capacity, "capacity_day": shelter.capacity_day,
        "capacity_night": shelter.capacity_night, "area_m2": shelter.area_m2,
        "facilities": shelter.facilities, "status": _value(shelter.status),
        "occupancy": shelter.occupancy, "free": max(0, shelter.capacity - shelter.occupancy),
        "county_code": shelter.county_code, "community_code": shelter.community_code,
        "address": shelter.address,
        "lon": point.x if point is not None else None, "lat": point.y if point is not None else None,
    }


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


# --- validation --------------------------------------------------------------------------

_PEOPLE = TypeAdapter(PeopleNumber)


def _int_field(errors: dict[str, list[str]], name: str, value: Any, *,
               allow_none: bool = True) -> int | None:
    """A count of people read with the shelter schemas' type (:data:`PeopleNumber`)."""
    if value is None:
        if not allow_none:
            errors.setdefault(name, []).append(msg("required"))
        return None
    try:
        return _PEOPLE.validate_python(value)
    except pydantic.ValidationError as exc:
        found, _codes = error_fields(exc)
        errors.setdefault(name, []).extend(m for ms in found.values() for m in ms)
        return None


def _positive_number(errors: dict[str, list[str]], name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.setdefault(name, []).append(msg("must be a number, not %(value)s", value=str(value)))
        return None
    if value <= 0:
        errors.setdefault(name, []).append(msg("must be positive, not %(value)s", value=value))
        return None
    return float(value)


def _enum_field(errors: dict[str, list[str]], name: str, enum_cls: Any, value: Any) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        errors.setdefault(name, []).append(msg("unknown value %(value)s; one of %(choices)s",
                                               value=str(value), choices=allowed))
        return None


def capacity_from_area(area_m2: float, area_per_person_m2: float = DEFAULT_AREA_PER_PERSON_M2) -> int:
    """People an effective area holds at the per-person norm (GB 21734-2008: >1.5 m² each)."""
    # The epsilon keeps 1500 m² / 1.5 at 1000 despite binary floating point.
    return math.floor(area_m2 / area_per_person_m2 + 1e-9)


def check_inside_city(session: Session, point: BaseGeometry) -> None:
    """Refuse a location outside every county of the city (or with no counties loaded)."""
    rows = session.scalars(select(Area.geom).where(Area.level == AreaLevel.COUNTY,
                                                    Area.geom.is_not(None))).all()
    if not rows:
        raise ShelterValidationError(
            msg("no county areas are loaded, so the shelter's location cannot be checked"),
            fields={"geometry": [msg("no county areas to check against")]})
    if not any(to_shape(g).covers(point) for g in rows):
        raise ShelterValidationError(
            msg("the shelter's location (%(lon)s, %(lat)s) lies outside the city",
                lon=f"{point.x:.5f}", lat=f"{point.y:.5f}"),
            fields={"geometry": [msg("outside all county areas of the city")]})


def _shape_values(errors: dict[str, list[str]], data: dict[str, Any],
                  current: Shelter | None) -> dict[str, Any]:
    """Capacity figures after applying ``data`` to ``current`` (derived from area when not given)."""
    out: dict[str, Any] = {}
    area = _positive_number(errors, "area_m2", data["area_m2"]) if "area_m2" in data else (
        current.area_m2 if current is not None else None)
    norm = _positive_number(errors, "area_per_person_m2", data.get("area_per_person_m2"))
    if "capacity" in data and data["capacity"] is not None:
        out["capacity"] = _int_field(errors, "capacity", data["capacity"])
    elif area is not None and ("area_m2" in data or norm is not None):
        out["capacity"] = capacity_from_area(area, norm or DEFAULT_AREA_PER_PERSON_M2)
    elif current is None:
        errors.setdefault("capacity", []).append(msg("give the capacity or the area"))
    if "area_m2" in data:
        out["area_m2"] = area
    for name in ("capacity_day", "capacity_night"):
        if name in data:
            out[name] = _int_field(errors, name, data[name])
    return out


# --- registration and edits --------------------------------------------------------------

def create_shelter(session: Session, actor: Actor, data: dict[str, Any]) -> Shelter:
    """Register a shelter from a record (the record format of the team brief).

    Capacity is ``data["capacity"]`` or, if absent, ``floor(area_m2 / area_per_person_m2)``.
    """
    require_writer(actor, msg("register shelters"))
    # The shelter record schema of the registry import: types, lengths, codes, yes/no flags.
    given = validate(ShelterRecord, {k: v for k, v in data.items() if k in _RECORD_KEYS},
                     what=msg("shelter"), error=ShelterValidationError).values()
    errors: dict[str, list[str]] = {}
    code = given["code"]
    if session.scalar(select(Shelter.id).where(Shelter.code == code)) is not None:
        raise ShelterConflict(msg("shelter %(code)s already exists", code=code),
                              fields={"code": [msg("taken")]})
    name = given.get("name")
    if not name:
        errors["name"] = [msg("required")]
    kind = _enum_field(errors, "kind", ShelterKind, data.get("kind"))
    klass = (None if data.get("shelter_class") is None
             else _enum_field(errors, "shelter_class", ShelterClass, data["shelter_class"]))
    status = _enum_field(errors, "status", ShelterStatus, data.get("status", "standby"))
    shape = _shape_values(errors, data, None)
    occupancy = _int_field(errors, "occupancy", data.get("occupancy", 0)) or 0
    geom = data.get("geometry")
    if not isinstance(geom, Point) or geom.is_empty:
        errors["geometry"] = [msg("a point is required")]
    if errors:
        raise ShelterValidationError(msg("shelter %(shelter)s is invalid", shelter=name or code),
                                     fields=errors)
    capacity = shape["capacity"]
    if occupancy > capacity:
        raise ShelterValidationError(
            msg("%(occupancy)s people exceed the capacity of %(capacity)s",
                occupancy=occupancy, capacity=capacity),
            fields={"occupancy": [msg("exceeds the capacity of %(capacity)s", capacity=capacity)]})
    check_inside_city(session, geom)
    shelter = Shelter(
        code=code, name=name, kind=kind, shelter_class=klass, level=given.get("level"),
        capacity=capacity, capacity_day=shape.get("capacity_day"),
        capacity_night=shape.get("capacity_night"), area_m2=shape.get("area_m2"),
        facilities=given.get("facilities"), status=status, occupancy=occupancy,
        county_code=given.get("county_code"), community_code=given.get("community_code"),
        address=given.get("address"), generated=bool(given.get("generated") or False),
        geom=from_shape(geom, srid=4326))
    session.add(shelter)
    session.flush()
    audit.record(session, actor, "shelter.create", "shelter", code, None, snapshot(shelter))
    session.flush()
    return shelter


def update_capacity(session: Session, actor: Actor, code: str, changes: dict[str, Any], *,
                    override: bool = False, reason: str | None = None) -> Shelter:
    """Change capacity figures (explicit, or from ``area_m2`` and ``area_per_person_m2``).

    Lowering capacity below the people already inside needs ``override`` with a reason.
    """
    require_writer(actor, msg("change shelter capacity"))
    unknown = set(changes) - set(_SHAPE_FIELDS)
    if unknown:
        raise ShelterValidationError(msg("unknown capacity fields"),
                                     fields={k: [msg("unknown field")] for k in sorted(unknown)})
    shelter = get_shelter(session, code, lock=True)
    errors: dict[str, list[str]] = {}
    shape = _shape_values(errors, changes, shelter)
    if errors:
        raise ShelterValidationError(msg("the capacity of %(shelter)s is invalid",
                                         shelter=shelter.name), fields=errors)
    new_capacity = shape.get("capacity", shelter.capacity)
    if shelter.occupancy > new_capacity and not override:
        raise ShelterValidationError(
            msg("%(shelter)s holds %(occupancy)s people, more than the capacity of %(capacity)s",
                shelter=shelter.name, occupancy=shelter.occupancy, capacity=new_capacity),
            fields={"capacity": [msg("below the current occupancy of %(occupancy)s; override "
                                     "needed", occupancy=shelter.occupancy)]})
    if override:
        _require_reason(reason)
    before = snapshot(shelter)
    for name, value in shape.items():
        setattr(shelter, name, value)
    _auto_status(shelter)
    session.flush()
    audit.record(session, actor, "shelter.capacity", "shelter", code, before,
                 snapshot(shelter) | ({"override_reason": reason} if override else {}))
    session.flush()
    return shelter


def set_status(session: Session, actor: Actor, code: str, status: str | ShelterStatus,
               reason: str | None = None) -> Shelter:
    """Open, mark full, put on standby or close a shelter (a closed one must be empty)."""
    require_writer(actor, msg("change shelter status"))
    errors: dict[str, list[str]] = {}
    new = _enum_field(errors, "status", ShelterStatus, status)
    if errors:
        raise ShelterValidationError(msg("unknown status %(status)s", status=str(status)),
                                     fields=errors)
    shelter = get_shelter(session, code, lock=True)
    if new in (ShelterStatus.CLOSED, ShelterStatus.STANDBY) and shelter.occupancy > 0:
        raise ShelterConflict(
            msg("%(shelter)s still holds %(occupancy)s people; record their departure before "
                "setting it %(status)s", shelter=shelter.name, occupancy=shelter.occupancy,
                status=msg(new.value)),
            fields={"status": [msg("the shelter is not empty")]})
    before = snapshot(shelter)
    shelter.status = new
    _auto_status(shelter)
    session.flush()
    audit.record(session, actor, "shelter.status", "shelter", code, before,
                 snapshot(shelter) | ({"reason": reason} if reason else {}))
    session.flush()
    return shelter


def _auto_status(shelter: Shelter) -> None:
    # An open shelter at capacity is full; a full one with room again is open.
    if shelter.status == ShelterStatus.OPEN and shelter.occupancy >= shelter.capacity:
        shelter.status = ShelterStatus.FULL
    elif shelter.status == ShelterStatus.FULL and shelter.occupancy < shelter.capacity:
        shelter.status = ShelterStatus.OPEN


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ShelterValidationError(msg("an override of capacity needs a reason"),
                                     fields={"reason": [msg("required with override")]})
    return reason.strip()


# --- occupancy ---------------------------------------------------------------------------

def record_occupancy(session: Session, actor: Actor, code: str,
                     kind: str | OccupancyChangeKind, people: Any, *, override: bool = False,
                     reason: str | None = None) -> OccupancyChange:
    """Record arrivals, departures or a head count at a shelter.

    Occupancy never exceeds capacity unless ``override`` is given with a ``reason``; such a
    change is flagged in the history and audited as ``shelter.occupancy_override``.
    """
    require_writer(actor, msg("record shelter occupancy"))
    errors: dict[str, list[str]] = {}
    change_kind = _enum_field(errors, "kind", OccupancyChangeKind, kind)
    count = _int_field(errors, "people", people, allow_none=False)
    if change_kind in (OccupancyChangeKind.ARRIVAL, OccupancyChangeKind.DEPARTURE) and count == 0:
        errors.setdefault("people", []).append(msg("must be at least 1"))
    if errors:
        raise ShelterValidationError(msg("the occupancy change is invalid"), fields=errors)
    assert count is not None and change_kind is not None
    shelter = get_shelter(session, code, lock=True)
    before_count = shelter.occupancy
    if change_kind == OccupancyChangeKind.ARRIVAL:
        if shelter.status not in (ShelterStatus.OPEN, ShelterStatus.FULL):
            raise ShelterConflict(
                msg("%(shelter)s is %(status)s; open it before recording arrivals",
                    shelter=shelter.name, status=msg(shelter.status.value)),
                fields={"status": [msg("is %(status)s", status=msg(shelter.status.value))]})
        after = before_count + count
    elif change_kind == OccupancyChangeKind.DEPARTURE:
        if count > before_count:
            raise ShelterValidationError(
                msg("%(count)s departures but only %(present)s people in %(shelter)s",
                    count=count, present=before_count, shelter=shelter.name),
                fields={"people": [msg("more than the %(present)s present",
                                       present=before_count)]})
        after = before_count - count
    else:
        after = count
    exceeds = after > shelter.capacity
    if exceeds and not override:
        raise ShelterValidationError(
            msg("%(occupancy)s people would exceed the capacity of %(capacity)s of %(shelter)s "
                "(%(free)s free)", occupancy=after, capacity=shelter.capacity,
                shelter=shelter.name, free=max(0, shelter.capacity - before_count)),
            fields={"people": [msg("exceeds the capacity of %(capacity)s; override needed",
                                   capacity=shelter.capacity)]})
    why = _require_reason(reason) if exceeds else (reason.strip() if reason else None)
    before = snapshot(shelter)
    shelter.occupancy = after
    _auto_status(shelter)
    change = OccupancyChange(
        shelter_id=shelter.id, at=utcnow(), kind=change_kind, people=count,
        occupancy_before=before_count, occupancy_after=after, capacity=shelter.capacity,
        override=exceeds, reason=why, actor_id=actor.user_id, actor_name=actor.username)
    session.add(change)
    session.flush()
    action = "shelter.occupancy_override" if exceeds else f"shelter.{change_kind.value}"
    audit.record(session, actor, action, "shelter", code, before,
                 snapshot(shelter) | {"change_id": change.id, "reason": why})
    session.flush()
    return change


def record_arrivals(session: Session, actor: Actor, code: str, people: Any, *,
                    override: bool = False, reason: str | None = None) -> OccupancyChange:
    """``people`` arrive at the shelter."""
    return record_occupancy(session, actor, code, OccupancyChangeKind.ARRIVAL, people,
                            override=override, reason=reason)


def record_departures(session: Session, actor: Actor, code: str, people: Any, *,
                      reason: str | None = None) -> OccupancyChange:
    """``people`` leave the shelter."""
    return record_occupancy(session, actor, code, OccupancyChangeKind.DEPARTURE, people,
                            reason=reason)


def occupancy_history(session: Session, code: str) -> list[dict[str, Any]]:
    """Every occupancy change of the shelter, oldest first."""
    shelter = get_shelter(session, code)
    rows = session.scalars(select(OccupancyChange).where(OccupancyChange.shelter_id == shelter.id)
                           .order_by(OccupancyChange.id)).all()
    return [{"id": r.id, "at": r.at.isoformat(), "kind": r.kind.value, "people": r.people,
             "occupancy_before": r.occupancy_before, "occupancy_after": r.occupancy_after,
             "capacity": r.capacity, "override": r.override, "reason": r.reason,
             "actor": r.actor_name} for r in rows]


def apply_patch(session: Session, actor: Actor, code: str, body: dict[str, Any]) -> Shelter:
    """Apply a PATCH document: ``status``, ``occupancy`` (head count), ``arrivals``,
    ``departures``, capacity fields, with ``override`` and ``reason``.

    Validates the whole document before changing anything; the caller's transaction makes the
    steps all-or-nothing.
    """
    require_writer(actor, msg("change shelters"))
    allowed = {"status", "occupancy", "arrivals", "departures", "override", "reason",
               *_SHAPE_FIELDS}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ShelterValidationError(msg("unknown fields"),
                                     fields={k: [msg("unknown field")] for k in unknown})
    override = body.get("override", False)
    if not isinstance(override, bool):
        raise ShelterValidationError(msg("override must be true or false"),
                                     fields={"override": [msg("must be a boolean")]})
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ShelterValidationError(msg("the reason must be text"),
                                     fields={"reason": [msg("must be a string")]})
    if "status" in body:
        _enum_field(errs := {}, "status", ShelterStatus, body["status"])
        if errs:
            raise ShelterValidationError(msg("unknown status %(status)s",
                                             status=str(body["status"])), fields=errs)
    shelter = get_shelter(session, code, lock=True)
    shape = {k: body[k] for k in _SHAPE_FIELDS if k in body}
    if shape:
        update_capacity(session, actor, code, shape, override=override, reason=reason)
    # Opening comes before arrivals; emptying before standby/closing.
    status = body.get("status")
    if status == ShelterStatus.OPEN.value:
        set_status(session, actor, code, status, reason)
    if "departures" in body:
        record_departures(session, actor, code, body["departures"], reason=reason)
    if "arrivals" in body:
        record_arrivals(session, actor, code, body["arrivals"], override=override, reason=reason)
    if "occupancy" in body:
        record_occupancy(session, actor, code, OccupancyChangeKind.COUNT, body["occupancy"],
                         override=override, reason=reason)
    if status is not None and status != ShelterStatus.OPEN.value:
        set_status(session, actor, code, status, reason)
    return shelter


# --- settings (data the administrator tunes) ---------------------------------------------

def get_setting(session: Session, key: str, default: Any) -> Any:
    """The stored value of a shelter setting, or ``default`` when none is stored."""
    value = session.scalar(select(ShelterSetting.value).where(ShelterSetting.key == key))
    return default if value is None else value


def set_setting(session: Session, actor: Actor, key: str, value: Any) -> ShelterSetting:
    """Store a setting (administrators only); the caller validates ``value`` for ``key``."""
    if actor.role != Role.ADMIN:
        raise ShelterPermissionDenied(msg("the %(role)s role may not %(action)s",
                                          role=role_word(actor.role),
                                          action=msg("change shelter settings")))
    row = session.scalar(select(ShelterSetting).where(ShelterSetting.key == key))
    before = None if row is None else {"value": row.value}
    if row is None:
        row = ShelterSetting(key=key, value=value)
        session.add(row)
    row.value = value
    row.updated_at = utcnow()
    row.updated_by = actor.username
    session.flush()
    audit.record(session, actor, "shelter.setting", "shelter_setting", key, before,
                 {"value": value})
    session.flush()
    return row
