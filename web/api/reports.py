"""Reports, events and officer coverage API (CONTRACT.md); thin over ``disaster`` services."""

from __future__ import annotations

import json

from flask import Response, jsonify, request
from sqlalchemy import select

from disaster import events as events_svc
from disaster import jobs
from disaster import officers as officers_svc
from disaster.access import Role, require_role
from disaster.communities import Community
from disaster.reports import deadlines, rollup
from disaster.reports.services import (
    get_photo,
    list_reports,
    photo_ids,
    report_dict,
    submit_report,
)
from disaster.reports.validation import parse_time
from gis.errors import ValidationError
from web.api import geojson
from web.api.common import actor, api_blueprint, json_body, query_limit, session

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
def file_report():  # type: ignore[no-untyped-def]
    """File a 初报, 续报 or 核报 for a community.
    ---
    post:
      summary: File a report (replaying an Idempotency-Key returns the first result)
      parameters:
        - {name: Idempotency-Key, in: header, schema: {type: string, maxLength: 120}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [community, kind, hazard, occurred_at]
              properties:
                community: {type: string}
                kind: {type: string, enum: [initial, update, final]}
                hazard: {type: string}
                event: {type: string, description: event id or code (default the open one)}
                occurred_at: {type: string, format: date-time}
                affected_people: {type: integer, minimum: 0}
                dead: {type: integer, minimum: 0}
                missing: {type: integer, minimum: 0}
                evacuated: {type: integer, minimum: 0}
                needing_aid: {type: integer, minimum: 0}
                collapsed_households: {type: integer, minimum: 0}
                collapsed_rooms: {type: integer, minimum: 0}
                severely_damaged_households: {type: integer, minimum: 0}
                severely_damaged_rooms: {type: integer, minimum: 0}
                generally_damaged_households: {type: integer, minimum: 0}
                generally_damaged_rooms: {type: integer, minimum: 0}
                crop_affected_ha: {type: number, minimum: 0}
                crop_damaged_ha: {type: number, minimum: 0}
                crop_lost_ha: {type: number, minimum: 0}
                direct_loss_10k_yuan: {type: number, minimum: 0}
                notes: {type: string}
                location: {type: object, description: GeoJSON Point}
          multipart/form-data:
            schema:
              type: object
              properties:
                report: {type: string, description: the JSON object above}
                photos: {type: array, items: {type: string, format: binary}}
      responses:
        201: {description: the report filed}
        200: {description: "replay: the report first filed with this key"}
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
def reports():  # type: ignore[no-untyped-def]
    """Reports you may read, newest first.
    ---
    get:
      summary: List reports (officers see their own communities only)
      parameters:
        - {name: community, in: query, schema: {type: string}}
        - {name: event, in: query, schema: {type: string}, description: event id or code}
        - {name: latest, in: query, schema: {type: boolean}, description: latest per community}
        - {name: limit, in: query, schema: {type: integer, maximum: 5000}}
      responses:
        200: {description: list of reports with the CONTRACT.md fields}
        403: {description: community outside your scope}
    """
    limit = query_limit(500)  # list_reports caps it at 5,000
    return jsonify(list_reports(session(), actor(), community=request.args.get("community"),
                                event=request.args.get("event"),
                                latest_only=request.args.get("latest") in ("1", "true"),
                                limit=limit))


@bp.get("/reports/photos/<int:photo_id>")
def photo(photo_id: int):  # type: ignore[no-untyped-def]
    """A report photo (metadata stripped).
    ---
    get:
      summary: One photo of a report
      parameters:
        - {name: photo_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: JPEG or PNG}
        404: {description: "no such photo, or not yours to see"}
    """
    row = get_photo(session(), actor(), photo_id)
    return Response(row.data, mimetype=row.content_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@bp.get("/reports/rollup")
def report_rollup():  # type: ignore[no-untyped-def]
    """Totals by township, county and city from each community's latest report.
    ---
    get:
      summary: Roll-up and suggested response level
      parameters:
        - {name: event, in: query, schema: {type: string}}
        - {name: profile, in: query, schema: {type: string, enum: [city, national]}}
      responses:
        200: {description: "{event, townships, counties, totals, response}"}
    """
    return jsonify(rollup.rollup(session(), request.args.get("event"),
                                 request.args.get("profile", "city")))


@bp.get("/reports/export.csv")
def report_csv():  # type: ignore[no-untyped-def]
    """The standard indicators by township as CSV.
    ---
    get:
      summary: CSV of the standard indicators by township
      parameters:
        - {name: event, in: query, schema: {type: string}}
      responses:
        200: {description: text/csv}
    """
    text = rollup.export_csv(session(), request.args.get("event"))
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reports_by_township.csv"})


@bp.get("/reports/overdue")
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
def put_threshold():  # type: ignore[no-untyped-def]
    """Change one response-level threshold (administrators).
    ---
    put:
      summary: Set a threshold
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [profile, level, indicator, value]
              properties:
                profile: {type: string, enum: [city, national]}
                level: {type: string, enum: [I, II, III, IV]}
                indicator: {type: string}
                value: {type: number}
      responses:
        200: {description: the profile after the change}
        403: {description: not an administrator}
        422: {description: invalid value or order}
    """
    body = json_body()
    db = session()
    rollup.set_threshold(db, actor(), str(body.get("profile", "")), str(body.get("level", "")),
                         str(body.get("indicator", "")), body.get("value"))
    return jsonify(rollup.thresholds(db, str(body["profile"])))


@bp.get("/officers/coverage")
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
def uncovered():  # type: ignore[no-untyped-def]
    """Outlines of communities without a primary officer (console layer).
    ---
    get:
      summary: Uncovered communities as GeoJSON
      parameters:
        - {name: zoom, in: query, schema: {type: integer}}
        - {name: bbox, in: query, schema: {type: string}, description: "west,south,east,north"}
      responses:
        200: {description: "GeoJSON FeatureCollection; properties code, name, township_code, without_backup"}
        422: {description: "bad bbox or zoom"}
    """
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
def propose():  # type: ignore[no-untyped-def]
    """Propose officers for uncovered communities (assignment problem).
    ---
    post:
      summary: Create a proposal
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {max_load: {type: integer, minimum: 1}}}
      responses:
        201: {description: the proposal}
        403: {description: not an administrator or duty officer}
    """
    body = request.get_json(silent=True) or {}
    try:
        max_load = int(body.get("max_load", officers_svc.DEFAULT_MAX_LOAD))
    except (TypeError, ValueError):
        raise ValidationError("max_load must be a whole number",
                              fields={"max_load": ["a whole number"]}) from None
    proposal = officers_svc.propose_assignments(session(), actor(), max_load=max_load)
    return jsonify(officers_svc.proposal_dict(proposal)), 201


@bp.post("/officers/proposals/<int:proposal_id>/approve")
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
def handover():  # type: ignore[no-untyped-def]
    """Hand an officer's communities over to another officer (administrators).
    ---
    post:
      summary: Handover without a gap
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [from, to]
              properties:
                from: {type: string}
                to: {type: string}
                communities: {type: array, items: {type: string}}
                deactivate: {type: boolean}
      responses:
        200: {description: "{from, to, moved}"}
        409: {description: would leave a community without a backup}
    """
    body = json_body()
    return jsonify(officers_svc.handover(session(), actor(), str(body.get("from", "")),
                                         str(body.get("to", "")), body.get("communities"),
                                         bool(body.get("deactivate", False))))


@bp.get("/events")
def list_events():  # type: ignore[no-untyped-def]
    """Disaster events, newest first.
    ---
    get:
      summary: List events
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, closed]}}
      responses:
        200: {description: list of events}
    """
    status = request.args.get("status") or None
    if status not in (None, "open", "closed"):
        raise ValidationError("status must be open or closed", fields={"status": ["open|closed"]})
    return jsonify([events_svc.event_dict(e) for e in events_svc.list_events(session(), status)])


@bp.post("/events")
def create_event():  # type: ignore[no-untyped-def]
    """Open a disaster event (duty officers).
    ---
    post:
      summary: Create an event
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [hazard]
              properties:
                hazard: {type: string}
                name: {type: string}
                started_at: {type: string, format: date-time}
                area_codes: {type: array, items: {type: string}}
      responses:
        201: {description: the event}
        403: {description: not a duty officer or administrator}
        422: {description: invalid field}
    """
    body = json_body()
    started = body.get("started_at")
    try:
        started_at = parse_time(started) if started else None
    except (TypeError, ValueError):
        raise ValidationError("started_at is not ISO 8601",
                              fields={"started_at": ["ISO 8601"]}) from None
    area = body.get("area_codes") or []
    if not isinstance(area, list):
        raise ValidationError("area_codes must be a list", fields={"area_codes": ["a list"]})
    event = events_svc.create_event(session(), actor(), hazard=str(body.get("hazard", "")),
                                    started_at=started_at, name=body.get("name"),
                                    area_codes=area)
    return jsonify(events_svc.event_dict(event)), 201


@bp.post("/events/<event_id>/close")
def close_event(event_id: str):  # type: ignore[no-untyped-def]
    """Close an event (duty officers).
    ---
    post:
      summary: Close an event
      parameters:
        - {name: event_id, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: the event}
        409: {description: already closed}
    """
    return jsonify(events_svc.event_dict(events_svc.close_event(session(), actor(), event_id)))

