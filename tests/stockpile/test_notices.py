"""Stock warnings are pushed to the depot's managers and the duty officers, once per episode."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster import jobs as disaster_jobs
from disaster.access import SYSTEM, Role, cli_actor
from disaster.accounts import User, add_user
from disaster.audit import AuditEntry
from disaster.notify import dispatch
from disaster.notify.channels import SmtpChannel
from disaster.notify.models import Delivery, Notification
from gis.db import make_engine, make_session_factory
from gis.errors import PermissionDenied
from stockpile import jobs, ledger, notices
from stockpile.notice_models import StockWarningNotice
from tests.mailbox import smtp_server
from tests.scopes import ensure_scopes
from tests.stockpile.conftest import ADMIN, DUTY, MANAGER, seed_stock
from web import scheduler
from web.cli import main

TODAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)


def add_people(session: Session) -> dict[str, User]:
    """DPA's manager (with e-mail), a duty officer, DPB's manager, an admin and an officer."""
    specs = {"manager": (Role.DEPOT_MANAGER, ["DPA"], "dpa@example.cn"),
             "duty": (Role.DUTY_OFFICER, [], None),
             "other": (Role.DEPOT_MANAGER, ["DPB"], "dpb@example.cn"),
             "admin": (Role.ADMIN, [], None),
             "officer": (Role.INFO_OFFICER, ["341302"], None)}
    ensure_scopes(session, "DPA", "DPB", "341302")
    return {name: add_user(session, cli_actor(), name, role, scopes=scopes, email=email)
            for name, (role, scopes, email) in specs.items()}


@pytest.fixture
def people(stock_db: Session) -> dict[str, User]:
    return add_people(stock_db)


def notes_of(session: Session, user: User) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id)))


def run(session: Session, today: dt.date = TODAY, actor=SYSTEM) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return notices.notify_stock_warnings(session, actor, today=today, now=NOW, channels=[])


def make_quilts_low(session: Session) -> None:
    ledger.receive(session, ADMIN, "DPA", "QUILT", 5, today=TODAY)
    jobs.set_minimum(session, MANAGER, "DPA", "QUILT", 20)


def test_low_stock_is_notified_once_until_it_clears(stock_db, people):
    make_quilts_low(stock_db)
    assert run(stock_db) == {"warnings": 1, "notified": 1, "cleared": 0, "notifications": 2}
    note, = notes_of(stock_db, people["manager"])
    assert note.kind == "low_stock" and note.reference == "stock:DPA:low_stock"
    assert "仓库DPA" in note.subject and "低于库存下限" in note.subject
    assert "棉被（QUILT） 可用 5 床，低于下限 20 床" in note.body
    assert len(notes_of(stock_db, people["duty"])) == 1
    assert all(notes_of(stock_db, people[n]) == [] for n in ("other", "admin", "officer"))

    assert run(stock_db)["notified"] == 0  # persists: not sent again
    ledger.issue(stock_db, ADMIN, "DPA", "QUILT", 1, today=TODAY)
    assert run(stock_db)["notified"] == 0  # still low, by another amount: same warning
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 30, today=TODAY)
    assert run(stock_db) == {"warnings": 0, "notified": 0, "cleared": 1, "notifications": 0}
    ledger.issue(stock_db, ADMIN, "DPA", "QUILT", 30, today=TODAY)
    assert run(stock_db)["notified"] == 1  # it came back: sent again
    assert len(notes_of(stock_db, people["manager"])) == 2
    notice = stock_db.scalars(select(StockWarningNotice)).one()
    assert (notice.kind, notice.depot_code, notice.item_code, notice.active,
            notice.episodes) == ("low_stock", "DPA", "QUILT", True, 2)


def test_expiring_lot_is_notified_and_its_expiry_is_a_new_warning(stock_db, people):
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 100, lot="A", expires_on="2027-01-10",
                   today=TODAY)
    assert run(stock_db)["notified"] == 1
    assert run(stock_db, dt.date(2027, 1, 5))["notified"] == 0
    result = run(stock_db, dt.date(2027, 1, 11))
    assert (result["cleared"], result["notified"]) == (1, 1)
    kinds = [(n.kind, n.subject[:5]) for n in notes_of(stock_db, people["manager"])]
    assert kinds == [("expiring", "【临期】仓"), ("expired", "【已过期】")]
    assert "批次 A：100 升，已于 2027-01-10 过期" in notes_of(stock_db, people["manager"])[1].body


def test_each_depot_notifies_only_its_own_managers(stock_db, people):
    ledger.receive(stock_db, ADMIN, "DPB", "TENT12", 2, today=TODAY)
    jobs.set_minimum(stock_db, ADMIN, "DPB", "TENT12", 10)
    make_quilts_low(stock_db)
    run(stock_db)
    assert [n.reference for n in notes_of(stock_db, people["other"])] == ["stock:DPB:low_stock"]
    assert [n.reference for n in notes_of(stock_db, people["manager"])] == ["stock:DPA:low_stock"]
    assert sorted(n.reference for n in notes_of(stock_db, people["duty"])) == [
        "stock:DPA:low_stock", "stock:DPB:low_stock"]


def test_every_notice_send_and_clearance_is_audited(stock_db, people):
    make_quilts_low(stock_db)
    run(stock_db)
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 30, today=TODAY)
    run(stock_db)
    entries = {e.action: e for e in stock_db.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(["stock_warning.notify", "stock_warning.clear",
                               "notification.send"])))}
    assert entries["stock_warning.notify"].entity_id == "DPA/QUILT"
    assert entries["stock_warning.notify"].after["users"] == sorted(
        [people["manager"].id, people["duty"].id])
    assert entries["notification.send"].entity_id == "stock:DPA:low_stock"
    assert entries["notification.send"].after["users"] == sorted(
        [people["manager"].id, people["duty"].id])
    assert entries["stock_warning.clear"].after == {"kind": "low_stock", "lot": ""}


def test_managers_with_an_address_get_the_warning_by_email(stock_db, people):
    make_quilts_low(stock_db)
    with smtp_server() as (box, port):
        notices.notify_stock_warnings(stock_db, SYSTEM, today=TODAY, now=NOW,
                                      channels=["email"])
        counts = dispatch.deliver_pending(stock_db, {"email": SmtpChannel("127.0.0.1", port)})
    assert counts["sent"] == 1
    assert [m.rcpt_tos for m in box.messages] == [["dpa@example.cn"]]
    assert "棉被" in box.texts()[0]
    skipped = stock_db.scalars(select(Delivery).where(Delivery.channel == "email",
                                                      Delivery.state == "skipped")).one()
    assert skipped.address is None  # the duty officer has no e-mail address


def test_only_administrators_and_duty_officers_send_stock_warnings(stock_db, people):
    make_quilts_low(stock_db)
    with pytest.raises(PermissionDenied):
        run(stock_db, actor=MANAGER)
    assert run(stock_db, actor=DUTY)["notified"] == 1


@pytest.fixture
def committed(database_url):  # type: ignore[no-untyped-def]
    """A database of this test's own with depots, people and a low stock, committed."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        seed_stock(s)
        add_people(s)
        make_quilts_low(s)
        s.commit()
    yield sessions
    engine.dispose()


def _count_notes(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count(Notification.id)))


def test_two_concurrent_runs_notify_a_warning_once(committed):
    sessions = committed
    first = sessions()
    assert run(first)["notified"] == 1  # holds its notice, not yet committed
    results: list[dict] = []

    def second() -> None:
        with sessions() as s:
            results.append(run(s))
            s.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert not results  # it waits for the first (unique key on PostGIS, one writer on SQLite)
    first.commit()
    first.close()
    thread.join(60)
    assert results and results[0]["notified"] == 0
    assert _count_notes(sessions) == 2  # manager and duty officer, once each


def test_scheduled_job_is_registered_and_notifies_once(committed, monkeypatch):
    assert ("stock_warnings", "stockpile.notices:scheduled_job", 600) in scheduler.FIXED_JOBS
    monkeypatch.setattr(disaster_jobs, "_sessions", committed)
    monkeypatch.delenv("DISASTER_SMTP_HOST", raising=False)
    monkeypatch.delenv("DISASTER_SMS_URL", raising=False)
    first = notices.scheduled_job()
    assert first is not None and first["notified"] == 1 and first["notifications"] == 2
    assert notices.scheduled_job()["notified"] == 0
    assert _count_notes(committed) == 2


def test_scheduled_job_never_raises(monkeypatch):
    monkeypatch.setattr(disaster_jobs, "_sessions", None)  # not configured in this process
    assert notices.scheduled_job() is None


def test_stock_notify_command_sends_once_and_users_take_email_and_phone(
        committed, database_url, tmp_path, monkeypatch, cli_engines):
    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    monkeypatch.delenv("DISASTER_SMTP_HOST", raising=False)

    def cli(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, [*args, "--database", database_url])

    added = cli("users", "add", "keeper", "--role", "depot_manager", "--scope", "DPA",
                "--email", "keeper@example.cn", "--phone", "+86 138-0000-0002",
                "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["phone"] == "+86 138-0000-0002"
    bad = cli("users", "add", "typo", "--role", "duty_officer", "--email", "no-at-sign")
    assert bad.exit_code == 1 and "email" in bad.stderr
    first = cli("stock", "notify", "--today", "2026-11-29", "--format", "json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["notifications"] == 3  # two managers of DPA, duty
    again = cli("stock", "notify", "--today", "2026-11-29", "--format", "json")
    assert json.loads(again.stdout)["notified"] == 0
