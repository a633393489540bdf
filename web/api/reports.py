"""Reports, events and officer coverage API (CONTRACT.md); thin over ``disaster`` services."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select

from disaster import events as events_svc
from disaster import jobs
from disaster import officers as officers_svc
from disaster.access import Role, require_role
from disaster.communities import Community
from disaster.reports import deadlines, rollup
from disaster.reports.schemas import (
    EventQuery,
    ReportIn,
    ReportOut,
    ReportQuery,
    RollupQuery,
    ThresholdIn,
)
from disaster.reports.services import (
    get_photo,
    list_reports,
    photo_ids,
    report_dict,
    submit_report,
)
from disaster.schemas import (
    ApprovalOut,
    EventClose,
    EventIn,
    EventOut,
    EventsQuery,
    FeatureCollection,
    HandoverIn,
    HandoverOut,
    LayerQuery,
    ProposalIn,
    ProposalOut,
)
from gis.errors import ValidationError
from web.api import geojson
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("reports")


def _report_input() -> tuple[dict, list[bytes]]:
    """JSON body, or multipart with a ``report`` JSON part (or plain fields) and ``photos``."""
    if request.mimetype == "multipart/form-data":
        raw = request.form.get("report")
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                raise ValidationError("report part is not JSON",
                                      fields={"report": ["not JSON"]}) from None
            if not isinstance(data, dict):
                raise ValidationError("report part must be an object",
                                      fields={"report": ["expected a JSON object"]})
        else:
            data = {k: v for k, v in request.form.items() if k != "csrf_token"}
            if data.get("location"):
                try:
                    data["location"] = json.loads(data["location"])
                except ValueError:
                    data["location"] = "invalid"
        photos = [f.read() for f in request.files.getlist("photos")]
        return data, [p for p in photos if p]
    return json_body(), []


@bp.post("/reports")
@api_doc(body=ReportIn, response=ReportOut, status=201,
         responses={200: ("replay: the report first filed with this key", ReportOut),
                    409: "duplicate 初报, no 初报 yet, or reporting closed by the 核报"})
def file_report():  # type: ignore[no-untyped-def]
    """File a 初报, 续报 or 核报 for a community.
    ---
    post:
      summary: File a report (replaying an Idempotency-Key returns the first result)
      parameters:
        - {name: Idempotency-Key, in: header, schema: {type: string, maxLength: 120}}
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                report: {type: string, description: the JSON object above}
                photos: {type: array, items: {type: string, format: binary}}
      responses:
        201: {description: the report filed}
        403: {description: community outside your scope}
        409: {description: "duplicate 初报, no 初报 yet, or reporting closed by the 核报"}
        413: {description: upload too large}
        422: {description: "invalid figures, naming each field"}
    """
    data, photos = _report_input()
    db = session()
    report, replayed = submit_report(db, actor(), data,
                                     idempotency_key=request.headers.get("Idempotency-Key"),
                                     photos=photos)
    ids = photo_ids(db, report.id) if (replayed or photos) else []
    body = report_dict(report, report.event.code, ids)
    response = jsonify(body)
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/reports")
@api_doc(query=ReportQuery, response=list[ReportOut])
def reports():  # type: ignore[no-untyped-def]
    """Reports you may read, newest first.
    ---
    get:
      summary: List reports (officers see their own communities only)
      responses:
        200: {description: list of reports with the CONTRACT.md fields}
        403: {description: community outside your scope}
    """
    q = query(ReportQuery)
    return jsonify(list_reports(session(), actor(), community=q.community, event=q.event,
                                latest_only=q.latest in ("1", "true"), limit=q.limit or 500))


@bp.get("/reports/photos/<int:photo_id>")
def photo(photo_id: int):  # type: ignore[no-untyped-def]
    """A report photo (metadata stripped).
    ---
    get:
      summary: One photo of a report
      parameters:
        - {name: photo_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: JPEG or PNG
          content:
            image/jpeg: {schema: {type: string, format: binary}}
            image/png: {schema: {type: string, format: binary}}
        404: {description: "no such photo, or not yours to see"}
    """
    row = get_photo(session(), actor(), photo_id)
    return Response(row.data, mimetype=row.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.get("/reports/rollup")
@api_doc(query=RollupQuery, response=dict[str, Any])
def report_rollup():  # type: ignore[no-untyped-def]
    """Totals by township, county and city from each community's latest report.
    ---
    get:
      summary: Roll-up and suggested response level
      responses:
        200: {description: "{event, townships, counties, totals, response}"}
    """
    q = query(RollupQuery)
    return jsonify(rollup.rollup(session(), q.event, q.profile))


@bp.get("/reports/export.csv")
@api_doc(query=EventQuery)
def report_csv():  # type: ignore[no-untyped-def]
    """The standard indicators by township as CSV.
    ---
    get:
      summary: CSV of the standard indicators by township
      responses:
        200: {description: CSV, content: {text/csv: {schema: {type: string}}}}
    """
    text = rollup.export_csv(session(), query(EventQuery).event)
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reports_by_township.csv"})


@bp.get("/reports/overdue")
@api_doc(response=list[dict[str, Any]])
def overdue():  # type: ignore[no-untyped-def]
    """Communities whose 初报 or daily 续报 is overdue.
    ---
    get:
      summary: Overdue reports with the officers being chased
      responses:
        200:
          description: >-
            [{event, event_code, community, name, township_code, kind, due_at, primary,
            backups}]
    """
    # The system's clock: the replayed hour during the demo and exercises, else the wall clock.
    return jsonify(deadlines.overdue_reports(session(), jobs.clock(session())))


@bp.get("/reports/thresholds")
@api_doc(response=dict[str, Any])
def get_thresholds():  # type: ignore[no-untyped-def]
    """Response-level thresholds.
    ---
    get:
      summary: Thresholds of the national plan and of the city
      responses:
        200: {description: "{national: {level: {indicator: value}}, city: {...}}"}
    """
    db = session()
    return jsonify({p: rollup.thresholds(db, p) for p in rollup.PROFILES})


@bp.put("/reports/thresholds")
@api_doc(body=ThresholdIn, response=dict[str, Any])
def put_threshold():  # type: ignore[no-untyped-def]
    """Change one response-level threshold (administrators).
    ---
    put:
      summary: Set a threshold
      responses:
        200: {description: the profile after the change}
        403: {description: not an administrator}
        422: {description: invalid value or order}
    """
    # The role first: a body is judged only for who may send it.
    require_role(actor(), Role.ADMIN, action="changing response thresholds")
    body = json_body(ThresholdIn)
    db = session()
    rollup.set_threshold(db, actor(), body.profile, body.level, body.indicator, body.value)
    return jsonify(rollup.thresholds(db, body.profile))


@bp.get("/officers/coverage")
@api_doc(response=dict[str, Any])
def coverage():  # type: ignore[no-untyped-def]
    """Primary and backup officer of every community.
    ---
    get:
      summary: Officer coverage (as `disaster officers coverage --format json`)
      responses:
        200:
          description: >-
            {communities: [{code, primary, backup, backups}], uncovered: [codes],
            without_backup: [codes]}
    """
    return jsonify(officers_svc.coverage(session()))


@bp.get("/officers/uncovered")
@api_doc(query=LayerQuery, response=FeatureCollection)
def uncovered():  # type: ignore[no-untyped-def]
    """Outlines of communities without a primary officer (console layer).
    ---
    get:
      summary: Uncovered communities as GeoJSON
      responses:
        200: {description: "GeoJSON FeatureCollection; properties code, name, township_code, without_backup"}
        422: {description: "bad bbox or zoom"}
    """
    query(LayerQuery)
    bbox = geojson.parse_bbox(request.args.get("bbox"))
    tolerance = geojson.tolerance_from_request()
    db = session()
    data = officers_svc.coverage(db)
    codes = set(data["uncovered"])
    no_backup = set(data["without_backup"])
    props = {}
    if codes:
        for cid, code, name, township in db.execute(
                select(Community.id, Community.code, Community.name, Community.township_code)):
            if code in codes:
                props[cid] = {"code": code, "name": name, "township_code": township,
                              "without_backup": code in no_backup}
    layer = geojson.cache().layer(db, Community)
    return geojson.feature_collection(layer, geojson.select_ids(layer, bbox, props), tolerance,
                                      props)


@bp.get("/officers/proposals")
@api_doc(response=list[ProposalOut])
def proposals():  # type: ignore[no-untyped-def]
    """Assignment proposals, newest first.
    ---
    get:
      summary: Proposed officers for uncovered communities
      responses:
        200: {description: list of proposals}
    """
    require_role(actor(), Role.ADMIN, Role.DUTY_OFFICER, action="reading proposals")
    rows = session().scalars(select(officers_svc.AssignmentProposal).order_by(
        officers_svc.AssignmentProposal.id.desc()).limit(50))
    return jsonify([officers_svc.proposal_dict(p) for p in rows])


@bp.post("/officers/proposals")
@api_doc(body=ProposalIn, response=ProposalOut, status=201, body_required=False)
def propose():  # type: ignore[no-untyped-def]
    """Propose officers for uncovered communities (assignment problem).
    ---
    post:
      summary: Create a proposal
      responses:
        201: {description: the proposal}
        403: {description: not an administrator or duty officer}
    """
    require_role(actor(), Role.ADMIN, Role.DUTY_OFFICER, action="proposing officer assignments")
    body = json_body(ProposalIn, optional=True)
    max_load = body.max_load if "max_load" in body.model_fields_set \
        else officers_svc.DEFAULT_MAX_LOAD
    proposal = officers_svc.propose_assignments(session(), actor(), max_load=max_load)
    return jsonify(officers_svc.proposal_dict(proposal)), 201


@bp.post("/officers/proposals/<int:proposal_id>/approve")
@api_doc(response=ApprovalOut)
def approve(proposal_id: int):  # type: ignore[no-untyped-def]
    """Approve a proposal (administrators).
    ---
    post:
      summary: Approve a proposal
      parameters:
        - {name: proposal_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: "{id, applied, skipped}"}
        403: {description: not an administrator}
        409: {description: not pending}
    """
    return jsonify(officers_svc.approve_proposal(session(), actor(), proposal_id))


@bp.post("/officers/handover")
@api_doc(body=HandoverIn, response=HandoverOut)
def handover():  # type: ignore[no-untyped-def]
    """Hand an officer's communities over to another officer (administrators).
    ---
    post:
      summary: Handover without a gap
      responses:
        200: {description: "{from, to, moved}"}
        409: {description: would leave a community without a backup}
    """
    require_role(actor(), Role.ADMIN, action="handing over communities")
    body = json_body(HandoverIn)
    return jsonify(officers_svc.handover(session(), actor(), body.from_, body.to,
                                         body.communities, body.deactivate))


@bp.get("/events")
@api_doc(query=EventsQuery, response=list[EventOut])
def list_events():  # type: ignore[no-untyped-def]
    """Disaster events, newest first.
    ---
    get:
      summary: List events
      responses:
        200: {description: list of events}
    """
    status = query(EventsQuery).status or None
    return jsonify([events_svc.event_dict(e) for e in events_svc.list_events(session(), status)])


@bp.post("/events")
@api_doc(body=EventIn, response=EventOut, status=201,
         responses={403: "not a duty officer or administrator", 409: "code already used"})
def create_event():  # type: ignore[no-untyped-def]
    """Open a disaster event (duty officers): hazard, optional name, start and area codes."""
    require_role(actor(), Role.ADMIN, Role.DUTY_OFFICER, action="creating events")
    body = json_body(EventIn)
    event = events_svc.create_event(session(), actor(), hazard=body.hazard,
                                    started_at=body.started_at, name=body.name,
                                    area_codes=body.area_codes or [])
    return jsonify(events_svc.event_dict(event)), 201


@bp.post("/events/<event_id>/close")
@api_doc(body=EventClose, response=EventOut, body_required=False,
         responses={404: "no such event", 409: "already closed"})
def close_event(event_id: str):  # type: ignore[no-untyped-def]
    """Close an event (duty officers); its held peak impact stops counting. Body optional."""
    body = json_body(EventClose, optional=True)
    return jsonify(events_svc.event_dict(events_svc.close_event(session(), actor(), event_id,
                                                                body.ended_at)))
