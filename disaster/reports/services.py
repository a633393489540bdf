"""Filing and reading field reports (初报/续报/核报): the one write path for every caller.

Rules (《自然灾害情况统计调查制度》, DESIGN.md §4.3): one 初报 per event and community; each
续报 replaces the previous figures (they are cumulative, not added); a 核报 closes the
community's reporting for the event. A retried submission with the same Idempotency-Key
returns the first result instead of filing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import bindparam, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from disaster import audit
from disaster.access import SYSTEM, Actor, Role, require_community, require_role
from disaster.areas import Area
from disaster.communities import Community
from disaster.errors import (
    DisasterConflict,
    DisasterNotFound,
    DisasterPermissionDenied,
    DisasterValidationError,
)
from disaster.events import (
    DisasterEvent,
    EventStatus,
    covers,
    create_event,
    get_event,
    open_event_for,
)
from disaster.reports.models import INDICATORS, Report, ReportKind, ReportPhoto
from disaster.reports.photos import MAX_PHOTOS, clean_photo
from disaster.reports.validation import clean_report
from gis.geometry import project_utm
from gis.messages import Message, msg
from gis.spatial import for_update
from gis.types import utcnow

# GPS on a phone is good to tens of metres; a point this close outside the polygon is taken
# as inside (boundaries of generated or digitised communities are no better than that).
LOCATION_TOLERANCE_M = 200.0
MAX_KEY = 120


# The statements of the intake path, built once: a province's officers file hundreds of
# reports a second in a disaster, and building a statement costs about as much as running it.
_COMMUNITY = (select(Community).where(Community.code == bindparam("code"))
              .options(load_only(Community.code, Community.township_code, Community.county_code,
                                 Community.population, Community.households)))
_RELATED_COLUMNS = (Report.id, Report.event_id, Report.kind, Report.is_latest,
                    Report.idempotency_key, Report.submitted_by)
_RELATED = select(*_RELATED_COLUMNS).where(or_(Report.community_code == bindparam("community"),
                                               Report.idempotency_key == bindparam("key")))
_RELATED_NO_KEY = select(*_RELATED_COLUMNS).where(Report.community_code == bindparam("community"))
_NOT_LATEST = (update(Report).where(Report.id.in_(bindparam("ids", expanding=True)))
               .values(is_latest=False))


def _refuse(errors: Mapping[str, list[Any]]) -> None:
    if errors:
        # The summary a phone shows: the first field (its name translated) and its problem.
        field, problems = next(iter(errors.items()))
        raise DisasterValidationError(
            msg("%(field)s: %(problem)s", field=Message(field), problem=problems[0]),
            fields=dict(errors), field_codes=dict(getattr(errors, "codes", {})))


def submit_report(session: Session, actor: Actor, data: Mapping[str, Any], *,
                  idempotency_key: str | None = None, photos: Iterable[bytes] = (),
                  now: dt.datetime | None = None) -> tuple[Report, bool]:
    """File a report for a community; return ``(report, replayed)``.

    Parameters
    ----------
    data
        CONTRACT.md report fields; ``event`` (id or code) optional: by default the open
        event of the hazard covering the community, or for a 初报 a new one.
    idempotency_key
        A client-chosen key; resubmitting it returns the first report (``replayed`` true).
    photos
        Raw JPEG/PNG bytes, stored re-encoded without metadata.
    """
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="filing reports")
    now = now or utcnow()
    key = (idempotency_key or "").strip() or None
    values, errors = clean_report(data, now)
    if key is not None and len(key) > MAX_KEY:
        errors.add("Idempotency-Key", msg("at most %(max_length)s characters",
                                          max_length=MAX_KEY), "too_long")
    community = None
    if values["community"]:
        # Locking the community row serialises submissions per community (PostGIS; SQLite
        # transactions are serialised anyway): two retries of one submission, or two
        # officers filing the same 初报, cannot both pass the checks below. Only the codes
        # are read: the polygon is loaded when a location must be checked.
        community = session.scalar(for_update(_COMMUNITY, session),
                                   {"code": values["community"]})
        if community is None:
            errors.add("community", msg("unknown community %(code)s",
                                        code=values["community"]), "unknown")
        else:
            _within_community(community, values, errors)
    _refuse(errors)
    assert community is not None
    require_community(actor, community.code, community.township_code, community.county_code,
                      name=community.name)
    # One query for both the replay check and the community's earlier reports, read under
    # the lock: a concurrent retry of the same key has committed by now.
    related = session.execute(_RELATED if key is not None else _RELATED_NO_KEY,
                              {"community": community.code, "key": key}).all()
    if key is not None:
        first = _replay(session, actor, key, related)
        if first is not None:
            _same_submission(first, values)
            return first, True
    if values["location"] is not None and not _inside(community, values["location"]):
        errors.add("location", msg("outside %(community)s", community=community.name))
    photo_list = list(photos)
    if len(photo_list) > MAX_PHOTOS:
        errors.add("photos", msg("at most %(count)s photos", count=MAX_PHOTOS))
    _refuse(errors)
    cleaned = [clean_photo(raw, f"photos[{i}]") for i, raw in enumerate(photo_list)]

    event = _resolve_event(session, actor, values, community)
    # (A row found by the key alone would have been replayed above: these are this
    # community's reports for the event.)
    previous = [row for row in related if row.event_id == event.id]
    kind: ReportKind = values["kind"]
    kinds = {row.kind for row in previous}
    if ReportKind.FINAL in kinds:
        raise DisasterConflict(msg("the final report of %(community)s for %(event)s closed its "
                                   "reporting", community=community.name, event=event.name),
                               fields={"kind": [msg("reporting closed by the final report")]})
    if kind == ReportKind.INITIAL and ReportKind.INITIAL in kinds:
        raise DisasterConflict(msg("%(community)s already filed its initial report for "
                                   "%(event)s", community=community.name, event=event.name),
                               fields={"kind": [msg("initial report already filed; "
                                                    "file an update")]})
    if kind != ReportKind.INITIAL and ReportKind.INITIAL not in kinds:
        raise DisasterConflict(msg("%(community)s has no initial report for %(event)s yet",
                                   community=community.name, event=event.name),
                               fields={"kind": [msg("file the initial report first")]})

    stale = [row.id for row in previous if row.is_latest]
    if stale:
        session.execute(_NOT_LATEST, {"ids": stale})
    report = Report(
        event=event, event_id=event.id, community_code=community.code, kind=kind, hazard=values["hazard"],
        occurred_at=values["occurred_at"], submitted_at=now, submitted_by=actor.user_id,
        idempotency_key=key, is_latest=True, notes=values["notes"],
        location=(from_shape(Point(values["location"]), srid=4326)
                  if values["location"] else None),
        **{name: values[name] for name in INDICATORS})
    session.add(report)
    try:
        session.flush()
    except IntegrityError as exc:
        # Only the key can collide here: the same key reused for another community.
        raise DisasterConflict(msg("Idempotency-Key already used for another submission"),
                               fields={"Idempotency-Key": [msg("already used")]}) from exc
    for photo in cleaned:
        session.add(ReportPhoto(report_id=report.id, content_type=photo.content_type,
                                width=photo.width, height=photo.height,
                                size_bytes=len(photo.data), sha256=photo.sha256,
                                data=photo.data))
    audit.record(session, actor, f"report.{kind.value}", "report", report.id, None,
                 {"event": event.code, "community": community.code, "kind": kind.value,
                  **{name: values[name] for name in INDICATORS},
                  "photos": len(cleaned)})
    session.flush()
    return report, False


def _replay(session: Session, actor: Actor, key: str, related: Iterable[Any]) -> Report | None:
    row = next((r for r in related if r.idempotency_key == key), None)
    if row is None:
        return None
    if row.submitted_by != actor.user_id:
        # Keys are per client; another user's key must not reveal that user's report.
        raise DisasterConflict(msg("Idempotency-Key already used by another submitter"),
                               fields={"Idempotency-Key": [msg("already used")]})
    return session.get(Report, row.id)


def _within_community(community: Community, values: Mapping[str, Any], errors: Any) -> None:
    """No more people affected than live in the community, no more houses than it has."""
    population, households = community.population or 0, community.households or 0
    if population and values["affected_people"] > population:
        errors.add("affected_people",
                   msg("%(value)s exceeds the population of %(community)s (%(population)s)",
                       value=values["affected_people"], community=community.name,
                       population=population), "too_large")
    if households:
        for name in ("collapsed_households", "severely_damaged_households",
                     "generally_damaged_households"):
            if values[name] > households:
                errors.add(name, msg("%(value)s exceeds the households of %(community)s "
                                     "(%(households)s)", value=values[name],
                                     community=community.name, households=households),
                           "too_large")


def _same_submission(first: Report, values: Mapping[str, Any]) -> None:
    """A replayed Idempotency-Key must carry the body first filed with it (422 otherwise)."""
    stored: dict[str, Any] = {name: getattr(first, name) for name in INDICATORS}
    stored |= {"community": first.community_code, "kind": first.kind, "hazard": first.hazard,
               "occurred_at": first.occurred_at, "notes": first.notes}
    differ = [name for name, value in stored.items() if not _equal(value, values.get(name))]
    if "event" in values and values["event"] not in (str(first.event_id), first.event.code):
        differ.append("event")
    location = None
    if first.location is not None:
        p = to_shape(first.location)
        location = (p.x, p.y)
    if not _equal(location, values.get("location")):
        differ.append("location")
    if differ:
        problem = msg("differs from the report first filed with this Idempotency-Key")
        fields = {"Idempotency-Key": [msg("already used for a different report")]}
        fields |= {name: [problem] for name in differ}
        raise DisasterValidationError(
            msg("Idempotency-Key already used for a different report: %(fields)s",
                fields=", ".join(differ)), fields=fields,
            field_codes={name: ["idempotency_mismatch"] for name in fields},
            code="idempotency_mismatch")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(abs(x - y) < 1e-9 for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs((a - b).total_seconds()) < 1e-3
    return a == b


def _inside(community: Community, lonlat: tuple[float, float]) -> bool:
    if community.geom is None:
        return True
    polygon = to_shape(community.geom)
    point = Point(lonlat)
    if polygon.covers(point):
        return True
    # Measure the miss in metres (UTM 50N), never in degrees.
    to_m = lambda xy: np.column_stack(project_utm(xy[:, 0], xy[:, 1]))  # noqa: E731
    return shapely.transform(polygon, to_m).distance(
        shapely.transform(point, to_m)) <= LOCATION_TOLERANCE_M


def _resolve_event(session: Session, actor: Actor, values: dict[str, Any],
                   community: Community) -> DisasterEvent:
    if "event" in values:
        event = get_event(session, values["event"])
        problems: list[Message] = []
        if event.status != EventStatus.OPEN:
            problems.append(msg("%(event)s is closed", event=event.name))
        if event.hazard != values["hazard"]:
            problems.append(msg("%(event)s is a %(hazard)s event", event=event.name,
                                hazard=msg(event.hazard.value)))
        if not covers(event, community.code):
            problems.append(msg("%(community)s is outside %(event)s", community=community.name,
                                event=event.name))
        if problems:
            raise DisasterValidationError(problems[0], fields={"event": problems})
        return event
    event = open_event_for(session, values["hazard"], community.code)
    if event is not None:
        return event
    if values["kind"] != ReportKind.INITIAL:
        raise DisasterConflict(msg("no open %(hazard)s event covers %(community)s",
                                   hazard=msg(values["hazard"].value), community=community.name),
                               fields={"event": [msg("no open event")]})
    # An unwarned disaster (hail, a local flash flood) still gets reported: its first 初报
    # opens an event for the county, which the duty officer can rename or close. The county
    # row is locked first so that simultaneous first reports open one event, not several.
    session.execute(for_update(select(Area.id).where(Area.code == community.county_code),
                               session))
    event = open_event_for(session, values["hazard"], community.code)
    if event is not None:
        return event
    return create_event(session, SYSTEM, hazard=values["hazard"],
                        started_at=min(values["occurred_at"], utcnow()),
                        area_codes=[community.county_code], source="report")


def report_dict(report: Report, event_code: str | None = None,
                photo_ids: list[int] | None = None) -> dict[str, Any]:
    """The JSON form of a report (CONTRACT.md field names)."""
    location = None
    if report.location is not None:
        p = to_shape(report.location)
        location = {"type": "Point", "coordinates": [p.x, p.y]}
    return {"id": report.id, "event": report.event_id, "event_code": event_code,
            "community": report.community_code, "kind": report.kind.value,
            "hazard": report.hazard.value, "occurred_at": report.occurred_at.isoformat(),
            "submitted_at": report.submitted_at.isoformat(), "is_latest": report.is_latest,
            **{name: getattr(report, name) for name in INDICATORS},
            "notes": report.notes, "location": location, "photos": photo_ids or [],
            "review_status": report.review_status.value}


def scope_filter(actor: Actor) -> Any:
    """SQL condition limiting ``Report.community_code`` to the actor's scope (None: all)."""
    if actor.role in (Role.ADMIN, Role.DUTY_OFFICER):
        return None
    if not actor.scopes:
        return false()
    return or_(*[Report.community_code.startswith(code) for code in sorted(actor.scopes)])


def list_reports(session: Session, actor: Actor, *, community: str | None = None,
                 event: int | str | None = None, latest_only: bool = False,
                 limit: int = 500) -> list[dict[str, Any]]:
    """Reports the actor may read, newest first (officers: their communities only)."""
    stmt = (select(Report, DisasterEvent.code).join(DisasterEvent,
                                                    DisasterEvent.id == Report.event_id)
            .order_by(Report.submitted_at.desc(), Report.id.desc()).limit(max(1, min(limit,
                                                                                    5000))))
    if community:
        row = session.scalar(select(Community).where(Community.code == community))
        if row is None:
            raise DisasterNotFound(msg("unknown community %(code)s", code=community),
                                   fields={"community": [msg("unknown")]})
        require_community(actor, row.code, row.township_code, row.county_code, name=row.name)
        stmt = stmt.where(Report.community_code == community)
    else:
        cond = scope_filter(actor)
        if cond is not None:
            stmt = stmt.where(cond)
    if event not in (None, ""):
        stmt = stmt.where(Report.event_id == get_event(session, event).id)
    if latest_only:
        stmt = stmt.where(Report.is_latest.is_(True))
    rows = session.execute(stmt).all()
    photos: dict[int, list[int]] = {}
    if rows:
        for pid, rid in session.execute(select(ReportPhoto.id, ReportPhoto.report_id).where(
                ReportPhoto.report_id.in_([r.id for r, _ in rows])).order_by(ReportPhoto.id)):
            photos.setdefault(rid, []).append(pid)
    return [report_dict(r, code, photos.get(r.id)) for r, code in rows]


def get_photo(session: Session, actor: Actor, photo_id: int) -> ReportPhoto:
    """A stored photo, if the actor may read its report's community."""
    photo = session.get(ReportPhoto, photo_id)
    if photo is None:
        raise DisasterNotFound(msg("no photo %(id)s", id=photo_id))
    report = session.get(Report, photo.report_id)
    assert report is not None
    try:
        require_community(actor, report.community_code)
    except DisasterPermissionDenied:
        raise DisasterNotFound(msg("no photo %(id)s", id=photo_id)) from None
    return photo


def photo_ids(session: Session, report_id: int) -> list[int]:
    """Ids of a report's photos in upload order."""
    return list(session.scalars(select(ReportPhoto.id).where(
        ReportPhoto.report_id == report_id).order_by(ReportPhoto.id)))
