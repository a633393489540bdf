"""Situation report (灾情简报) data of one event: totals, timeline, worst hit, shelters, dispatch.

Shelter and dispatch sections are filled only when those tables are part of the build and the
database (a build without the dispatch workflow still prints a report).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from disaster.assessment.service import Assessment, assessment_document, worst_hit
from disaster.events import DisasterEvent
from disaster.reports.models import Report
from gis.types import utcnow
from web import assessment_inputs as gather

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Above this span the chart counts per day instead of per hour.
HOURLY_SPAN = dt.timedelta(days=4)


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _has_table(session: Session, table: str) -> bool:
    # The session's own connection: on SQLite a second one would wait for its write lock.
    return inspect(session.connection()).has_table(table)


def event_dict(event: DisasterEvent) -> dict[str, Any]:
    return {"id": event.id, "code": event.code, "name": event.name,
            "hazard": str(getattr(event.hazard, "value", event.hazard)),
            "status": str(getattr(event.status, "value", event.status)),
            "started_at": event.started_at.isoformat(),
            "ended_at": event.ended_at.isoformat() if event.ended_at else None}


def timeline(session: Session, event: DisasterEvent,
             now: dt.datetime | None = None) -> dict[str, Any]:
    """Warnings issued (by level) and reports filed (by kind) per hour or day of the event.

    Buckets are labelled in Asia/Shanghai time; counts come from the alerts of the event (or
    sent during it) and from the event's reports, so the chart shows whether reporting kept
    pace with the warnings.
    """
    start = event.started_at
    limit = event.ended_at or now or utcnow()
    alert_rows: list[tuple[dt.datetime, str]] = []
    alert = _optional("disaster.warnings.models", "Alert")
    if alert is not None and _has_table(session, "alerts"):
        rows = session.execute(select(alert.sent, alert.level, alert.msg_type).where(
            (alert.event_id == event.id) | ((alert.sent >= start) & (alert.sent <= limit)))).all()
        alert_rows = [(sent, str(getattr(level, "value", level))) for sent, level, msg_type in rows
                      if str(getattr(msg_type, "value", msg_type)) != "Cancel"
                      and start <= sent <= limit]
    report_rows = [(at, str(getattr(kind, "value", kind))) for at, kind in session.execute(
        select(Report.submitted_at, Report.kind).where(Report.event_id == event.id))]
    # The chart spans the event's activity: to its end, or to the last warning or report of
    # an event still open (not to today, which would squash a past storm into one bar).
    last = max([at for at, _k in alert_rows + report_rows], default=start)
    end = event.ended_at or max(last, start + dt.timedelta(hours=1))
    step = dt.timedelta(hours=1) if end - start <= HOURLY_SPAN else dt.timedelta(days=1)

    def bucket(at: dt.datetime) -> int:
        return min(max(0, int((at - start) / step)), n - 1)

    n = int((end - start) / step) + 1
    warnings: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for sent, level in alert_rows:
        warnings[level][bucket(sent)] += 1
    reports: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for submitted_at, kind in report_rows:
        reports[kind][bucket(submitted_at)] += 1
    labels = [(start + step * i).astimezone(SHANGHAI).strftime(
        "%m-%d %H:00" if step < dt.timedelta(days=1) else "%m-%d") for i in range(n)]
    return {"step": "hour" if step < dt.timedelta(days=1) else "day", "labels": labels,
            "warnings": {lv: warnings[lv] for lv in ("blue", "yellow", "orange", "red")
                         if lv in warnings},
            "reports": {k: reports[k] for k in ("initial", "update", "final") if k in reports}}


def shelter_status(session: Session) -> dict[str, Any]:
    """Shelters by status with capacity and occupancy, and the open or full ones listed."""
    from shelters.models import Shelter, ShelterStatus

    rows = session.execute(select(Shelter.code, Shelter.name, Shelter.status, Shelter.capacity,
                                  Shelter.occupancy).order_by(Shelter.code)).all()
    by_status: Counter[str] = Counter()
    capacity = occupancy = 0
    in_use = []
    for code, name, status, cap, occ in rows:
        status = ShelterStatus(status)
        by_status[status.value] += 1
        if status != ShelterStatus.CLOSED:
            capacity += cap or 0
            occupancy += occ or 0
        if status in (ShelterStatus.OPEN, ShelterStatus.FULL) or (occ or 0) > 0:
            in_use.append({"code": code, "name": name, "status": status.value,
                           "capacity": cap or 0, "occupancy": occ or 0})
    return {"count": len(rows), "by_status": dict(by_status), "capacity": capacity,
            "occupancy": occupancy, "in_use": in_use}


def dispatch_status(session: Session) -> dict[str, Any] | None:
    """Dispatch orders by status (``None`` when this build has no dispatch workflow)."""
    order = _optional("stockpile.orders_models", "DispatchOrder")
    if order is None or not _has_table(session, "dispatch_orders"):
        return None
    rows = session.execute(select(order.status, func.count()).group_by(order.status)).all()
    return {"by_status": {str(getattr(s, "value", s)): int(n) for s, n in rows},
            "total": int(sum(n for _s, n in rows))}


def sitrep_data(session: Session, event: DisasterEvent, a: Assessment | None = None,
                now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the 灾情简报 shows, as JSON-able data."""
    a = a or gather.assessment(session, event.id)
    doc = assessment_document(a, only_affected=True)
    names = a.table.area_names
    for row in doc["by_county"]:
        row["name"] = row["name"] or names.get(row["code"])
    return {
        "event": event_dict(event),
        "generated_at": (now or utcnow()).isoformat(),
        "totals": doc["totals"],
        "by_county": doc["by_county"],
        "by_township": [r for r in doc["by_township"]
                        if r["modelled"]["affected_people"] or r["reporting_communities"]],
        "worst_hit": worst_hit(a, 15),
        "silent": doc["silent"],
        "far_from_model": doc["far_from_model"],
        "timeline": timeline(session, event, now),
        "shelters": shelter_status(session),
        "dispatch": dispatch_status(session),
    }
