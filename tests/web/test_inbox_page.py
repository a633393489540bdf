"""The inbox page (/inbox) and the notification API: own notifications only, newest first,
unread marked, marked read through a CSRF-protected form, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from disaster.access import SYSTEM, Role, cli_actor
from disaster.accounts import add_user, issue_token
from disaster.audit import AuditEntry
from disaster.notify import dispatch
from disaster.notify.models import Notification
from disaster.officers import Officer
from stockpile import jobs, ledger, notices
from tests.scopes import ensure_scopes
from tests.stockpile.conftest import seed_stock
from web.app import create_app

PASSWORD = "Inbox2026pass"
T0 = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(database_url):  # type: ignore[no-untyped-def]
    """Depot DPA low on quilts (notified to its manager and the duty officer), an alert to
    the officer record linked to the information officer, and a second depot manager."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        seed_stock(s)
        ensure_scopes(s, "341302001")
        users = {name: add_user(s, cli_actor(), name, role, password=PASSWORD, scopes=scopes)
                 for name, role, scopes in (("manager", Role.DEPOT_MANAGER, ["DPA"]),
                                            ("other", Role.DEPOT_MANAGER, ["DPB"]),
                                            ("duty", Role.DUTY_OFFICER, []),
                                            ("officer", Role.INFO_OFFICER, ["341302001"]))}
        officer = Officer(code="OF1", name="信息员甲", user_id=users["officer"].id)
        s.add(officer)
        s.flush()
        dispatch.send(s, officer_ids=[officer.id], subject="暴雨红色预警", body="请叫应",
                      kind="alert", reference="ALERT-1", channels=[], now=T0)
        ledger.receive(s, cli_actor(), "DPA", "QUILT", 5)
        jobs.set_minimum(s, cli_actor(), "DPA", "QUILT", 20)
        notices.notify_stock_warnings(s, SYSTEM, now=T0 + dt.timedelta(hours=1), channels=[])
        dispatch.send(s, user_ids=[users["manager"].id], subject="调度单待确认",
                      body="请确认调度单", kind="order", reference="order:1", channels=[],
                      now=T0 + dt.timedelta(hours=2))
        app.tokens = {n: issue_token(s, cli_actor(), n) for n in users}  # type: ignore[attr-defined]
        s.commit()
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def sign_in(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": _csrf(client.get("/login").get_data(
                                               as_text=True))})
    assert response.status_code == 302
    return client


def note_ids(app, username: str) -> list[int]:  # type: ignore[no-untyped-def]
    with app.extensions["disaster_runtime"].sessions() as s:
        user_id = s.scalar(select(Officer.user_id).where(Officer.code == "OF1")) \
            if username == "officer" else None
        stmt = select(Notification.id).order_by(Notification.id)
        if user_id is not None:
            stmt = stmt.join(Officer, Officer.id == Notification.officer_id).where(
                Officer.user_id == user_id)
        else:
            from disaster.accounts import User
            stmt = stmt.join(User, User.id == Notification.user_id).where(
                User.username == username)
        return list(s.scalars(stmt))


def read_at(app, note_id: int):  # type: ignore[no-untyped-def]
    with app.extensions["disaster_runtime"].sessions() as s:
        return s.get(Notification, note_id).read_at


def test_inbox_needs_sign_in(app):
    response = app.test_client().get("/inbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_sees_own_notifications_newest_first_with_unread_marked(app):
    client = sign_in(app, "manager")
    html = client.get("/inbox/").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'data-notification="(\d+)"', html)]
    assert shown == sorted(note_ids(app, "manager"), reverse=True) and len(shown) == 2
    assert html.index("调度单待确认") < html.index("【低库存】")
    assert "暴雨红色预警" not in html  # the officer's, not the manager's
    assert html.count('class="note unread') == 2 and "未读" in html and "标为已读" in html
    assert 'name="viewport"' in html and "通知" in html  # phone layout, Chinese by default
    assert 'href="/depot/DPA"' in html  # the stock warning leads to the depot
    english = client.get("/inbox/?lang=en").get_data(as_text=True)
    assert "Notifications" in english and "Mark as read" in english and "Unread" in english


def test_mark_as_read_needs_csrf_is_audited_and_updates_the_list(app):
    client = sign_in(app, "manager")
    note = note_ids(app, "manager")[0]
    html = client.get("/inbox/").get_data(as_text=True)
    assert client.post(f"/inbox/{note}/read").status_code == 400  # no CSRF token
    assert read_at(app, note) is None
    response = client.post(f"/inbox/{note}/read", data={"csrf_token": _csrf(html)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox/")
    assert read_at(app, note) is not None
    with app.extensions["disaster_runtime"].sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "notification.read")).one()
        assert (entry.actor_name, entry.entity_id) == ("manager", str(note))
    html = client.get("/inbox/").get_data(as_text=True)
    assert html.count('class="note unread') == 1 and html.count('class="note read') == 1
    unread_only = client.get("/inbox/?unread=1").get_data(as_text=True)
    assert f'data-notification="{note}"' not in unread_only


def test_only_the_owner_may_mark_a_notification_read(app):
    note = note_ids(app, "manager")[0]
    for intruder in ("other", "duty", "officer"):
        client = sign_in(app, intruder)
        token = _csrf(client.get("/inbox/").get_data(as_text=True))
        assert client.post(f"/inbox/{note}/read", data={"csrf_token": token}).status_code == 403
        assert client.post("/inbox/999999/read", data={"csrf_token": token}).status_code == 404
    assert read_at(app, note) is None


def test_mark_all_read_empties_my_unread_list_only(app):
    client = sign_in(app, "manager")
    token = _csrf(client.get("/inbox/").get_data(as_text=True))
    assert client.post("/inbox/read-all", data={"csrf_token": token}).status_code == 302
    assert all(read_at(app, n) for n in note_ids(app, "manager"))
    assert not any(read_at(app, n) for n in note_ids(app, "duty"))


def test_officer_reads_the_linked_officer_records_notifications(app):
    client = sign_in(app, "officer")
    html = client.get("/inbox/").get_data(as_text=True)
    assert "暴雨红色预警" in html and "到我的页面叫应" in html and "【低库存】" not in html
    note, = note_ids(app, "officer")
    response = client.post(f"/inbox/{note}/read", data={"csrf_token": _csrf(html)})
    assert response.status_code == 302 and read_at(app, note) is not None


def test_officer_and_depot_pages_link_to_the_inbox_with_the_unread_count(app):
    officer = sign_in(app, "officer").get("/officer/").get_data(as_text=True)
    assert re.search(r'<a href="/inbox/" id="inbox-link">通知<span class="count"[^>]*>1</span>',
                     officer)
    depot = sign_in(app, "manager").get("/depot/DPA").get_data(as_text=True)
    assert re.search(r'<a href="/inbox/" id="inbox-link">通知<span class="count"[^>]*>2</span>',
                     depot)


def api(app, who: str, method: str, url: str):  # type: ignore[no-untyped-def]
    return app.test_client().open(url, method=method,
                                  headers={"Authorization": f"Bearer {app.tokens[who]}"})


def test_api_lists_and_marks_only_my_notifications(app):
    mine = api(app, "manager", "GET", "/api/v1/notifications").get_json()
    assert [n["id"] for n in mine] == sorted(note_ids(app, "manager"), reverse=True)
    assert {n["user_id"] for n in mine} == {mine[0]["user_id"]} and mine[0]["officer_id"] is None
    assert mine[1]["kind"] == "low_stock" and mine[1]["read_at"] is None
    target = mine[1]["id"]
    assert api(app, "other", "POST", f"/api/v1/notifications/{target}/read").status_code == 403
    assert api(app, "manager", "POST", "/api/v1/notifications/999999/read").status_code == 404
    done = api(app, "manager", "POST", f"/api/v1/notifications/{target}/read")
    assert done.status_code == 200 and done.get_json()["read_at"] is not None
    unread = api(app, "manager", "GET", "/api/v1/notifications?unread=1").get_json()
    assert [n["id"] for n in unread] == [mine[0]["id"]]
    assert api(app, "manager", "POST", "/api/v1/notifications/read-all").get_json() == {
        "marked": 1}
    officer = api(app, "officer", "GET", "/api/v1/notifications").get_json()
    assert [n["kind"] for n in officer] == ["alert"]
