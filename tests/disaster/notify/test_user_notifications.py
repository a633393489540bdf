"""Notifications addressed to signed-in users, and the inbox every user reads and marks read."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.audit import AuditEntry
from disaster.errors import DisasterNotFound, DisasterPermissionDenied
from disaster.notify import ack, dispatch, inbox
from disaster.notify.channels import InboxChannel, SmtpChannel
from disaster.notify.models import Delivery, Notification
from disaster.officers import Officer
from tests.disaster.warnings import world
from tests.mailbox import smtp_server
from tests.scopes import ensure_scopes

T0 = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def people(session):
    """A depot manager with e-mail and phone, a duty officer without, an information officer
    linked to an officer record, and a second manager."""
    officers = world.build(session)
    ensure_scopes(session, "DPA", "DPB", "341302001")
    users = {
        "manager": add_user(session, cli_actor(), "manager", Role.DEPOT_MANAGER,
                            scopes=["DPA"], email="manager@example.cn", phone="13800000001"),
        "duty": add_user(session, cli_actor(), "duty", Role.DUTY_OFFICER),
        "officer": add_user(session, cli_actor(), "officer", Role.INFO_OFFICER,
                            scopes=["341302001"]),
        "other": add_user(session, cli_actor(), "other", Role.DEPOT_MANAGER, scopes=["DPB"]),
    }
    linked = next(iter(officers.values()))
    session.get(Officer, linked).user_id = users["officer"].id
    session.flush()
    return users, linked


def _send_to_users(session, user_ids, *, subject="【低库存】仓库A", channels=(), now=T0):
    return dispatch.send(session, user_ids=user_ids, subject=subject, body="棉被低于下限",
                         kind="low_stock", reference="stock:DPA:low_stock",
                         channels=list(channels), now=now)


def test_users_are_notified_in_the_inbox_and_by_email_where_they_have_an_address(
        session, people, smtp):
    users, _ = people
    box, port = smtp
    notes = _send_to_users(session, [users["manager"].id, users["duty"].id],
                           channels=["email", "sms"])
    assert [(n.user_id, n.officer_id) for n in notes] == [(users["manager"].id, None),
                                                          (users["duty"].id, None)]
    rows = {(d.notification_id, d.channel): d for d in session.scalars(select(Delivery))}
    manager_note, duty_note = notes
    assert rows[(manager_note.id, "inbox")].address == f"user:{users['manager'].id}"
    assert rows[(manager_note.id, "email")].state == "queued"
    assert rows[(manager_note.id, "sms")].address == "13800000001"
    assert rows[(duty_note.id, "email")].state == "skipped"
    assert "user has no email address" in rows[(duty_note.id, "email")].last_error
    counts = dispatch.deliver_pending(session, {"inbox": InboxChannel(),
                                                "email": SmtpChannel("127.0.0.1", port)})
    assert counts == {"sent": 1, "failed": 0, "retry": 1}  # no SMS gateway configured
    assert [m.rcpt_tos for m in box.messages] == [["manager@example.cn"]]
    assert "棉被低于下限" in box.messages[0].content.decode("utf-8", "replace")


def test_user_email_links_to_the_inbox_not_to_an_acknowledgement(session, people, smtp,
                                                                   monkeypatch):
    users, _ = people
    box, port = smtp
    monkeypatch.setenv("DISASTER_PUBLIC_URL", "https://relief.example.cn/")
    _send_to_users(session, [users["manager"].id], channels=["email"])
    dispatch.deliver_pending(session, {"email": SmtpChannel("127.0.0.1", port)})
    text = box.messages[0].content.decode("utf-8", "replace")
    assert "https://relief.example.cn/inbox/" in text and "/alerts/ack/" not in text


def test_deactivated_users_are_not_notified(session, people):
    users, _ = people
    users["duty"].active = False
    notes = _send_to_users(session, [users["duty"].id, users["manager"].id])
    assert [n.user_id for n in notes] == [users["manager"].id]


def test_sending_to_users_is_audited_beside_officers(session, people):
    users, linked = people
    dispatch.send(session, officer_ids=[linked], user_ids=[users["duty"].id], subject="s",
                  body="b", kind="test", reference="REF-9", channels=[], now=T0)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notification.send",
                                                     AuditEntry.entity_id == "REF-9")).one()
    assert entry.after == {"kind": "test", "officers": [linked], "users": [users["duty"].id]}


def test_a_notification_has_exactly_one_recipient(session, people):
    users, linked = people
    for officer_id, user_id in ((None, None), (linked, users["duty"].id)):
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.add(Notification(officer_id=officer_id, user_id=user_id, kind="x",
                                     subject="s", body="b", token=f"t-{officer_id}-{user_id}",
                                     created_at=T0))
            session.flush()


def test_a_users_notification_link_acknowledges_nothing(session, people):
    users, _ = people
    note, = _send_to_users(session, [users["manager"].id])
    with pytest.raises(DisasterNotFound):
        ack.acknowledge_token(session, note.token)


def test_inbox_holds_own_and_linked_officer_notifications_newest_first(session, people):
    users, linked = people
    officer = users["officer"].actor()
    older = dispatch.send(session, officer_ids=[linked], subject="预警", body="b", kind="alert",
                          reference="A-1", channels=[], now=T0)[0]
    newer = _send_to_users(session, [users["officer"].id], now=T0 + dt.timedelta(hours=1))[0]
    _send_to_users(session, [users["duty"].id])
    assert [n.id for n in inbox.notifications_for(session, officer)] == [newer.id, older.id]
    assert inbox.unread_count(session, officer) == 2
    assert [n.id for n in inbox.notifications_for(session, users["duty"].actor())] != []
    assert inbox.notifications_for(session, cli_actor()) == []


def test_only_the_owner_marks_a_notification_read_and_it_is_audited(session, people):
    users, _ = people
    note, = _send_to_users(session, [users["manager"].id])
    for intruder in ("other", "duty"):
        with pytest.raises(DisasterPermissionDenied):
            inbox.mark_read(session, users[intruder].actor(), note.id)
    admin = add_user(session, cli_actor(), "root", Role.ADMIN)
    with pytest.raises(DisasterPermissionDenied):  # an inbox is personal, even to admins
        inbox.mark_read(session, admin.actor(), note.id)
    with pytest.raises(DisasterNotFound):
        inbox.mark_read(session, users["manager"].actor(), note.id + 999)
    assert note.read_at is None
    later = T0 + dt.timedelta(minutes=5)
    inbox.mark_read(session, users["manager"].actor(), note.id, now=later)
    inbox.mark_read(session, users["manager"].actor(), note.id, now=later + dt.timedelta(hours=1))
    assert note.read_at == later  # reading it again changes nothing
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "notification.read")).all()
    assert [(e.actor_name, e.entity_id) for e in entries] == [("manager", str(note.id))]
    assert inbox.unread_count(session, users["manager"].actor()) == 0


def test_an_officer_marks_the_linked_officer_records_notifications(session, people):
    users, linked = people
    note = dispatch.send(session, officer_ids=[linked], subject="预警", body="b", kind="alert",
                         reference="A-2", channels=[], now=T0)[0]
    assert inbox.mark_read(session, users["officer"].actor(), note.id).read_at is not None
    with pytest.raises(DisasterPermissionDenied):
        inbox.mark_read(session, users["manager"].actor(), note.id)


def test_mark_all_read_touches_only_my_notifications(session, people):
    users, _ = people
    _send_to_users(session, [users["manager"].id, users["duty"].id])
    _send_to_users(session, [users["manager"].id], subject="第二条")
    assert inbox.mark_all_read(session, users["manager"].actor(), now=T0) == 2
    assert inbox.unread_count(session, users["manager"].actor()) == 0
    assert inbox.unread_count(session, users["duty"].actor()) == 1
    assert session.scalar(select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "notification.read_all")) == 1
