"""Sign-in, CSRF, API tokens, cookie flags, language switch and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from disaster import accounts
from disaster.access import cli_actor
from disaster.audit import AuditEntry
from tests.web.browser.dataset import PASSWORD, Dataset, csrf_from, make_app, sign_in


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")))
    yield app, data
    app.extensions["disaster_runtime"].engine.dispose()


@pytest.fixture
def app(web: tuple[Flask, Dataset]) -> Flask:
    return web[0]


def add_user(app: Flask, username: str, role: str = "duty_officer") -> None:
    with app.extensions["disaster_runtime"].sessions() as session:
        accounts.add_user(session, cli_actor(), username, role, PASSWORD)
        session.commit()


def audit_actions(app: Flask, username: str) -> list[str]:
    with app.extensions["disaster_runtime"].sessions() as session:
        return list(session.scalars(select(AuditEntry.action)
                                    .where(AuditEntry.entity_id == username)
                                    .order_by(AuditEntry.id)))


def post_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_console_sends_signed_out_users_to_the_login_form(app):
    response = app.test_client().get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_login_form_without_csrf_token_is_refused(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_sign_in_through_the_form_opens_the_console_and_is_audited(app):
    add_user(app, "signin_ok")
    client = app.test_client()
    response = post_login(client, "signin_ok", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "DisasterConsole.start" in page.get_data(as_text=True)
    assert audit_actions(app, "signin_ok")[-1] == "auth.login"


def test_wrong_password_is_refused_and_audited(app):
    add_user(app, "signin_bad")
    client = app.test_client()
    response = post_login(client, "signin_bad", "not-the-password-1")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert audit_actions(app, "signin_bad")[-1] == "auth.login_failed"


def test_passwords_are_stored_as_argon2_hashes(app):
    with app.extensions["disaster_runtime"].sessions() as session:
        user = accounts.get_user(session, "duty")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_cookie_session_writes_need_the_csrf_token(app):
    add_user(app, "victim")
    client = sign_in(app.test_client(), "admin")
    refused = client.post("/admin/users/victim/deactivate")
    assert refused.status_code == 400
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    accepted = client.post("/admin/users/victim/deactivate", headers={"X-CSRFToken": token})
    assert accepted.status_code == 302
    assert audit_actions(app, "victim")[-1] == "user.deactivate"


def test_sign_out_needs_post_with_csrf(app):
    client = sign_in(app.test_client(), "duty")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_bearer_token_authenticates_the_api_without_csrf(app):
    with app.extensions["disaster_runtime"].sessions() as session:
        token = accounts.issue_token(session, cli_actor(), "officer")
        session.commit()
        stored = session.scalar(select(accounts.ApiToken.token_hash)
                                .where(accounts.ApiToken.prefix == token[:10]))
    assert stored != token and token not in stored  # only a hash is kept
    client = app.test_client()
    assert client.get("/api/v1/areas", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/areas", headers={"Authorization": "Bearer dt_forged"}).status_code == 401


def test_revoked_token_is_refused(app):
    with app.extensions["disaster_runtime"].sessions() as session:
        token = accounts.issue_token(session, cli_actor(), "depot")
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/depots", headers=headers).status_code == 200
    with app.extensions["disaster_runtime"].sessions() as session:
        assert accounts.revoke_tokens(session, cli_actor(), "depot") >= 1
        session.commit()
    response = client.get("/api/v1/depots", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_deactivated_user_loses_session_and_tokens(app):
    add_user(app, "leaver")
    with app.extensions["disaster_runtime"].sessions() as session:
        token = accounts.issue_token(session, cli_actor(), "leaver")
        session.commit()
    client = sign_in(app.test_client(), "leaver")
    with app.extensions["disaster_runtime"].sessions() as session:
        accounts.set_active(session, cli_actor(), "leaver", False)
        session.commit()
    assert client.get("/").status_code == 302
    assert app.test_client().get("/api/v1/areas",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert post_login(app.test_client(), "leaver", PASSWORD).status_code == 200  # form again


def test_session_cookie_is_httponly_and_samesite(app):
    client = app.test_client()
    response = post_login(client, "duty", PASSWORD)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP unless configured


def test_secure_cookie_flag_is_configurable(backend, tmp_path):
    app, _ = make_app(backend.new_url(), tmp_path, per_side=1, SESSION_COOKIE_SECURE=True)
    try:
        response = post_login(app.test_client(), "duty", PASSWORD)
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        app.extensions["disaster_runtime"].engine.dispose()


def test_next_parameter_never_redirects_off_site(app):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/", data={
        "username": "duty", "password": PASSWORD, "csrf_token": token})
    assert response.location == "/"


def test_chinese_by_default_and_language_switch_persists_in_session(app):
    client = app.test_client()
    assert "登录" in client.get("/login").get_data(as_text=True)
    response = client.get("/language/en?next=/login")
    assert response.status_code == 302 and response.location == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in" in page and "登录" not in page.replace('hreflang="zh-CN">中文', "")
    client.get("/language/zh_CN")
    assert "用户名" in client.get("/login").get_data(as_text=True)
    assert client.get("/language/fr").status_code == 404


def test_admin_creates_and_deactivates_users_through_the_pages(app):
    client = sign_in(app.test_client(), "admin")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    weak = client.post("/admin/users", data={"username": "newbie", "role": "info_officer",
                                             "password": "short", "scopes": "341302001",
                                             "csrf_token": token})
    assert weak.status_code == 422
    assert "字母和数字" in weak.get_data(as_text=True)
    made = client.post("/admin/users", data={"username": "newbie", "role": "info_officer",
                                             "password": "Longenough123", "scopes": "341302001",
                                             "csrf_token": token})
    assert made.status_code == 302
    with app.extensions["disaster_runtime"].sessions() as session:
        user = accounts.get_user(session, "newbie")
        assert [s.code for s in user.scopes] == ["341302001"]
    assert audit_actions(app, "newbie") == ["user.create"]
    audit = client.get("/admin/audit?action=user.").get_data(as_text=True)
    assert "newbie" in audit


def test_an_admin_cannot_deactivate_themself(app):
    client = sign_in(app.test_client(), "admin")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post("/admin/users/admin/deactivate", data={"csrf_token": token})
    assert response.status_code == 422
