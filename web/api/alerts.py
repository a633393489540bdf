"""Alerts over HTTP: JSON list, CAP 1.2 per message, Atom feed, acknowledgement, approval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request
from sqlalchemy import select

from disaster.access import Role, require_role
from disaster.errors import DisasterNotFound
from disaster.notify import ack
from disaster.notify.delivery_status import delivery_status
from disaster.notify.schemas import AckBody, AckResult, CoveringOfficer, DeliveryStatus
from disaster.officers import Officer
from disaster.schemas import (
    AlertOut,
    AlertsQuery,
    CountOut,
    NotificationOut,
    NotificationsQuery,
)
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.cap import alert_xml, atom_feed
from disaster.warnings.models import Alert, AlertStatus, Escalation
from disaster.weather.models import WeatherSource
from gis.messages import msg
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from disaster.notify.models import Notification

bp = api_blueprint("alerts")
STATUSES = {s.value for s in AlertStatus}


@bp.get("/alerts")
@api_doc(query=AlertsQuery, response=list[AlertOut])
def list_alerts():  # type: ignore[no-untyped-def]
    """Alert messages as JSON.

    ---
    summary: List CAP alert messages
    responses:
      200:
        description: >
          List of {id, identifier, hazard, level, status, msg_type, communities, sent,
          expires, references} (CONTRACT.md), newest last.
    """
    q = query(AlertsQuery)
    status = q.status or None
    s = session()
    stmt = select(Alert).order_by(Alert.sent, Alert.id)
    if status:
        stmt = stmt.where(Alert.status == status)
    rows = s.scalars(stmt).all()
    out = [alerts_mod.alert_dict(a) for a in rows]
    if q.acks in ("1", "true", "yes"):
        for d, a in zip(out, rows, strict=True):
            d["acknowledgement"] = ack.ack_status(s, a)
    return jsonify(out)


def _alert(alert_id: int) -> Alert:
    a = session().get(Alert, alert_id)
    if a is None:
        raise DisasterNotFound(msg("no warning %(id)s", id=alert_id))
    return a


@bp.get("/alerts/<int:alert_id>.xml")
def alert_cap(alert_id: int):  # type: ignore[no-untyped-def]
    """One message as CAP 1.2 XML.

    ---
    summary: CAP 1.2 document of one alert message
    parameters:
      - {in: path, name: alert_id, required: true, schema: {type: integer}}
    responses:
      200: {description: CAP 1.2 XML, content: {application/cap+xml: {schema: {type: string}}}}
      404: {description: no such alert}
    """
    return Response(alert_xml(session(), _alert(alert_id)), mimetype="application/cap+xml")


@bp.get("/alerts/feed.atom")
def alerts_feed():  # type: ignore[no-untyped-def]
    """Atom feed of the current alerts, each linking to its CAP document.

    ---
    summary: Atom feed of active CAP alerts
    responses:
      200: {description: Atom XML, content: {application/atom+xml: {schema: {type: string}}}}
    """
    rows = session().scalars(select(Alert).where(Alert.status == AlertStatus.ACTIVE)
                             .order_by(Alert.sent.desc(), Alert.id.desc())).all()
    return Response(atom_feed(session(), rows, request.url_root), mimetype="application/atom+xml")


@bp.get("/alerts/<int:alert_id>/acks")
@api_doc(response=dict[str, Any])
def alert_acks(alert_id: int):  # type: ignore[no-untyped-def]
    """Who has and has not acknowledged a message, per community.

    ---
    summary: Acknowledgement status of one alert
    parameters:
      - {in: path, name: alert_id, required: true, schema: {type: integer}}
    responses:
      200:
        description: >
          {alert, identifier, communities: [{community, name, township, officers,
          acknowledged, acknowledged_at, acknowledged_by: [{officer_id, officer, at, via,
          level}], escalated, escalated_at}], acknowledged, pending}. A community counts as
          acknowledged when its current warning of the hazard was acknowledged at this
          message's level or above, on this message or an earlier one (Updates keep it).
    """
    return jsonify(ack.ack_status(session(), _alert(alert_id)))


@bp.post("/alerts/<int:alert_id>/ack")
@api_doc(body=AckBody, response=AckResult, body_required=False,
         responses={403: "not your communities", 404: "no such alert",
                    409: "the alert is no longer current",
                    422: "officer_id missing (duty officer) or not an officer of the alert's "
                         "communities"})
def acknowledge(alert_id: int):  # type: ignore[no-untyped-def]
    """Acknowledge (叫应) a message.

    Information officers acknowledge for their own communities (empty body). A duty officer
    records an acknowledgement taken by phone for ``officer_id``, one of the officers covering
    the alert's communities (``GET /alerts/ID/officers``); it is stored with channel phone.
    """
    who = actor()
    body = json_body(AckBody, optional=True)
    if who.role in (Role.DUTY_OFFICER, Role.ADMIN) and body.officer_id is not None:
        via = "phone"
    else:
        # An API client sends a bearer token; the officer's page sends its session cookie.
        via = "api" if request.headers.get("Authorization", "").startswith("Bearer ") else "page"
    s = session()
    rows = ack.acknowledge(s, who, alert_id, via=via, officer_id=body.officer_id)
    names = dict(s.execute(select(Officer.id, Officer.name).where(
        Officer.id.in_([r.officer_id for r in rows]))).all()) if rows else {}
    return jsonify({"alert": alert_id, "acknowledged": [r.officer_id for r in rows],
                    "officers": [names.get(r.officer_id, "") for r in rows], "via": via})


@bp.get("/alerts/<int:alert_id>/officers")
@api_doc(response=list[CoveringOfficer], responses={404: "no such alert"})
def alert_officers(alert_id: int):  # type: ignore[no-untyped-def]
    """Officers covering the alert's communities (primary or backup), with their communities.

    The choice a duty officer has when recording a phoned acknowledgement (duty officers and
    administrators: the list carries phone numbers).
    """
    require_role(actor(), Role.DUTY_OFFICER, Role.ADMIN, action="listing an alert's officers")
    return jsonify(ack.covering_officers(session(), _alert(alert_id)))


@bp.get("/alerts/<int:alert_id>/deliveries")
@api_doc(response=DeliveryStatus, responses={404: "no such alert"})
def alert_deliveries(alert_id: int):  # type: ignore[no-untyped-def]
    """How the message's e-mail and SMS stand (sent, failed, pending per channel) and the
    officers it did not reach, with phone numbers, so that someone phones them.

    Duty officers and administrators (the list carries phone numbers).
    """
    require_role(actor(), Role.DUTY_OFFICER, Role.ADMIN, action="reading an alert's deliveries")
    return jsonify(delivery_status(session(), _alert(alert_id)))


@bp.post("/alerts/<int:alert_id>/approve")
@api_doc(response=AlertOut)
def approve(alert_id: int):  # type: ignore[no-untyped-def]
    """Release a message waiting for approval.

    ---
    summary: Approve a pending alert (duty officer)
    parameters:
      - {in: path, name: alert_id, required: true, schema: {type: integer}}
    responses:
      200: {description: the alert}
      409: {description: not pending}
    """
    return jsonify(alerts_mod.alert_dict(alerts_mod.approve(session(), actor(), alert_id)))


@bp.get("/alerts/escalations")
@api_doc(response=list[dict[str, Any]])
def escalations():  # type: ignore[no-untyped-def]
    """Escalations of live messages, for the duty officer's console.

    ---
    summary: Escalated (unacknowledged) communities of current alerts
    responses:
      200: {description: "[{alert, identifier, level, community, backup_officer_id, at}]"}
    """
    s = session()
    rows = s.execute(select(Escalation, Alert).join(Alert, Alert.id == Escalation.alert_id)
                     .where(Alert.status == AlertStatus.ACTIVE).order_by(Escalation.at.desc())).all()
    return jsonify([{"alert": a.id, "identifier": a.identifier, "level": a.level.value,
                     "hazard": a.hazard.value, "community": e.community_code,
                     "backup_officer_id": e.backup_officer_id, "at": e.at.isoformat()}
                    for e, a in rows])


@bp.get("/weather/sources")
@api_doc(response=list[dict[str, Any]])
def weather_sources():  # type: ignore[no-untyped-def]
    """Configured weather sources and their health (a stale feed shows ``stale``).

    ---
    summary: Weather sources and their status
    responses:
      200: {description: "[{name, provider, status, last_success_at, last_error}]"}
    """
    rows = session().scalars(select(WeatherSource).order_by(WeatherSource.name)).all()
    return jsonify([{"name": r.name, "provider": r.provider, "status": r.status,
                     "enabled": r.enabled,
                     "last_success_at": r.last_success_at.isoformat() if r.last_success_at else None,
                     "last_data_at": r.last_data_at.isoformat() if r.last_data_at else None,
                     "cursor": r.cursor.isoformat() if r.cursor else None,
                     "last_error": r.last_error} for r in rows])


@bp.get("/notifications")
@api_doc(query=NotificationsQuery, response=list[NotificationOut])
def my_notifications():  # type: ignore[no-untyped-def]
    """The in-app inbox of the signed-in user (or of ``officer_id`` for duty officers).

    Without ``officer_id``: the user's own notifications (depot managers, duty officers:
    stock warnings…) and those of the officer records linked to the user, newest first.
    ---
    get:
      summary: Inbox of notifications (alerts, escalations, reminders, stock warnings)
      responses:
        200:
          description: >
            [{id, officer_id, user_id, kind, subject, body, reference, created_at, read_at,
            deliveries}], newest first
        403: {description: another officer's inbox}
    """
    from disaster.access import Role
    from disaster.errors import DisasterPermissionDenied
    from disaster.notify import inbox as inbox_mod
    from disaster.notify.dispatch import inbox

    s, who = session(), actor()
    q = query(NotificationsQuery)
    wanted, unread = q.officer_id, q.unread in ("1", "true", "yes")
    if wanted is None:
        notes = inbox_mod.notifications_for(s, who, unread_only=unread)
    elif (wanted in inbox_mod.linked_officer_ids(s, who.user_id)
          or who.role in (Role.ADMIN, Role.DUTY_OFFICER)):
        notes = inbox(s, wanted, unread_only=unread)
    else:
        raise DisasterPermissionDenied("that is another officer's inbox")
    return jsonify(_notification_rows(s, notes))


def _notification_rows(s: Session, notes: list[Notification]) -> list[dict[str, Any]]:
    """Notifications as JSON rows with the state of each channel's delivery."""
    from disaster.notify.models import Delivery

    states: dict[int, list[dict]] = {}
    if notes:
        for d in s.scalars(select(Delivery).where(Delivery.notification_id.in_([n.id for n in notes]))):
            states.setdefault(d.notification_id, []).append(
                {"channel": d.channel, "state": d.state, "attempts": d.attempts})
    return [{"id": n.id, "officer_id": n.officer_id, "user_id": n.user_id, "kind": n.kind,
             "subject": n.subject, "body": n.body, "reference": n.reference,
             "created_at": n.created_at.isoformat(),
             "read_at": n.read_at.isoformat() if n.read_at else None,
             "deliveries": states.get(n.id, [])} for n in notes]


@bp.post("/notifications/<int:notification_id>/read")
@api_doc(response=NotificationOut)
def read_notification(notification_id: int):  # type: ignore[no-untyped-def]
    """Mark one of my notifications read.

    ---
    post:
      summary: Mark one of the signed-in user's own notifications read (audited)
      parameters:
        - {in: path, name: notification_id, required: true, schema: {type: integer}}
      responses:
        200: {description: "the notification as in GET /notifications"}
        403: {description: someone else's notification}
        404: {description: no such notification}
    """
    from disaster.notify import inbox as inbox_mod

    s = session()
    note = inbox_mod.mark_read(s, actor(), notification_id)
    return jsonify(_notification_rows(s, [note])[0])


@bp.post("/notifications/read-all")
@api_doc(response=CountOut)
def read_all_notifications():  # type: ignore[no-untyped-def]
    """Mark every unread notification of mine read.

    ---
    post:
      summary: Mark all of the signed-in user's unread notifications read (audited)
      responses:
        200: {description: "{marked: count}"}
    """
    from disaster.notify import inbox as inbox_mod

    return jsonify({"marked": inbox_mod.mark_all_read(session(), actor())})
