"""Alert lifecycle: community levels → CAP messages (Alert, Update, Cancel), expiry, approval.

Messages group communities per hazard, level and county. A new level is an ``Alert``; a
changed set of communities or level is an ``Update`` whose ``references`` name every earlier
message it supersedes; when none of a message's communities keeps a level a ``Cancel``
references it (CAP 1.2, DESIGN.md §4.2). ``community_warnings`` always mirrors the result.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor, Role, require_role
from disaster.communities import Community
from disaster.errors import DisasterConflict, DisasterNotFound
from disaster.event_impact import record_peaks
from disaster.events import DisasterEvent, EventStatus
from disaster.notify import channels as channels_mod
from disaster.notify import dispatch
from disaster.officers import AssignmentRole, OfficerAssignment
from disaster.warnings import certainty, impact_matrix
from disaster.warnings import rules as rules_mod
from disaster.warnings.levels import HAZARD_NAMES_ZH, LEVEL_NAMES_ZH, Hazard, WarningLevel
from disaster.warnings.models import Alert, AlertStatus, CommunityAck, MsgType
from disaster.warnings.state import CommunityWarning
from gis.settings import environment
from gis.spatial import for_update
from gis.types import utcnow

log = logging.getLogger(__name__)
BEIJING = dt.timezone(dt.timedelta(hours=8))
LIVE = (AlertStatus.ACTIVE, AlertStatus.PENDING)
_RANK_LEVEL = {lv.rank: lv for lv in WarningLevel}


def sender() -> str:
    """CAP ``sender`` of our messages (``DISASTER_CAP_SENDER``)."""
    return environment().cap_sender


def issuer_codes() -> tuple[str, str]:
    """GB/T 35965.1 issuing organisation (3 digits) and the following 3+2 digit codes."""
    env = environment()
    return env.cap_org, env.cap_unit


@dataclass
class Desired:
    """What the engine found for one hazard: level and peak per evaluated community."""

    levels: dict[str, WarningLevel | None]
    peaks: dict[str, float | None] = field(default_factory=dict)
    metrics: dict[str, str | None] = field(default_factory=dict)
    # Ensemble share of members meeting the level, and levels met by observed hours alone
    # (disaster.warnings.certainty turns them into the CAP certainty).
    probabilities: dict[str, float | None] = field(default_factory=dict)
    observed: dict[str, bool] = field(default_factory=dict)
    # Hazards on an impact matrix: (likelihood, impact) per community (impact_matrix).
    impact_labels: dict[str, tuple[str, str]] = field(default_factory=dict)


def make_identifier(session: Session, area_code: str, sent: dt.datetime,
                    taken: set[str] | None = None) -> str:
    """A GB/T 35965.1 identifier: area(6) + org(3) + unit(3+2) ``_`` Beijing time ``_`` serial.

    The serial digit separates messages of the same second; after ten of them the next free
    second is used so identifiers stay unique.
    """
    org, unit = issuer_codes()
    prefix = f"{area_code[:6]:0<6}{org}{unit}"
    taken = taken if taken is not None else set()
    local = sent.astimezone(BEIJING)
    for extra in range(0, 3600):
        stamp = (local + dt.timedelta(seconds=extra)).strftime("%Y%m%d%H%M%S")
        like = f"{prefix}_{stamp}_%"
        used = set(session.scalars(select(Alert.identifier).where(Alert.identifier.like(like))))
        for serial in range(10):
            ident = f"{prefix}_{stamp}_{serial}"
            if ident not in used and ident not in taken:
                taken.add(ident)
                return ident
    raise DisasterConflict("no free alert identifier")  # pragma: no cover - 36,000 per hour


def _officers_for(session: Session, codes: Iterable[str], role: AssignmentRole) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    codes = list(codes)
    for i in range(0, len(codes), 500):
        for code, officer_id in session.execute(
                select(OfficerAssignment.community_code, OfficerAssignment.officer_id).where(
                    OfficerAssignment.community_code.in_(codes[i:i + 500]),
                    OfficerAssignment.role == role)):
            out.setdefault(code, []).append(officer_id)
    return out


def primary_officers(session: Session, codes: Iterable[str]) -> dict[str, list[int]]:
    return _officers_for(session, codes, AssignmentRole.PRIMARY)


def backup_officers(session: Session, codes: Iterable[str]) -> dict[str, list[int]]:
    return _officers_for(session, codes, AssignmentRole.BACKUP)


def _texts(hazard: Hazard, level: WarningLevel, msg_type: MsgType, names: list[str],
           county: str, peaks: dict[str, Any], metric: str | None) -> tuple[str, str]:
    zh = f"{HAZARD_NAMES_ZH[hazard]}{LEVEL_NAMES_ZH[level]}预警"
    if msg_type == MsgType.CANCEL:
        headline = f"解除{zh}（{county}）"
        desc = f"{county} {len(names)} 个村（社区）已解除{zh}：{'、'.join(names[:30])}"
    else:
        verb = "更新" if msg_type == MsgType.UPDATE else "发布"
        headline = f"{verb}{zh}（{county}）"
        top = max((v for v in peaks.values() if v is not None), default=None)
        stat = f"；最大统计值 {top:.1f}（{metric}）" if top is not None and metric else ""
        desc = (f"{county} {len(names)} 个村（社区）达到{zh}标准（中国气象局令第16号）{stat}："
                f"{'、'.join(names[:30])}{' 等' if len(names) > 30 else ''}。"
                "请信息员立即确认收到并做好防范。")
    return headline, desc


class Lifecycle:
    """Applies desired levels to the alert tables inside one transaction."""

    def __init__(self, session: Session, now: dt.datetime) -> None:
        self.session = session
        self.now = now
        self.counts = {"issued": 0, "updated": 0, "cancelled": 0}
        self.created: list[Alert] = []
        self.taken: set[str] = set()
        self.policies = rules_mod.policies(session)
        self._communities: dict[str, tuple[str, str]] | None = None

    def community_info(self) -> dict[str, tuple[str, str]]:
        """``{code: (name, county_code)}``."""
        if self._communities is None:
            self._communities = {c: (n, k) for c, n, k in self.session.execute(
                select(Community.code, Community.name, Community.county_code))}
        return self._communities

    def county_name(self, code: str) -> str:
        from disaster.areas import Area
        name = self.session.scalar(select(Area.name).where(Area.code == code))
        return name or code

    def _new(self, hazard: Hazard, level: WarningLevel, county: str, msg_type: MsgType,
             codes: list[str], refs: list[Alert], peaks: dict[str, Any], metric: str | None) -> Alert:
        info = self.community_info()
        names = [info.get(c, (c, ""))[0] for c in codes]
        headline, desc = _texts(hazard, level, msg_type, names, self.county_name(county), peaks,
                                metric)
        policy = self.policies[level]
        pending = msg_type != MsgType.CANCEL and policy.requires_approval
        alert = Alert(
            identifier=make_identifier(self.session, county, self.now, self.taken),
            sender=sender(), sent=self.now, msg_type=msg_type,
            status=AlertStatus.CANCELLED if msg_type == MsgType.CANCEL
            else AlertStatus.PENDING if pending else AlertStatus.ACTIVE,
            hazard=hazard, level=level, county_code=county, communities=codes,
            references=[r.identifier for r in refs],
            peaks={c: (None if v is None else round(float(v), 2)) for c, v in peaks.items()},
            metric=metric,
            expires=self.now + dt.timedelta(hours=policy.expires_hours or 24.0),
            evaluated_at=self.now, headline=headline, description=desc,
            approval="pending" if pending else "auto",
            approve_by=(self.now + dt.timedelta(minutes=policy.approval_deadline_minutes)
                        if pending else None),
        )
        self.session.add(alert)
        self.session.flush()
        self.created.append(alert)
        key = {MsgType.ALERT: "issued", MsgType.UPDATE: "updated", MsgType.CANCEL: "cancelled"}
        self.counts[key[msg_type]] += 1
        audit.record(self.session, SYSTEM, f"alert.{msg_type.value.lower()}", "alert",
                     alert.identifier, None, {"hazard": hazard.value, "level": level.value,
                                              "county": county, "communities": len(codes),
                                              "references": alert.references})
        return alert

    def apply(self, hazard: Hazard, desired: Desired) -> None:
        """Bring messages and community state for ``hazard`` in line with ``desired``."""
        s = self.session
        current = {w.community_code: w for w in s.scalars(
            select(CommunityWarning).where(CommunityWarning.hazard == hazard))}
        info = self.community_info()
        new_level: dict[str, WarningLevel] = {c: w.level for c, w in current.items()
                                              if c not in desired.levels}
        for code, level in desired.levels.items():
            if level is not None and code in info:
                new_level[code] = level
        live = list(s.scalars(for_update(select(Alert).where(Alert.hazard == hazard,
                                                              Alert.status.in_(LIVE)), s)))
        old_by_key: dict[tuple[str, WarningLevel], list[Alert]] = {}
        for a in live:
            old_by_key.setdefault((a.county_code, a.level), []).append(a)
        new_by_key: dict[tuple[str, WarningLevel], list[str]] = {}
        for code, level in new_level.items():
            new_by_key.setdefault((info[code][1], level), []).append(code)
        carrier: dict[str, Alert] = {}
        kept: set[int] = set()
        referenced: set[int] = set()
        for key in sorted(set(new_by_key), key=lambda k: (k[0], k[1].rank)):
            codes = sorted(new_by_key[key])
            county, level = key
            olds = old_by_key.get(key, [])
            if len(olds) == 1 and sorted(olds[0].communities) == codes:
                kept.add(olds[0].id)
                for c in codes:
                    carrier[c] = olds[0]
                continue
            code_set = set(codes)
            refs = [a for a in live if a.county_code == county
                    and (a in olds or code_set & set(a.communities))]
            referenced.update(a.id for a in refs)
            peaks = {c: desired.peaks.get(c, current[c].peak_value if c in current else None)
                     for c in codes}
            metric = next((desired.metrics[c] for c in codes if desired.metrics.get(c)), None)
            msg = self._new(hazard, level, county, MsgType.UPDATE if refs else MsgType.ALERT,
                            codes, refs, peaks, metric)
            certainty.record(s, msg.id, *certainty.message_certainty(
                codes, desired.observed, desired.probabilities))
            label = impact_matrix.strongest([desired.impact_labels[c] for c in codes
                                             if c in desired.impact_labels])
            if label is not None:
                msg.description += f"影响评估：{impact_matrix.label_text(label)}。"
            for c in codes:
                carrier[c] = msg
        for a in live:
            if a.id in kept:
                continue
            if a.id in referenced:
                a.status = AlertStatus.UPDATED
            else:
                a.status = AlertStatus.CANCELLED
                self._new(hazard, a.level, a.county_code, MsgType.CANCEL, list(a.communities),
                          [a], {}, None)
        # community_warnings mirrors the carriers exactly: one row per community while met.
        ended = sorted(set(current) - set(new_level))
        for code in ended:
            s.delete(current[code])
        clear_acks(s, hazard, ended)
        added = []
        for code, level in new_level.items():
            msg = carrier[code]
            row = current.get(code)
            peak = desired.peaks.get(code)
            metric = desired.metrics.get(code)
            if row is None:
                added.append({"community_code": code, "hazard": hazard, "level": level,
                              "alert_id": msg.id, "since": self.now, "updated_at": self.now,
                              "peak_value": peak, "metric": metric})
            elif row.level != level or row.alert_id != msg.id:
                if row.level != level:
                    row.since = self.now
                row.level, row.alert_id, row.updated_at = level, msg.id, self.now
                if peak is not None:
                    row.peak_value, row.metric = peak, metric
        s.flush()
        if added:
            # one executemany, not an ORM object per newly warned community
            s.execute(insert(CommunityWarning), added)

    def finish(self) -> None:
        """Open or extend events for orange/red warnings, notify officers, and raise the
        open events' peaks to the warnings now in force."""
        # the configured channels, read once for all of this evaluation's messages
        channels = list(channels_mod.from_env()) if self.created else None
        for alert in self.created:
            if alert.msg_type != MsgType.CANCEL and alert.level.rank >= WarningLevel.ORANGE.rank:
                alert.event_id = _event_for(self.session, alert, self.now).id
            if alert.status != AlertStatus.PENDING:
                notify_alert(self.session, alert, self.now, channels)
        self.session.flush()
        record_peaks(self.session, self.now)


def _event_for(session: Session, alert: Alert, now: dt.datetime) -> DisasterEvent:
    """The open event of this hazard, created or extended (DESIGN.md §1).

    An event the duty officer opened for the hazard takes the warnings too (one event per
    storm, not one per source); an event over the whole region (no area) needs no extension.
    """
    event = session.scalar(select(DisasterEvent).where(
        DisasterEvent.hazard == alert.hazard, DisasterEvent.status == EventStatus.OPEN)
        .order_by(DisasterEvent.started_at.desc(), DisasterEvent.id.desc()).limit(1))
    if event is not None and not event.area_codes:
        return event
    if event is None:
        local = now.astimezone(BEIJING)
        code = f"EV{local:%Y%m%d%H%M}-{alert.hazard.value}"
        n = 1
        while session.scalar(select(DisasterEvent.id).where(DisasterEvent.code == code)):
            n += 1
            code = f"EV{local:%Y%m%d%H%M}-{alert.hazard.value}-{n}"
        event = DisasterEvent(code=code, name=f"{local:%Y年%m月%d日}{HAZARD_NAMES_ZH[alert.hazard]}",
                              hazard=alert.hazard, status=EventStatus.OPEN, started_at=now,
                              area_codes=[], source="warning")
        session.add(event)
        session.flush()
        audit.record(session, SYSTEM, "event.create", "event", event.code, None,
                     {"hazard": alert.hazard.value, "source": "warning"})
    codes = list(event.area_codes or [])
    have = set(codes)  # a storm's event lists thousands of codes: no list scans
    extra = [c for c in dict.fromkeys([alert.county_code, *alert.communities]) if c not in have]
    if extra:
        event.area_codes = codes + extra
    return event


def clear_acks(session: Session, hazard: Hazard, codes: Iterable[str]) -> None:
    """Forget the 叫应 of communities whose warning of ``hazard`` ended: a new one asks again."""
    codes = list(codes)
    for i in range(0, len(codes), 500):
        session.execute(delete(CommunityAck).where(CommunityAck.hazard == hazard,
                                                   CommunityAck.community_code.in_(codes[i:i + 500])))


def acked_levels(session: Session, hazard: Hazard, codes: Iterable[str]) -> dict[str, int]:
    """``{community: highest level rank acknowledged}`` for the current warning of ``hazard``."""
    out: dict[str, int] = {}
    codes = list(codes)
    for i in range(0, len(codes), 500):
        for code, level in session.execute(select(CommunityAck.community_code, CommunityAck.level)
                                           .where(CommunityAck.hazard == hazard,
                                                  CommunityAck.community_code.in_(codes[i:i + 500]))):
            out[code] = max(out.get(code, 0), WarningLevel(level).rank)
    return out


def communities_to_ask(session: Session, alert: Alert) -> list[str]:
    """The message's communities whose officers must be told and asked to acknowledge.

    An Update or extension is not news to a community that a message it supersedes already
    carried at the same or a higher level, nor to one that acknowledged this level or a higher
    one: only new communities and upgrades ask again.
    """
    if alert.msg_type == MsgType.CANCEL:
        return list(alert.communities)
    told: dict[str, int] = {}
    refs, seen = set(alert.references or []), set()
    # A superseded message that was never sent (awaiting approval) told nobody: look through
    # it to the messages it superseded in turn.
    while refs - seen:
        batch = sorted(refs - seen)
        seen |= refs
        refs = set()
        for ref in session.scalars(select(Alert).where(Alert.identifier.in_(batch),
                                                       Alert.hazard == alert.hazard)):
            if ref.msg_type == MsgType.CANCEL:
                continue
            if ref.notified:
                for c in ref.communities:
                    told[c] = max(told.get(c, 0), ref.level.rank)
            else:
                refs.update(ref.references or [])
    acked = acked_levels(session, alert.hazard, alert.communities)
    rank = alert.level.rank
    return [c for c in alert.communities
            if told.get(c, 0) < rank and acked.get(c, 0) < rank]


def notify_alert(session: Session, alert: Alert, now: dt.datetime | None = None,
                 channels: list[str] | None = None) -> None:
    """Tell the primary officers of the message's communities that need it (inbox, e-mail,
    SMS): see :func:`communities_to_ask`."""
    if alert.notified:
        return
    officers = sorted({o for ids in primary_officers(session, communities_to_ask(session, alert))
                       .values() for o in ids})
    kind = "alert_cancel" if alert.msg_type == MsgType.CANCEL else "alert"
    dispatch.send(session, officer_ids=officers, subject=alert.headline, body=alert.description,
                  kind=kind, reference=alert.identifier, now=now, load=False,
                  channels=channels)
    alert.notified = True


def apply_levels(session: Session, desired: dict[Hazard, Desired], now: dt.datetime) -> dict[str, int]:
    """Apply the engine's result for each hazard; returns ``{"issued", "updated", "cancelled"}``."""
    life = Lifecycle(session, now)
    for hazard in sorted(desired, key=lambda h: h.value):
        life.apply(hazard, desired[hazard])
    life.finish()
    return life.counts


def expire_alerts(session: Session, now: dt.datetime | None = None) -> int:
    """Mark live messages past ``expires`` as expired and clear their community state."""
    now = now or utcnow()
    due = list(session.scalars(for_update(select(Alert).where(
        Alert.status.in_(LIVE), Alert.expires <= now), session)))
    for a in due:
        a.status = AlertStatus.EXPIRED
        ended = list(session.scalars(select(CommunityWarning.community_code).where(
            CommunityWarning.alert_id == a.id)))
        session.execute(delete(CommunityWarning).where(CommunityWarning.alert_id == a.id))
        clear_acks(session, a.hazard, ended)
        audit.record(session, SYSTEM, "alert.expire", "alert", a.identifier)
    session.flush()
    return len(due)


def approve(session: Session, actor: Actor, alert_id: int, now: dt.datetime | None = None) -> Alert:
    """A duty officer releases a message waiting for approval; it is sent at once."""
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="approving alerts")
    alert = session.scalar(for_update(select(Alert).where(Alert.id == alert_id), session))
    if alert is None:
        raise DisasterNotFound(f"no alert {alert_id}")
    if alert.status != AlertStatus.PENDING:
        raise DisasterConflict(f"alert {alert.identifier} is {alert.status.value}, not pending")
    alert.status = AlertStatus.ACTIVE
    alert.approval = "approved"
    alert.approved_by = actor.user_id
    notify_alert(session, alert, now)
    audit.record(session, actor, "alert.approve", "alert", alert.identifier)
    session.flush()
    return alert


def release_due(session: Session, now: dt.datetime | None = None) -> int:
    """Send pending messages whose approval deadline has passed (the alert goes out anyway)."""
    now = now or utcnow()
    due = list(session.scalars(for_update(select(Alert).where(
        Alert.status == AlertStatus.PENDING, Alert.approve_by <= now), session)))
    for a in due:
        a.status = AlertStatus.ACTIVE
        a.approval = "deadline"
        notify_alert(session, a, now)
        audit.record(session, SYSTEM, "alert.release", "alert", a.identifier)
    session.flush()
    return len(due)


def alert_dict(a: Alert) -> dict[str, Any]:
    """One message in the CONTRACT.md ``alerts list --format json`` shape (plus extras)."""
    return {"id": a.id, "identifier": a.identifier, "hazard": a.hazard.value,
            "level": a.level.value, "status": a.status.value, "msg_type": a.msg_type.value,
            "communities": list(a.communities), "sent": a.sent.isoformat(),
            "expires": a.expires.isoformat(), "references": list(a.references or []),
            "county": a.county_code, "headline": a.headline, "event_id": a.event_id}


def alert_dicts(session: Session, active_only: bool = False) -> list[dict[str, Any]]:
    """Every alert message (``active_only``: the current ones) as CONTRACT.md objects."""
    stmt = select(Alert).order_by(Alert.sent, Alert.id)
    if active_only:
        stmt = stmt.where(Alert.status == AlertStatus.ACTIVE)
    return [alert_dict(a) for a in session.scalars(stmt)]


def rank_to_level(rank: int) -> WarningLevel | None:
    return _RANK_LEVEL.get(int(rank))
