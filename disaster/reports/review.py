"""Review of field reports: the duty officer verifies a report or returns it with a comment;
the officer corrects a returned report and resends it (what Ushahidi users expect).

A report waits for review (``pending``) when filed and again after each resend. Every step
is a :class:`~disaster.reports.models.ReportReview` row (returned with its comment, resent
with the figures before and after, verified), so the history stays readable after the
correction; the report row holds the current state only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_community, require_role
from disaster.accounts import User
from disaster.areas import Area
from disaster.communities import Community
from disaster.errors import (
    DisasterConflict,
    DisasterNotFound,
    DisasterPermissionDenied,
    DisasterValidationError,
)
from disaster.events import DisasterEvent, get_event
from disaster.notify import dispatch
from disaster.reports.models import (
    INDICATORS,
    Report,
    ReportKind,
    ReportPhoto,
    ReportReview,
    ReviewStatus,
)
from disaster.reports.review_schemas import ReportCorrection, ReviewDecision, ReviewQuery
from disaster.reports.services import MAX_KEY, _inside, _refuse, scope_filter
from disaster.reports.validation import clean_report, parse_time
from gis.messages import msg
from gis.schema import validate
from gis.spatial import for_update
from gis.types import utcnow

KIND_ZH = {ReportKind.INITIAL: "初报", ReportKind.UPDATE: "续报", ReportKind.FINAL: "核报"}
# What a resend may change: the figures, the time, the notes and the position. Community,
# kind, hazard and event define which report this is and stay as filed.
CORRECTABLE = ("occurred_at", *INDICATORS, "notes", "location")


def _actor_name(session: Session, actor: Actor) -> str:
    if actor.user_id is None:
        return actor.username
    user = session.get(User, actor.user_id)
    return (user.display_name or user.username) if user else actor.username


def _locked_report(session: Session, report_id: int) -> Report:
    report = session.scalar(for_update(select(Report).where(Report.id == report_id), session))
    if report is None:
        raise DisasterNotFound(msg("no report %(id)s", id=report_id))
    return report


def _community(session: Session, code: str) -> Community | None:
    return session.scalar(select(Community).where(Community.code == code))


def _figures(report: Report) -> dict[str, Any]:
    return {name: getattr(report, name) for name in INDICATORS}


def review_report(session: Session, actor: Actor, report_id: int, data: Mapping[str, Any],
                  *, now: dt.datetime | None = None) -> Report:
    """Mark a waiting report verified, or return it to its officer with a comment.

    Only duty officers and administrators review; only a report waiting for review can be
    decided (409 otherwise: someone else decided first, or it is back with the officer).
    A returned report's submitter is told in their inbox.
    """
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="reviewing reports")
    decision = validate(ReviewDecision, data, error=DisasterValidationError)
    now = now or utcnow()
    report = _locked_report(session, report_id)
    if report.review_status != ReviewStatus.PENDING:
        raise DisasterConflict(msg("this report is not waiting for review"),
                               fields={"decision": [msg("not waiting for review")]},
                               code="not_pending")
    name = _actor_name(session, actor)
    status = ReviewStatus(decision.decision)
    before = {"review_status": report.review_status.value}
    report.review_status = status
    session.add(ReportReview(report_id=report.id, action=status.value,
                             comment=decision.comment or None, actor_id=actor.user_id,
                             actor_name=name, at=now,
                             after=_figures(report) if status == ReviewStatus.RETURNED else None))
    session.flush()
    audit.record(session, actor, "report.verify" if status == ReviewStatus.VERIFIED
                 else "report.return", "report", report.id, before,
                 {"review_status": status.value, "comment": decision.comment or None})
    if status == ReviewStatus.RETURNED and report.submitted_by is not None:
        community = _community(session, report.community_code)
        place = community.name if community else report.community_code
        # Stored text (the inbox shows it as written): in the customer's language.
        dispatch.send(session, user_ids=[report.submitted_by], actor=actor,
                      subject=f"灾情报告被退回：{place}{KIND_ZH[report.kind]}",
                      body=f"{name}：{decision.comment}。请在信息员页面修改后重新报送。",
                      kind="report_returned", reference=f"report:{report.id}", now=now)
    session.flush()
    return report


def resend_report(session: Session, actor: Actor, report_id: int, data: Mapping[str, Any], *,
                  idempotency_key: str | None = None,
                  now: dt.datetime | None = None) -> tuple[Report, bool]:
    """Correct a returned report and send it back for review; return ``(report, replayed)``.

    The corrected report goes through the same validation as filing
    (:func:`~disaster.reports.validation.clean_report`); fields left out keep their filed
    values. An officer corrects only reports of their own communities. Replaying the same
    Idempotency-Key returns the report without applying the correction twice.
    """
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="correcting reports")
    correction = validate(ReportCorrection, data,
                          error=DisasterValidationError).model_dump(exclude_unset=True)
    now = now or utcnow()
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        _refuse({"Idempotency-Key": [f"at most {MAX_KEY} characters"]})
    report = _locked_report(session, report_id)
    community = _community(session, report.community_code)
    assert community is not None
    try:
        require_community(actor, community.code, community.township_code, community.county_code,
                          name=community.name)
    except DisasterPermissionDenied:
        # Another community's report: as if it did not exist.
        raise DisasterNotFound(msg("no report %(id)s", id=report_id)) from None
    if key is not None:
        step = session.scalar(select(ReportReview).where(ReportReview.idempotency_key == key))
        if step is not None:
            if step.report_id != report.id or step.actor_id != actor.user_id:
                raise DisasterConflict(msg("Idempotency-Key already used for another submission"),
                                       fields={"Idempotency-Key": [msg("already used")]})
            return report, True
    if report.review_status != ReviewStatus.RETURNED:
        raise DisasterConflict(msg("only a returned report can be corrected and resent"),
                               fields={"review_status": [msg("not returned")]},
                               code="not_returned")
    current: dict[str, Any] = {
        "community": report.community_code, "kind": report.kind.value,
        "hazard": report.hazard.value, "event": report.event_id,
        "occurred_at": report.occurred_at.isoformat(), "notes": report.notes,
        **_figures(report)}
    if report.location is not None:
        p = to_shape(report.location)
        current["location"] = {"type": "Point", "coordinates": [p.x, p.y]}
    merged = {**current, **{k: v for k, v in correction.items() if k in CORRECTABLE}}
    values, errors = clean_report(merged, now)
    if values.get("location") is not None and not _inside(community, values["location"]):
        errors.add("location", msg("outside %(community)s", community=community.name))
    _refuse(errors)
    before = {"occurred_at": report.occurred_at.isoformat(), "notes": report.notes,
              **_figures(report)}
    report.occurred_at = values["occurred_at"]
    report.notes = values["notes"]
    report.location = (from_shape(Point(values["location"]), srid=4326)
                       if values["location"] else None)
    for name in INDICATORS:
        setattr(report, name, values[name])
    report.review_status = ReviewStatus.PENDING
    after = {"occurred_at": report.occurred_at.isoformat(), "notes": report.notes,
             **_figures(report)}
    session.add(ReportReview(report_id=report.id, action="resent", actor_id=actor.user_id,
                             actor_name=_actor_name(session, actor), at=now, before=before,
                             after=after, idempotency_key=key))
    session.flush()
    audit.record(session, actor, "report.resend", "report", report.id,
                 {**before, "review_status": ReviewStatus.RETURNED.value},
                 {**after, "review_status": ReviewStatus.PENDING.value})
    session.flush()
    return report, False


def history(session: Session, report_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Review steps per report, oldest first."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not report_ids:
        return out
    for step in session.scalars(select(ReportReview).where(
            ReportReview.report_id.in_(report_ids)).order_by(ReportReview.at, ReportReview.id)):
        out.setdefault(step.report_id, []).append(
            {"action": step.action, "comment": step.comment, "actor": step.actor_name,
             "at": step.at.isoformat()})
    return out


def _point(wkb: Any) -> list[float] | None:
    if wkb is None:
        return None
    p = to_shape(wkb)
    return [round(p.x, 6), round(p.y, 6)]


def _base_query() -> Any:
    return (select(Report, DisasterEvent.code, DisasterEvent.name, Community.name, Community.township_code,
                   Community.point, Area.name, User.display_name, User.username)
            .join(DisasterEvent, DisasterEvent.id == Report.event_id)
            .join(Community, Community.code == Report.community_code)
            .outerjoin(Area, Area.code == Community.township_code)
            .outerjoin(User, User.id == Report.submitted_by)
            .order_by(Report.submitted_at.desc(), Report.id.desc()))


def _rows(session: Session, stmt: Any) -> list[dict[str, Any]]:
    rows = session.execute(stmt).all()
    ids = [r[0].id for r in rows]
    photos: dict[int, list[int]] = {}
    if ids:
        for pid, rid in session.execute(select(ReportPhoto.id, ReportPhoto.report_id).where(
                ReportPhoto.report_id.in_(ids)).order_by(ReportPhoto.id)):
            photos.setdefault(rid, []).append(pid)
    steps = history(session, ids)
    out = []
    for (report, event_code, event_name, name, township, cpoint, township_name, shown,
         username) in rows:
        # The report's own GPS point, else the community's representative point.
        point = _point(report.location)
        source = "report" if point else None
        if point is None:
            point = _point(cpoint)
            source = "community" if point else None
        out.append({
            "id": report.id, "event": report.event_id, "event_code": event_code,
            "event_name": event_name or event_code,
            "community": report.community_code, "community_name": name,
            "township": township, "township_name": township_name or township,
            "kind": report.kind.value, "hazard": report.hazard.value,
            "occurred_at": report.occurred_at.isoformat(),
            "submitted_at": report.submitted_at.isoformat(),
            "submitted_by": shown or username, "is_latest": report.is_latest,
            "figures": _figures(report), "notes": report.notes, "point": point,
            "point_source": source, "photos": photos.get(report.id, []),
            "review_status": report.review_status.value, "history": steps.get(report.id, [])})
    return out


def review_item(session: Session, actor: Actor, report_id: int) -> dict[str, Any]:
    """One report as the review list shows it (404 outside the actor's scope)."""
    stmt = _base_query().where(Report.id == report_id)
    scope = scope_filter(actor)
    if scope is not None:
        stmt = stmt.where(scope)
    rows = _rows(session, stmt)
    if not rows:
        raise DisasterNotFound(msg("no report %(id)s", id=report_id))
    return rows[0]


def review_list(session: Session, actor: Actor, filters: Mapping[str, Any]) -> dict[str, Any]:
    """Reports for the review list and map: names, figures, photos, point, history.

    ``filters`` as :class:`~disaster.reports.review_schemas.ReviewQuery`. Officers see their own
    communities only. ``counts`` (per review status) and ``townships`` cover every report
    the actor may read, so the filters do not change the waiting count.
    """
    q = validate(ReviewQuery, filters, error=DisasterValidationError)
    scope = scope_filter(actor)
    stmt = _base_query().limit(q.limit)
    if scope is not None:
        stmt = stmt.where(scope)
    if q.since is not None:
        stmt = stmt.where(Report.occurred_at >= _aware(q.since))
    if q.until is not None:
        stmt = stmt.where(Report.occurred_at < _aware(q.until))
    if q.township:
        stmt = stmt.where(Community.township_code == q.township)
    if q.kind is not None:
        stmt = stmt.where(Report.kind == q.kind)
    if q.hazard is not None:
        stmt = stmt.where(Report.hazard == q.hazard)
    if q.status is not None:
        stmt = stmt.where(Report.review_status == q.status)
    if q.event:
        stmt = stmt.where(Report.event_id == get_event(session, q.event).id)
    return {"reports": _rows(session, stmt), "counts": _counts(session, scope),
            "townships": _townships(session, scope)}


def _aware(value: dt.datetime) -> dt.datetime:
    # A filter time without offset is Beijing time, as on the phones (validation.parse_time).
    return parse_time(value)


def _counts(session: Session, scope: Any) -> dict[str, int]:
    stmt = select(Report.review_status, func.count(Report.id)).group_by(Report.review_status)
    if scope is not None:
        stmt = stmt.where(scope)
    counts = {s.value: 0 for s in ReviewStatus}
    for status, n in session.execute(stmt):
        counts[ReviewStatus(status).value] = n
    return counts


def _townships(session: Session, scope: Any) -> list[dict[str, str]]:
    stmt = (select(Community.township_code, Area.name).distinct()
            .join(Report, Report.community_code == Community.code)
            .outerjoin(Area, Area.code == Community.township_code)
            .order_by(Community.township_code))
    if scope is not None:
        stmt = stmt.where(scope)
    return [{"code": code, "name": name or code} for code, name in session.execute(stmt)]


def returned_for(session: Session, codes: list[str]) -> list[dict[str, Any]]:
    """Returned reports of the given communities (the officer page), oldest first, each with
    its last return comment, reviewer and time, and the values to prefill the correction."""
    if not codes:
        return []
    rows = session.execute(
        select(Report, Community.name).join(Community, Community.code == Report.community_code)
        .where(Report.review_status == ReviewStatus.RETURNED,
               Report.community_code.in_(sorted(codes)))
        .order_by(Report.submitted_at, Report.id)).all()
    steps = history(session, [r.id for r, _ in rows])
    out = []
    for report, name in rows:
        last = next((s for s in reversed(steps.get(report.id, []))
                     if s["action"] == "returned"), None)
        out.append({"id": report.id, "community": report.community_code,
                    "community_name": name, "kind": report.kind.value,
                    "hazard": report.hazard.value,
                    "occurred_at": report.occurred_at.isoformat(),
                    "figures": _figures(report), "notes": report.notes or "",
                    "comment": last["comment"] if last else None,
                    "reviewer": last["actor"] if last else None,
                    "returned_at": last["at"] if last else None})
    return out
