"""Deadlines: 初报 within 2 h of an orange/red warning, 续报 daily by 09:00 Beijing time,
reminders to the officer then the backup, each once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from disaster.access import cli_actor
from disaster.events import DisasterEvent, close_event
from disaster.officers import upsert_officers
from disaster.reports.deadlines import overdue_reports, run_deadline_job, send_reminders
from disaster.reports.models import ReportObligation, ReportReminder
from disaster.reports.services import submit_report
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level

# 2026-07-10 10:00 Beijing time.
T0 = dt.datetime(2026, 7, 10, 2, 0, tzinfo=dt.UTC)


class Outbox:
    """Records what the notification service was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def __call__(self, session, **message) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(message)


def warn(session, code: str, level=WarningLevel.ORANGE, at=T0) -> None:  # type: ignore[no-untyped-def]
    set_level(session, code, Hazard.RAINSTORM, level, now=at)
    session.flush()


def officers(session, region) -> dict[str, int]:  # type: ignore[no-untyped-def]
    upsert_officers(session, cli_actor(), [
        {"code": "OF1", "name": "张伟", "home_community_code": region.communities[0],
         "primary": [region.communities[0]]},
        {"code": "OB1", "name": "李娜", "home_community_code": region.communities[1],
         "backup": [region.communities[0]]},
    ])
    from disaster.officers import Officer

    return {o.code: o.id for o in session.scalars(select(Officer))}


def report(session, region, kind: str, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    submit_report(session, region.officer, {
        "community": region.communities[0], "kind": kind, "hazard": "rainstorm",
        "occurred_at": at.isoformat()}, now=at)


def test_yellow_warning_creates_no_obligation(session, region):
    warn(session, region.communities[0], WarningLevel.YELLOW)
    assert run_deadline_job(session, T0, Outbox())["obligations"] == 0


def test_orange_warning_opens_an_event_and_makes_the_initial_report_due_in_two_hours(
        session, region):
    warn(session, region.communities[0])
    run_deadline_job(session, T0, Outbox())
    obligation = session.scalar(select(ReportObligation))
    assert obligation.initial_due_at == T0 + dt.timedelta(hours=2)
    event = session.get(DisasterEvent, obligation.event_id)
    assert event.source == "warning" and event.hazard == Hazard.RAINSTORM
    assert overdue_reports(session, T0 + dt.timedelta(hours=1, minutes=59)) == []
    [late] = overdue_reports(session, T0 + dt.timedelta(hours=2, minutes=1))
    assert late["kind"] == "initial" and late["community"] == region.communities[0]


def test_initial_report_on_time_is_not_overdue(session, region):
    warn(session, region.communities[0])
    run_deadline_job(session, T0, Outbox())
    report(session, region, "initial", T0 + dt.timedelta(hours=1))
    assert overdue_reports(session, T0 + dt.timedelta(hours=3)) == []


def test_daily_update_is_due_by_nine_beijing_time(session, region):
    warn(session, region.communities[0])
    run_deadline_job(session, T0, Outbox())
    report(session, region, "initial", T0 + dt.timedelta(hours=1))
    # Next day 08:59 Beijing (00:59 UTC): not yet due; 09:01: overdue.
    before = dt.datetime(2026, 7, 11, 0, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 7, 11, 1, 1, tzinfo=dt.UTC)
    assert overdue_reports(session, before) == []
    [late] = overdue_reports(session, after)
    assert late["kind"] == "update"
    assert late["due_at"] == "2026-07-11T01:00:00+00:00"
    # A 续报 filed after midnight Beijing time satisfies the day's deadline.
    report(session, region, "update", dt.datetime(2026, 7, 10, 23, 30, tzinfo=dt.UTC))
    assert overdue_reports(session, after) == []


def test_final_report_and_closed_event_end_the_duty(session, region):
    warn(session, region.communities[0])
    run_deadline_job(session, T0, Outbox())
    report(session, region, "initial", T0 + dt.timedelta(hours=1))
    later = dt.datetime(2026, 7, 12, 2, 0, tzinfo=dt.UTC)
    assert overdue_reports(session, later)
    event = session.scalar(select(DisasterEvent))
    close_event(session, region.duty, event.id)
    assert overdue_reports(session, later) == []


def test_reminders_go_to_the_officer_then_the_backup_once_each(session, region):
    ids = officers(session, region)
    warn(session, region.communities[0])
    outbox = Outbox()
    run_deadline_job(session, T0, outbox)
    late = T0 + dt.timedelta(hours=2, minutes=5)
    send_reminders(session, late, outbox)
    assert [m["officer_ids"] for m in outbox.sent] == [[ids["OF1"]]]
    assert outbox.sent[0]["kind"] == "report_reminder" and "初报" in outbox.sent[0]["subject"]
    send_reminders(session, late + dt.timedelta(minutes=10), outbox)
    assert len(outbox.sent) == 1  # not again
    send_reminders(session, late + dt.timedelta(hours=1), outbox)
    assert [m["officer_ids"] for m in outbox.sent] == [[ids["OF1"]], [ids["OB1"]]]
    stages = session.scalars(select(ReportReminder.stage).order_by(ReportReminder.id)).all()
    assert stages == ["officer", "backup"]


def test_reminder_without_a_channel_is_recorded_as_undelivered(session, region):
    officers(session, region)
    warn(session, region.communities[0])
    run_deadline_job(session, T0, Outbox())
    [reminder] = send_reminders(session, T0 + dt.timedelta(hours=2, minutes=1),
                                send=lambda *a, **k: (_ for _ in ()).throw(RuntimeError("down")))
    assert not reminder.delivered and "down" in reminder.detail


def test_reminder_reaches_the_officer_inbox_through_the_notification_service(session, region):
    from disaster.notify.models import Notification

    ids = officers(session, region)
    warn(session, region.communities[0])
    run_deadline_job(session, T0)  # no sender given: disaster.notify.dispatch.send
    [reminder] = send_reminders(session, T0 + dt.timedelta(hours=2, minutes=1))
    assert reminder.delivered
    note = session.scalar(select(Notification).where(Notification.kind == "report_reminder"))
    assert note.officer_id == ids["OF1"] and "初报" in note.subject
