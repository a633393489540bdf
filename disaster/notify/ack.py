"""Acknowledgement (叫应) of warnings by officers, and escalation to the backup officer.

An officer acknowledges from their page, the API or the link in the e-mail/SMS; a duty
officer records an acknowledgement taken by phone. The acknowledgement belongs to the
community and the warning level of that hazard (:class:`CommunityAck`), not to one CAP
message: every hourly Update or extension at the same or a lower level keeps it, an upgrade
or a new warning asks again. An orange or red warning whose community has not acknowledged
within the policy's time (default 15 minutes) is escalated: the township's backup officer is
notified and the escalation is listed for the duty officer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor, Role, covers_community, require_role
from disaster.areas import Area
from disaster.communities import Community
from disaster.errors import (
    DisasterConflict,
    DisasterNotFound,
    DisasterPermissionDenied,
    DisasterValidationError,
)
from disaster.notify import dispatch
from disaster.notify.models import Notification
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.warnings import alerts as alerts_mod
from disaster.warnings import rules as rules_mod
from disaster.warnings.levels import WarningLevel
from disaster.warnings.models import (
    Acknowledgement,
    Alert,
    AlertStatus,
    CommunityAck,
    Escalation,
    MsgType,
)
from disaster.warnings.state import CommunityWarning
from gis.messages import msg
from gis.types import utcnow

ACKABLE = (AlertStatus.ACTIVE, AlertStatus.UPDATED)
DEFAULT_ESCALATE_MINUTES = 15.0
# How an acknowledgement reached us: the link in the e-mail/SMS, the officer's page, an API
# client, or a phone call the duty officer recorded.
CHANNELS = ("link", "page", "api", "phone")


def _assigned(session: Session, officer_ids: set[int] | list[int],
              codes: list[str]) -> dict[int, list[str]]:
    """``{officer: [codes it covers as primary or backup]}`` among ``codes`` (active officers)."""
    out: dict[int, list[str]] = {}
    if not officer_ids or not codes:
        return out
    for i in range(0, len(codes), 500):
        for oid, code in session.execute(
                select(OfficerAssignment.officer_id, OfficerAssignment.community_code)
                .join(Officer, Officer.id == OfficerAssignment.officer_id)
                .where(OfficerAssignment.officer_id.in_(sorted(officer_ids)),
                       OfficerAssignment.community_code.in_(codes[i:i + 500]),
                       Officer.active.is_(True))):
            out.setdefault(oid, []).append(code)
    return out


def _record_ack(session: Session, actor: Actor, alert: Alert, officer_id: int, via: str,
                now: dt.datetime, communities: list[str]) -> Acknowledgement:
    """Record the officer's acknowledgement of ``alert`` for ``communities`` (idempotent).

    The message's row says what was acknowledged when; each community's row keeps the
    highest level acknowledged for its current warning of the hazard.
    """
    row = session.scalar(select(Acknowledgement).where(Acknowledgement.alert_id == alert.id,
                                                       Acknowledgement.officer_id == officer_id))
    if row is None:
        row = Acknowledgement(alert_id=alert.id, officer_id=officer_id, user_id=actor.user_id,
                              via=via, at=now)
        session.add(row)
    held = {a.community_code: a for a in session.scalars(select(CommunityAck).where(
        CommunityAck.hazard == alert.hazard, CommunityAck.officer_id == officer_id,
        CommunityAck.community_code.in_(communities)))} if communities else {}
    raised = []
    for code in communities:
        mine = held.get(code)
        if mine is None:
            session.add(CommunityAck(community_code=code, hazard=alert.hazard, level=alert.level,
                                     officer_id=officer_id, alert_id=alert.id,
                                     user_id=actor.user_id, via=via, at=now))
            raised.append(code)
        elif mine.level.rank < alert.level.rank:
            mine.level, mine.alert_id, mine.user_id, mine.via, mine.at = (
                alert.level, alert.id, actor.user_id, via, now)
            raised.append(code)
    session.flush()
    if raised:
        audit.record(session, actor, "alert.ack", "alert", alert.identifier, None,
                     {"officer_id": officer_id, "via": via, "level": alert.level.value,
                      "communities": raised})
    return row


def acknowledge(session: Session, actor: Actor, alert_id: int, *, via: str = "api",
                officer_id: int | None = None, now: dt.datetime | None = None) -> list[Acknowledgement]:
    """Acknowledge a warning message for the actor's own communities.

    An information officer acknowledges as the officer linked to their account, or else for
    the primary officers of the message's communities inside their scope. A duty officer
    records an acknowledgement taken by phone for ``officer_id``, which must be an officer
    covering (primary or backup) one of the message's communities.

    Raises
    ------
    DisasterNotFound, DisasterPermissionDenied, DisasterConflict, DisasterValidationError
    """
    now = now or utcnow()
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="acknowledging alerts")
    if via not in CHANNELS:
        raise DisasterValidationError(msg("unknown acknowledgement channel"),
                                      fields={"via": [msg("one of %(choices)s",
                                                          choices=", ".join(CHANNELS))]},
                                      field_codes={"via": ["choice"]})
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise DisasterNotFound(msg("no warning %(id)s", id=alert_id))
    if alert.status not in ACKABLE or alert.msg_type == MsgType.CANCEL:
        raise DisasterConflict(msg("this warning is no longer in force; nothing to acknowledge"),
                               code="not_ackable")
    codes = list(alert.communities)
    if actor.role == Role.INFO_OFFICER:
        primaries = alerts_mod.primary_officers(session, codes)
        own = [c for c in codes if covers_community(actor, c)]
        linked = session.scalars(select(Officer.id).where(Officer.user_id == actor.user_id)).all() \
            if actor.user_id is not None else []
        if linked:
            ids = {o for c in codes for o in primaries.get(c, []) if o in linked}
            ids |= {o for o in linked if own}
        else:
            ids = {o for c in own for o in primaries.get(c, [])}
        if not own and not ids:
            raise DisasterPermissionDenied(msg("this warning covers none of your communities"))
        if not ids:
            raise DisasterConflict(msg("no officer of yours is assigned to this warning's communities"),
                                   code="no_officer")
        covered = _assigned(session, ids, codes)
        # A linked officer acknowledging inside the account's scope covers those communities
        # even where the assignment table names someone else.
        targets = {o: sorted(set(covered.get(o, [])) | (set(own) if o in linked else set()))
                   for o in ids}
    else:
        if officer_id is None:
            raise DisasterValidationError(
                msg("choose the officer whose acknowledgement you record"),
                fields={"officer_id": [msg("required")]}, field_codes={"officer_id": ["required"]})
        covered = _assigned(session, {officer_id}, codes)
        if not covered.get(officer_id):
            raise DisasterValidationError(
                msg("the officer does not cover any community of this warning"),
                fields={"officer_id": [msg("not an officer of this warning's communities")]},
                field_codes={"officer_id": ["not_covering"]})
        targets = {officer_id: sorted(covered[officer_id])}
    return [_record_ack(session, actor, alert, o, via, now, targets[o]) for o in sorted(targets)]


def acknowledge_token(session: Session, token: str, now: dt.datetime | None = None) -> Acknowledgement:
    """Acknowledge through the secret link of a notification (no sign-in needed)."""
    now = now or utcnow()
    note = session.scalar(select(Notification).where(Notification.token == token))
    # A user's notification (stock warnings…) carries a token too, but acknowledges nothing.
    if note is None or not note.reference or note.officer_id is None:
        raise DisasterNotFound(msg("unknown or expired acknowledgement link"))
    alert = session.scalar(select(Alert).where(Alert.identifier == note.reference))
    if alert is None or alert.status not in ACKABLE:
        raise DisasterConflict(msg("this warning no longer needs acknowledging"),
                               code="not_ackable")
    note.read_at = note.read_at or now
    covered = _assigned(session, {note.officer_id}, list(alert.communities))
    return _record_ack(session, SYSTEM, alert, note.officer_id, "link", now,
                       sorted(covered.get(note.officer_id, [])))


def _community_acks(session: Session, hazard: Any, codes: list[str]) -> dict[str, list[CommunityAck]]:
    """``{community: [its acknowledgements of the current warning of hazard]}``."""
    out: dict[str, list[CommunityAck]] = {}
    for i in range(0, len(codes), 500):
        for row in session.scalars(select(CommunityAck).where(
                CommunityAck.hazard == hazard, CommunityAck.community_code.in_(codes[i:i + 500]))):
            out.setdefault(row.community_code, []).append(row)
    return out


def acknowledged(session: Session, alert: Alert) -> set[str]:
    """The message's communities whose current warning is acknowledged at its level or above."""
    rank = alert.level.rank
    return {c for c, rows in _community_acks(session, alert.hazard, list(alert.communities)).items()
            if any(r.level.rank >= rank for r in rows)}


def acknowledged_alert_ids(session: Session, alerts: list[Alert], officer_ids: set[int],
                           user_id: int | None = None) -> set[int]:
    """Ids of ``alerts`` already acknowledged at their level or above by ``officer_ids`` (or
    recorded by the account ``user_id``), on that message or an earlier one of the same
    warning: what an officer's page should no longer ask to acknowledge."""
    out = set()
    for a in alerts:
        rows = _community_acks(session, a.hazard, list(a.communities))
        if any((r.officer_id in officer_ids or (user_id is not None and r.user_id == user_id))
               and r.level.rank >= a.level.rank for group in rows.values() for r in group):
            out.add(a.id)
    return out


def escalate(session: Session, now: dt.datetime | None = None) -> int:
    """Notify backup officers for orange/red warnings not acknowledged in time.

    The clock of a community starts when it reached its current level (``community_warnings
    .since``), not when the latest message was sent: a warning re-issued as an Update every
    hour must still escalate. The community's acknowledgement at this level or a higher one
    counts, whichever message it was given on, and each community escalates once per level
    episode. Returns the number of communities escalated.
    """
    now = now or utcnow()
    policies = rules_mod.policies(session)
    live = session.scalars(select(Alert).where(Alert.status == AlertStatus.ACTIVE,
                                               Alert.msg_type != MsgType.CANCEL)).all()
    candidates = []
    for a in live:
        minutes = policies[a.level].escalate_after_minutes
        if minutes is None and a.level.rank >= WarningLevel.ORANGE.rank:
            minutes = DEFAULT_ESCALATE_MINUTES
        if minutes is not None and a.sent <= now:
            candidates.append((a, dt.timedelta(minutes=minutes)))
    if not candidates:
        return 0
    codes = sorted({c for a, _ in candidates for c in a.communities})
    since = {}
    for i in range(0, len(codes), 500):
        for code, hazard, t in session.execute(select(
                CommunityWarning.community_code, CommunityWarning.hazard, CommunityWarning.since)
                .where(CommunityWarning.community_code.in_(codes[i:i + 500]))):
            since[(code, hazard)] = t
    earliest = min(min(since.values(), default=now), min(a.sent for a, _ in candidates))
    history = session.scalars(select(Alert).where(Alert.sent >= earliest,
                                                  Alert.msg_type != MsgType.CANCEL)).all()
    escalated_ids = {(e.community_code, e.alert_id) for e in session.scalars(
        select(Escalation).where(Escalation.alert_id.in_([h.id for h in history])))}
    count = 0
    for a, delay in candidates:
        primaries = alerts_mod.primary_officers(session, a.communities)
        backups = alerts_mod.backup_officers(session, a.communities)
        done = acknowledged(session, a)
        late: dict[int, list[str]] = {}
        for c in a.communities:
            start = min(since.get((c, a.hazard), a.sent), a.sent)
            if start + delay > now or c in done:
                continue
            episode = [h for h in history if h.hazard == a.hazard and h.sent >= start
                       and c in h.communities]
            if any((c, h.id) in escalated_ids for h in episode):
                continue
            for b in backups.get(c, []):
                late.setdefault(b, []).append(c)
            session.add(Escalation(alert_id=a.id, community_code=c,
                                   primary_officer_id=(primaries.get(c) or [None])[0],
                                   backup_officer_id=(backups.get(c) or [None])[0],
                                   note=None if backups.get(c) else "no backup officer", at=now))
            escalated_ids.add((c, a.id))
            count += 1
        if late:
            names = _community_labels(session, sorted({c for v in late.values() for c in v}))
        for backup, late_codes in late.items():
            dispatch.send(session, officer_ids=[backup],
                          subject=f"【升级】{a.headline}：{len(late_codes)} 个村（社区）未叫应",
                          body=f"{a.description}\n未确认的村（社区）："
                               f"{'、'.join(names.get(c, c) for c in late_codes)}",
                          kind="escalation", reference=a.identifier, now=now)
        if late:
            audit.record(session, SYSTEM, "alert.escalate", "alert", a.identifier, None,
                         {"communities": sum(len(v) for v in late.values())})
    session.flush()
    return count


def _community_labels(session: Session, codes: list[str]) -> dict[str, str]:
    """``{code: "村名（乡镇名）"}``: how a person reads a community."""
    return {code: (f"{name}（{town}）" if town else name)
            for code, (name, town) in community_names(session, codes).items()}


def community_names(session: Session, codes: list[str]) -> dict[str, tuple[str, str | None]]:
    """``{code: (community name, township name)}`` of ``codes``."""
    out: dict[str, tuple[str, str | None]] = {}
    for i in range(0, len(codes), 500):
        rows = session.execute(select(Community.code, Community.name, Area.name)
                               .outerjoin(Area, Area.code == Community.township_code)
                               .where(Community.code.in_(codes[i:i + 500]))).all()
        out.update({code: (name, town) for code, name, town in rows})
    return out


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _escalations(session: Session, alert: Alert, codes: list[str]) -> dict[str, Escalation]:
    """The escalation of each community's current level episode of the hazard, whichever
    message of the warning it was raised on (an hourly Update must not hide it)."""
    since = {}
    for i in range(0, len(codes), 500):
        since.update(dict(session.execute(select(CommunityWarning.community_code,
                                                 CommunityWarning.since).where(
            CommunityWarning.hazard == alert.hazard,
            CommunityWarning.community_code.in_(codes[i:i + 500]))).all()))
    out: dict[str, Escalation] = {}
    for i in range(0, len(codes), 500):
        for e in session.scalars(select(Escalation).join(Alert, Alert.id == Escalation.alert_id)
                                 .where(Alert.hazard == alert.hazard,
                                        Escalation.community_code.in_(codes[i:i + 500]))):
            start = since.get(e.community_code)
            if e.alert_id == alert.id or (start is not None and e.at >= start):
                out[e.community_code] = e
    return out


def ack_status(session: Session, alert: Alert) -> dict[str, Any]:
    """Who has and has not acknowledged a message, per community, and its escalations.

    A community counts as acknowledged when its current warning of the hazard was
    acknowledged at the message's level or above, on this message or an earlier one. Each
    community row names the community and its township, its primary officers, and who
    acknowledged, when and by which channel.
    """
    codes = list(alert.communities)
    primaries = alerts_mod.primary_officers(session, codes)
    rank = alert.level.rank
    acks = {c: sorted((r for r in rows if r.level.rank >= rank), key=lambda r: r.at)
            for c, rows in _community_acks(session, alert.hazard, codes).items()}
    escalated = _escalations(session, alert, codes)
    officer_ids = {o for ids in primaries.values() for o in ids} | {
        r.officer_id for rows in acks.values() for r in rows}
    names = {oid: name for oid, name in session.execute(
        select(Officer.id, Officer.name).where(Officer.id.in_(officer_ids)))} if officer_ids else {}
    places = community_names(session, codes)
    rows = []
    for c in codes:
        officers = primaries.get(c, [])
        got = acks.get(c, [])
        first = got[0] if got else None
        name, town = places.get(c, (None, None))
        rows.append({"community": c, "name": name, "township": town,
                     "officers": [{"id": o, "name": names.get(o)} for o in officers],
                     "acknowledged": bool(got),
                     "acknowledged_at": _iso(first.at) if first else None,
                     "acknowledged_by": [{"officer_id": r.officer_id,
                                          "officer": names.get(r.officer_id),
                                          "at": _iso(r.at), "via": r.via,
                                          "level": r.level.value} for r in got],
                     "escalated": c in escalated,
                     "escalated_at": _iso(escalated[c].at) if c in escalated else None})
    return {"alert": alert.id, "identifier": alert.identifier, "communities": rows,
            "acknowledged": sum(r["acknowledged"] for r in rows),
            "pending": sum(not r["acknowledged"] for r in rows)}


def covering_officers(session: Session, alert: Alert) -> list[dict[str, Any]]:
    """Active officers covering the message's communities (primary or backup), by name,
    with the communities each covers: whom a duty officer may record a phoned 叫应 for."""
    codes = list(alert.communities)
    by_officer: dict[int, list[tuple[str, str]]] = {}
    for i in range(0, len(codes), 500):
        for oid, code, role in session.execute(
                select(OfficerAssignment.officer_id, OfficerAssignment.community_code,
                       OfficerAssignment.role)
                .join(Officer, Officer.id == OfficerAssignment.officer_id)
                .where(OfficerAssignment.community_code.in_(codes[i:i + 500]),
                       Officer.active.is_(True))):
            by_officer.setdefault(oid, []).append((code, AssignmentRole(role).value))
    if not by_officer:
        return []
    officers = {o.id: o for o in session.scalars(select(Officer).where(
        Officer.id.in_(sorted(by_officer))))}
    places = community_names(session, sorted({c for v in by_officer.values() for c, _ in v}))
    out = []
    for oid, covered in by_officer.items():
        o = officers[oid]
        out.append({"id": oid, "name": o.name, "phone": o.phone,
                    "communities": [{"code": c, "name": places.get(c, (c, None))[0],
                                     "township": places.get(c, (None, None))[1], "role": role}
                                    for c, role in sorted(covered)]})
    out.sort(key=lambda r: (min(0 if c["role"] == "primary" else 1 for c in r["communities"]),
                            r["name"], r["id"]))
    return out
