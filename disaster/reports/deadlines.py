"""Report deadlines and reminders (《自然灾害情况统计调查制度》, DESIGN.md §4.3).

- When an orange or red warning reaches a community, its 初报 is due within 2 hours.
- While the event lasts, a 续报 is due every day by 09:00 Beijing time with the figures to
  24:00 of the day before: a report filed since midnight of that day satisfies it.
- A 核报 ends the community's duty for the event; closing the event ends everyone's.
Overdue communities are reminded: first their primary officer, then after
:data:`ESCALATE_AFTER` their backups, each at most once per deadline.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM
from disaster.communities import Community
from disaster.events import DisasterEvent, EventStatus, covers, create_event, extend_area
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.reports.models import Report, ReportKind, ReportObligation, ReportReminder
from disaster.warnings.levels import WarningLevel
from disaster.warnings.state import CommunityWarning
from gis.types import utcnow

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")
INITIAL_WITHIN = dt.timedelta(hours=2)
DAILY_DUE = dt.time(9, 0)
ESCALATE_AFTER = dt.timedelta(hours=1)
TRIGGER_LEVELS = (WarningLevel.ORANGE, WarningLevel.RED)

Sender = Callable[..., Any]


def sync_obligations(session: Session, now: dt.datetime | None = None) -> int:
    """Record which communities owe reports because an orange/red warning reached them.

    A community reached by such a warning joins the open event of that hazard covering it;
    if there is none, the open warning-made event of the hazard is extended, or a new event
    is opened (DESIGN: events are created from the warnings or by a duty officer).
    Returns the number of new obligations.
    """
    now = now or utcnow()
    warnings = session.execute(
        select(CommunityWarning, Community.county_code)
        .join(Community, Community.code == CommunityWarning.community_code)
        .where(CommunityWarning.level.in_(TRIGGER_LEVELS))
        .order_by(CommunityWarning.since)).all()
    if not warnings:
        return 0
    # Open events newest first, and the obligations they already hold: one query each, so a
    # run over thousands of warned communities stays cheap.
    events = list(session.scalars(
        select(DisasterEvent).where(DisasterEvent.status == EventStatus.OPEN)
        .order_by(DisasterEvent.started_at.desc(), DisasterEvent.id.desc())))
    held = set(session.execute(
        select(ReportObligation.event_id, ReportObligation.community_code)
        .where(ReportObligation.event_id.in_([e.id for e in events])))) if events else set()
    added = 0
    for warning, county in warnings:
        event = next((e for e in events if e.hazard == warning.hazard
                      and covers(e, warning.community_code)), None)
        if event is None:
            event = next((e for e in events if e.hazard == warning.hazard
                          and e.source == "warning"), None)
            if event is not None:
                extend_area(session, SYSTEM, event, county)
            else:
                event = create_event(session, SYSTEM, hazard=warning.hazard,
                                     started_at=min(warning.since, now),
                                     area_codes=[county], source="warning")
                events.insert(0, event)
        if (event.id, warning.community_code) in held:
            continue
        held.add((event.id, warning.community_code))
        triggered = min(warning.since, now)
        obligation = ReportObligation(event_id=event.id,
                                      community_code=warning.community_code,
                                      triggered_at=triggered,
                                      warning_level=warning.level.value,
                                      initial_due_at=triggered + INITIAL_WITHIN)
        session.add(obligation)
        session.flush()
        audit.record(session, SYSTEM, "report_obligation.create", "report_obligation",
                     obligation.id, None, {"event": event.code,
                                           "community": warning.community_code,
                                           "level": warning.level.value,
                                           "initial_due_at": obligation.initial_due_at})
        added += 1
    return added


def latest_daily_due(now: dt.datetime) -> dt.datetime:
    """The most recent 09:00 Beijing time at or before ``now`` (as UTC)."""
    local = now.astimezone(SHANGHAI)
    day = local.date() if local.time() >= DAILY_DUE else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, DAILY_DUE, tzinfo=SHANGHAI).astimezone(dt.UTC)


def overdue_reports(session: Session, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Communities whose 初报 or today's 续报 is overdue, with the officers to chase.

    ``[{"event", "event_code", "community", "name", "township_code", "kind", "due_at",
    "primary", "backups"}]`` (officer ids), oldest deadline first.
    """
    now = now or utcnow()
    rows = session.execute(
        select(ReportObligation, DisasterEvent.code, Community.name, Community.township_code)
        .join(DisasterEvent, DisasterEvent.id == ReportObligation.event_id)
        .join(Community, Community.code == ReportObligation.community_code)
        .where(DisasterEvent.status == EventStatus.OPEN)).all()
    if not rows:
        return []
    event_ids = sorted({o.event_id for o, *_ in rows})
    filed: dict[tuple[int, str], dict[str, dt.datetime]] = {}
    for event_id, code, kind, last in session.execute(
            select(Report.event_id, Report.community_code, Report.kind,
                   func.max(Report.submitted_at))
            .where(Report.event_id.in_(event_ids))
            .group_by(Report.event_id, Report.community_code, Report.kind)):
        if last is not None and last.tzinfo is None:  # SQLite aggregates lose the type
            last = last.replace(tzinfo=dt.UTC)
        elif isinstance(last, str):
            last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
        filed.setdefault((event_id, code), {})[kind.value if hasattr(kind, "value")
                                               else str(kind)] = last
    daily = latest_daily_due(now)
    day_start = dt.datetime.combine(daily.astimezone(SHANGHAI).date(), dt.time(0),
                                    tzinfo=SHANGHAI).astimezone(dt.UTC)
    officers = _officers_for({o.community_code for o, *_ in rows})
    out = []
    for obligation, event_code, name, township in rows:
        kinds = filed.get((obligation.event_id, obligation.community_code), {})
        if ReportKind.FINAL.value in kinds:
            continue
        item = None
        if ReportKind.INITIAL.value not in kinds:
            if now > obligation.initial_due_at:
                item = ("initial", obligation.initial_due_at)
        else:
            trigger_day = obligation.triggered_at.astimezone(SHANGHAI).date()
            last = max(kinds.values())
            if daily.astimezone(SHANGHAI).date() > trigger_day and last < day_start:
                item = ("update", daily)
        if item is None:
            continue
        primary, backups = officers(session, obligation.community_code)
        out.append({"event": obligation.event_id, "event_code": event_code,
                    "community": obligation.community_code, "name": name,
                    "township_code": township, "kind": item[0],
                    "due_at": item[1].isoformat(), "primary": primary, "backups": backups})
    out.sort(key=lambda i: (i["due_at"], i["community"]))
    return out


def _officers_for(codes: set[str]) -> Callable[[Session, str], tuple[int | None, list[int]]]:
    cache: dict[str, tuple[int | None, list[int]]] = {}

    def lookup(session: Session, code: str) -> tuple[int | None, list[int]]:
        if not cache:
            for c in codes:
                cache[c] = (None, [])
            for community, role, officer_id in session.execute(
                    select(OfficerAssignment.community_code, OfficerAssignment.role, Officer.id)
                    .join(Officer, Officer.id == OfficerAssignment.officer_id)
                    .where(Officer.active.is_(True),
                           OfficerAssignment.community_code.in_(sorted(codes)))
                    .order_by(Officer.id)):
                primary, backups = cache[community]
                if role == AssignmentRole.PRIMARY and primary is None:
                    cache[community] = (officer_id, backups)
                elif role == AssignmentRole.BACKUP:
                    backups.append(officer_id)
        return cache.get(code, (None, []))

    return lookup


def notification_sender() -> Sender | None:
    """``disaster.notify.dispatch.send`` when the notification package is installed."""
    try:
        module = importlib.import_module("disaster.notify.dispatch")
    except ModuleNotFoundError:
        return None
    return getattr(module, "send", None)


def send_reminders(session: Session, now: dt.datetime | None = None,
                   send: Sender | None = None) -> list[ReportReminder]:
    """Remind the officers of overdue reports: the primary at once, backups after an hour.

    ``send`` defaults to :func:`notification_sender`; it is called as
    ``send(session, officer_ids=..., subject=..., body=..., kind="report_reminder",
    reference=...)``. Each (deadline, stage) is reminded once, even across restarts.
    """
    now = now or utcnow()
    send = send or notification_sender()
    sent: list[ReportReminder] = []
    for item in overdue_reports(session, now):
        due = dt.datetime.fromisoformat(item["due_at"])
        stages = []
        if item["primary"] is not None:
            stages.append(("officer", [item["primary"]]))
        if item["backups"] and (item["primary"] is None or now >= due + ESCALATE_AFTER):
            stages.append(("backup", item["backups"]))
        for stage, officer_ids in stages:
            exists = session.scalar(select(ReportReminder.id).where(
                ReportReminder.event_id == item["event"],
                ReportReminder.community_code == item["community"],
                ReportReminder.kind == item["kind"], ReportReminder.due_at == due,
                ReportReminder.stage == stage))
            if exists is not None:
                continue
            reminder = _remind(session, item, due, stage, officer_ids, now, send)
            if reminder is not None:
                sent.append(reminder)
    return sent


def _remind(session: Session, item: dict[str, Any], due: dt.datetime, stage: str,
            officer_ids: list[int], now: dt.datetime,
            send: Sender | None) -> ReportReminder | None:
    what = "初报" if item["kind"] == "initial" else "续报"
    local_due = due.astimezone(SHANGHAI)
    subject = f"【催报】{item['name']}{what}已逾期"
    body = (f"{item['name']}（{item['community']}）{item['event_code']} 的{what}应于 "
            f"{local_due:%m-%d %H:%M} 前报送，至今未收到。请尽快报送"
            + ("（信息员未报，请 B 岗补报）" if stage == "backup" else "") + "。")
    reference = f"report:{item['event']}:{item['community']}:{item['kind']}:{due.isoformat()}"
    reminder = ReportReminder(event_id=item["event"], community_code=item["community"],
                              kind=item["kind"], due_at=due, stage=stage,
                              officer_ids=officer_ids, sent_at=now)
    try:
        with session.begin_nested():
            session.add(reminder)
            session.flush()
    except IntegrityError:  # another scheduler already sent it
        return None
    if send is None:
        reminder.detail = "no notification channel installed"
    else:
        try:
            send(session, officer_ids=officer_ids, subject=subject, body=body,
                 kind="report_reminder", reference=reference)
            reminder.delivered = True
        except Exception as exc:  # noqa: BLE001 - a failed channel must not stop the others
            log.warning("reminder %s failed: %s", reference, exc)
            reminder.detail = f"send failed: {type(exc).__name__}: {exc}"[:200]
    session.flush()
    audit.record(session, SYSTEM, "report_reminder.send", "report_reminder", reminder.id,
                 None, {"reference": reference, "stage": stage, "officers": officer_ids,
                        "delivered": reminder.delivered})
    return reminder


def run_deadline_job(session: Session, now: dt.datetime | None = None,
                     send: Sender | None = None) -> dict[str, int]:
    """The scheduled job: record new obligations, then chase overdue reports."""
    now = now or utcnow()
    added = sync_obligations(session, now)
    reminders = send_reminders(session, now, send)
    return {"obligations": added, "reminders": len(reminders)}


def scheduled_job() -> dict[str, int] | None:
    """Scheduler entry point (``disaster.reports.deadlines:scheduled_job``, every 5 minutes).

    Uses the process's session factory and clock from :mod:`disaster.jobs` (the replayed time
    during exercises); one transaction per run.
    """
    from disaster import jobs
    from gis.db import unit_of_work

    try:
        with unit_of_work(jobs.session_factory()) as session:
            return run_deadline_job(session, jobs.clock(session))
    except Exception:
        log.exception("report deadline job failed")
        return None
