"""Acknowledgement (叫应) of alerts by officers, and escalation to the backup officer.

An officer acknowledges from the API, their page or the link in the e-mail/SMS. An orange or
red message whose community's primary officer has not acknowledged within the policy's time
(default 15 minutes) is escalated: the township's backup officer is notified and the
escalation is listed for the duty officer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor, Role, covers_community, require_role
from disaster.errors import DisasterConflict, DisasterNotFound, DisasterPermissionDenied
from disaster.notify import dispatch
from disaster.notify.models import Notification
from disaster.officers import Officer
from disaster.warnings import alerts as alerts_mod
from disaster.warnings import rules as rules_mod
from disaster.warnings.levels import WarningLevel
from disaster.warnings.models import Acknowledgement, Alert, AlertStatus, Escalation, MsgType
from disaster.warnings.state import CommunityWarning
from gis.types import utcnow

ACKABLE = (AlertStatus.ACTIVE, AlertStatus.UPDATED)
DEFAULT_ESCALATE_MINUTES = 15.0


def _record_ack(session: Session, alert: Alert, officer_id: int, user_id: int | None, via: str,
                now: dt.datetime) -> Acknowledgement:
    row = session.scalar(select(Acknowledgement).where(Acknowledgement.alert_id == alert.id,
                                                       Acknowledgement.officer_id == officer_id))
    if row is None:
        row = Acknowledgement(alert_id=alert.id, officer_id=officer_id, user_id=user_id, via=via,
                              at=now)
        session.add(row)
        session.flush()
        audit.record(session, SYSTEM if user_id is None else _UserRef(user_id), "alert.ack",
                     "alert", alert.identifier, None, {"officer_id": officer_id, "via": via})
    return row


class _UserRef:
    def __init__(self, user_id: int) -> None:
        self.user_id, self.username, self.source = user_id, f"user:{user_id}", "web"


def acknowledge(session: Session, actor: Actor, alert_id: int, *, via: str = "api",
                officer_id: int | None = None, now: dt.datetime | None = None) -> list[Acknowledgement]:
    """Acknowledge a message for the actor's own communities.

    An information officer acknowledges as the officer linked to their account, or else for
    the primary officers of the message's communities inside their scope. A duty officer
    may record an acknowledgement taken by phone by naming ``officer_id``.

    Raises
    ------
    DisasterNotFound, DisasterPermissionDenied, DisasterConflict
    """
    now = now or utcnow()
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="acknowledging alerts")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise DisasterNotFound(f"no alert {alert_id}")
    if alert.status not in ACKABLE or alert.msg_type == MsgType.CANCEL:
        raise DisasterConflict(f"alert {alert.identifier} is {alert.status.value}; nothing to acknowledge")
    primaries = alerts_mod.primary_officers(session, alert.communities)
    if actor.role == Role.INFO_OFFICER:
        own = [c for c in alert.communities if covers_community(actor, c)]
        linked = session.scalars(select(Officer.id).where(Officer.user_id == actor.user_id)).all() \
            if actor.user_id is not None else []
        if linked:
            ids = {o for c in alert.communities for o in primaries.get(c, []) if o in linked}
            ids |= {o for o in linked if own}
        else:
            ids = {o for c in own for o in primaries.get(c, [])}
        if not own and not ids:
            raise DisasterPermissionDenied(f"alert {alert.identifier} covers none of your communities")
    else:
        if officer_id is None:
            raise DisasterConflict("name the officer whose acknowledgement you record",
                                   fields={"officer_id": ["required"]})
        ids = {officer_id}
    if not ids:
        raise DisasterConflict("no officer of yours is assigned to this alert's communities")
    return [_record_ack(session, alert, o, actor.user_id, via, now) for o in sorted(ids)]


def acknowledge_token(session: Session, token: str, now: dt.datetime | None = None) -> Acknowledgement:
    """Acknowledge through the secret link of a notification (no sign-in needed)."""
    now = now or utcnow()
    note = session.scalar(select(Notification).where(Notification.token == token))
    # A user's notification (stock warnings…) carries a token too, but acknowledges nothing.
    if note is None or not note.reference or note.officer_id is None:
        raise DisasterNotFound("unknown or expired acknowledgement link")
    alert = session.scalar(select(Alert).where(Alert.identifier == note.reference))
    if alert is None or alert.status not in ACKABLE:
        raise DisasterConflict("this alert no longer needs acknowledging")
    note.read_at = note.read_at or now
    return _record_ack(session, alert, note.officer_id, None, "link", now)


def _acked_officers(session: Session, alert_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for aid, oid in session.execute(select(Acknowledgement.alert_id, Acknowledgement.officer_id)
                                    .where(Acknowledgement.alert_id.in_(alert_ids))):
        out.setdefault(aid, set()).add(oid)
    return out


def escalate(session: Session, now: dt.datetime | None = None) -> int:
    """Notify backup officers for orange/red warnings not acknowledged in time.

    The clock of a community starts when it reached its current level (``community_warnings
    .since``), not when the latest message was sent: a warning re-issued as an Update every
    hour must still escalate. An acknowledgement of any message of the same hazard carrying
    the community since then counts, and each community escalates once per level episode.
    Returns the number of communities escalated.
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
    acked = _acked_officers(session, [h.id for h in history])
    escalated_ids = {(e.community_code, e.alert_id) for e in session.scalars(
        select(Escalation).where(Escalation.alert_id.in_([h.id for h in history])))}
    count = 0
    for a, delay in candidates:
        primaries = alerts_mod.primary_officers(session, a.communities)
        backups = alerts_mod.backup_officers(session, a.communities)
        late: dict[int, list[str]] = {}
        for c in a.communities:
            start = min(since.get((c, a.hazard), a.sent), a.sent)
            if start + delay > now:
                continue
            episode = [h for h in history if h.hazard == a.hazard and h.sent >= start
                       and c in h.communities]
            if any((c, h.id) in escalated_ids for h in episode):
                continue
            mine = set(primaries.get(c, []))
            if any(mine & acked.get(h.id, set()) for h in episode):
                continue
            for b in backups.get(c, []):
                late.setdefault(b, []).append(c)
            session.add(Escalation(alert_id=a.id, community_code=c,
                                   primary_officer_id=(primaries.get(c) or [None])[0],
                                   backup_officer_id=(backups.get(c) or [None])[0],
                                   note=None if backups.get(c) else "no backup officer", at=now))
            escalated_ids.add((c, a.id))
            count += 1
        for backup, late_codes in late.items():
            dispatch.send(session, officer_ids=[backup],
                          subject=f"【升级】{a.headline}：{len(late_codes)} 个村（社区）未叫应",
                          body=f"{a.description}\n未确认的村（社区）：{'、'.join(late_codes)}",
                          kind="escalation", reference=a.identifier, now=now)
        if late:
            audit.record(session, SYSTEM, "alert.escalate", "alert", a.identifier, None,
                         {"communities": sum(len(v) for v in late.values())})
    session.flush()
    return count


def ack_status(session: Session, alert: Alert) -> dict[str, Any]:
    """Who has and has not acknowledged a message, per community, and its escalations."""
    primaries = alerts_mod.primary_officers(session, alert.communities)
    acks = {a.officer_id: a for a in session.scalars(
        select(Acknowledgement).where(Acknowledgement.alert_id == alert.id))}
    escalated = {e.community_code: e for e in session.scalars(
        select(Escalation).where(Escalation.alert_id == alert.id))}
    names = {oid: name for oid, name in session.execute(select(Officer.id, Officer.name).where(
        Officer.id.in_({o for ids in primaries.values() for o in ids} | set(acks))))}
    rows = []
    for c in alert.communities:
        officers = primaries.get(c, [])
        got = [acks[o] for o in officers if o in acks]
        rows.append({"community": c,
                     "officers": [{"id": o, "name": names.get(o)} for o in officers],
                     "acknowledged": bool(got),
                     "acknowledged_at": got[0].at.isoformat() if got else None,
                     "escalated": c in escalated,
                     "escalated_at": escalated[c].at.isoformat() if c in escalated else None})
    return {"alert": alert.id, "identifier": alert.identifier, "communities": rows,
            "acknowledged": sum(r["acknowledged"] for r in rows),
            "pending": sum(not r["acknowledged"] for r in rows)}
