"""Security hardening (issue 13 §2): one authentication per request, security headers,
sign-in throttling without lock-out, sessions that end, scope codes that exist, private files
and 503 while the database is away."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from disaster import accounts
from disaster.access import Role, cli_actor
from disaster.errors import DisasterValidationError
from gis.db import make_engine
from tests.web.browser.dataset import PASSWORD, Dataset, csrf_from, load, make_app, sign_in
from web.app import create_app
from web.auth import throttle
from web.config import Settings, load_settings


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")))
    yield app, data
    app.extensions["disaster_runtime"].engine.dispose()


@pytest.fixture
def app(web: tuple[Flask, Dataset]) -> Flask:
    return web[0]


def _sessions(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["disaster_runtime"].sessions()


def add_user(app: Flask, username: str, role: str = "duty_officer", scopes=()) -> None:  # type: ignore[no-untyped-def]
    with _sessions(app) as session:
        accounts.add_user(session, cli_actor(), username, role, PASSWORD, scopes)
        session.commit()


def token_for(app: Flask, username: str) -> str:
    with _sessions(app) as session:
        token = accounts.issue_token(session, cli_actor(), username)
        session.commit()
    return token


def is_active(app: Flask, username: str) -> bool:
    with _sessions(app) as session:
        return accounts.get_user(session, username).active


def post_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


# --- one authentication per request -------------------------------------------------------

def test_junk_bearer_header_does_not_skip_csrf_for_a_signed_in_cookie(app):
    add_user(app, "target_junk")
    admin = sign_in(app.test_client(), "admin")
    # A cross-site form cannot set headers, but a script with a junk header must not win either.
    response = admin.post("/admin/users/target_junk/deactivate",
                          headers={"Authorization": "Bearer junk"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    assert is_active(app, "target_junk")


def test_a_token_request_never_uses_the_session_cookie(app):
    add_user(app, "target_token")
    officer_token = token_for(app, "officer")
    admin = sign_in(app.test_client(), "admin")
    # The admin's cookie is ignored: the request is the officer's, who may not do this.
    response = admin.post("/admin/users/target_token/deactivate",
                          headers={"Authorization": f"Bearer {officer_token}"})
    assert response.status_code == 403
    assert is_active(app, "target_token")
    api = admin.get("/api/v1/areas", headers={"Authorization": "Bearer dt_expired"})
    assert api.status_code == 401


def test_a_valid_token_writes_without_csrf(app):
    add_user(app, "target_ok")
    response = app.test_client().post(
        "/admin/users/target_ok/deactivate",
        headers={"Authorization": f"Bearer {token_for(app, 'admin')}"})
    assert response.status_code == 302
    assert not is_active(app, "target_ok")


# --- security headers ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/api/v1/areas", "/static/css/app.css"])
def test_every_response_carries_the_security_headers(app, path):
    response = app.test_client().get(path)
    headers = response.headers
    response.close()
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "connect-src 'self'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_hsts_is_sent_when_cookies_are_secure(backend, tmp_path):
    app, _ = make_app(backend.new_url(), tmp_path, per_side=1, SESSION_COOKIE_SECURE=True)
    try:
        assert "max-age=" in app.test_client().get("/login").headers["Strict-Transport-Security"]
    finally:
        app.extensions["disaster_runtime"].engine.dispose()


def test_configured_tiles_are_allowed_as_images_only():
    from web.extensions import content_security_policy

    csp = content_security_policy("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY")
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn" in csp
    assert "script-src 'self' 'unsafe-inline';" in csp
    assert "unsafe-eval" not in csp


# --- sign-in throttling ----------------------------------------------------------------------

class _Clock:
    """Moves the limiter's clock forward without sleeping."""

    def __init__(self) -> None:
        import time

        self.offset = 0.0
        self._time = time.time

    def time(self) -> float:
        return self._time() + self.offset

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        import time

        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    import limits.storage.memory

    fake = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(throttle, "time", fake)
    return fake


def test_wrong_passwords_slow_an_account_down_but_never_lock_the_owner_out(app, clock):
    add_user(app, "slowed")
    attacker = app.test_client()
    for _ in range(throttle.FREE_FAILURES + 1):
        assert post_login(attacker, "slowed", "wrong-password-1").status_code == 200
    refused = post_login(attacker, "slowed", PASSWORD)
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= throttle.MAX_DELAY
    # After the delay the owner signs in with the right password (no hard lock).
    clock.offset += throttle.MAX_DELAY + 1
    owner = app.test_client()
    assert post_login(owner, "slowed", PASSWORD).status_code == 302
    with _sessions(app) as session:
        assert accounts.get_user(session, "slowed").locked_until is None


def test_the_delay_grows_with_each_failure(app, clock):
    add_user(app, "growing")
    client = app.test_client()
    waits = []
    for _ in range(throttle.FREE_FAILURES + 4):
        response = post_login(client, "growing", "wrong-password-1")
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            clock.offset += waits[-1] + 0.1
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert max(waits) <= throttle.MAX_DELAY


def test_a_browser_the_owner_signed_in_from_skips_the_account_delay(app, clock):
    add_user(app, "trusted")
    owner = app.test_client()
    assert post_login(owner, "trusted", PASSWORD).status_code == 302
    owner.post("/logout", data={"csrf_token": csrf_from(owner.get("/login").get_data(as_text=True))})
    attacker = app.test_client()
    for _ in range(throttle.FREE_FAILURES + 3):
        post_login(attacker, "trusted", "wrong-password-1")
    assert post_login(attacker, "trusted", PASSWORD).status_code == 429
    assert post_login(owner, "trusted", PASSWORD).status_code == 302


def test_unknown_usernames_are_throttled_like_known_ones(app, clock):
    client = app.test_client()
    statuses = [post_login(client, "no_such_user", "wrong-password-1").status_code
                for _ in range(throttle.FREE_FAILURES + 2)]
    assert statuses[:throttle.FREE_FAILURES] == [200] * throttle.FREE_FAILURES
    assert statuses[-1] == 429


def test_one_client_is_limited_across_usernames(backend, tmp_path, clock):
    settings = Settings(home=tmp_path, database_url=backend.new_url(), secret_key="k",
                        login_rate_limit="3 per minute")
    app = create_app(settings)
    app.config.update(TESTING=True)
    try:
        client = app.test_client()
        statuses = [post_login(client, f"sprayed{i}", "Spring2026pass").status_code
                    for i in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
    finally:
        app.extensions["disaster_runtime"].engine.dispose()


def test_unknown_usernames_cost_one_password_verification_like_known_ones(session, monkeypatch):
    calls: list[str] = []
    real = accounts._hasher

    class Counting:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    accounts.add_user(session, cli_actor(), "known", Role.DUTY_OFFICER, PASSWORD)
    monkeypatch.setattr(accounts, "_hasher", Counting())
    for name in ("known", "unknown"):
        with pytest.raises(accounts.AuthenticationFailed):
            accounts.authenticate(session, name, "wrong-password-1")
    assert len(calls) == 2 and all(h.startswith("$argon2id$") for h in calls)


# --- sessions end at sign-out and password change ---------------------------------------------

def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


def test_a_copied_session_cookie_dies_at_sign_out(app):
    add_user(app, "leaving")
    client = sign_in(app.test_client(), "leaving")
    copy = _cookie(client)
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copy)
    assert replay.get("/").status_code == 302


def test_a_password_change_ends_every_session_and_token(app):
    add_user(app, "changer")
    other_device = sign_in(app.test_client(), "changer")
    api_token = token_for(app, "changer")
    client = sign_in(app.test_client(), "changer")
    page = client.get("/account/password")
    assert "修改密码" in page.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Newer2026pass",
        "confirm": "Newer2026pass", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this browser goes on
    assert other_device.get("/").status_code == 302  # the other session has ended
    assert app.test_client().get("/api/v1/areas", headers={
        "Authorization": f"Bearer {api_token}"}).status_code == 401
    assert post_login(app.test_client(), "changer", "Newer2026pass").status_code == 302


def test_an_administrator_resetting_a_password_ends_the_users_sessions(app):
    add_user(app, "resetme")
    client = sign_in(app.test_client(), "resetme")
    with _sessions(app) as session:
        accounts.add_user(session, cli_actor(), "resetme", "duty_officer", "Reset2026pass",
                          update=True)
        session.commit()
    assert client.get("/").status_code == 302


def test_the_current_password_is_needed_to_change_it(app):
    add_user(app, "forgetful")
    client = sign_in(app.test_client(), "forgetful")
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/password", data={
        "current_password": "not-it-12345", "new_password": "Newer2026pass",
        "confirm": "Newer2026pass", "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert "不正确" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200


# --- scope codes ---------------------------------------------------------------------------------

def test_scope_codes_must_exist_and_fit_the_role(session):
    load(session, per_side=1)
    with pytest.raises(DisasterValidationError) as err:
        accounts.add_user(session, cli_actor(), "ghost", Role.INFO_OFFICER, scopes=["999999"])
    assert "999999" in str(err.value.fields["scopes"][0])
    with pytest.raises(DisasterValidationError) as err:
        accounts.add_user(session, cli_actor(), "mixed", Role.DEPOT_MANAGER,
                          scopes=["341302001"])
    assert "not a depot code" in str(err.value.fields["scopes"][0])
    with pytest.raises(DisasterValidationError):
        accounts.add_user(session, cli_actor(), "boss", Role.DUTY_OFFICER, scopes=["341302"])
    user = accounts.add_user(session, cli_actor(), "fine", Role.INFO_OFFICER,
                             scopes=["341302", "341302001"])
    assert sorted(s.code for s in user.scopes) == ["341302", "341302001"]
    with pytest.raises(DisasterValidationError):  # changing the role re-checks the codes
        accounts.add_user(session, cli_actor(), "fine", Role.DEPOT_MANAGER, update=True)


def test_cli_refuses_a_scope_code_that_does_not_exist(database_url, tmp_path):
    env = dict(os.environ, DISASTER_HOME=str(tmp_path), DISASTER_DATABASE_URL=database_url,
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    result = subprocess.run(
        [sys.executable, "-c", "from web.cli import run; run()", "users", "add", "ghost",
         "--role", "info_officer", "--scope", "999999"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "999999" in result.stderr and "scopes" in result.stderr


def test_admin_page_names_the_scope_field_in_chinese(app):
    client = sign_in(app.test_client(), "admin")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post("/admin/users", data={
        "username": "badscope", "role": "depot_manager", "password": "Longenough123",
        "scopes": "341302001", "csrf_token": token})
    assert response.status_code == 422
    assert "341302001 不是仓库代码" in response.get_data(as_text=True)


# --- private files ---------------------------------------------------------------------------

def test_instance_folder_secret_key_and_database_are_private(tmp_path, monkeypatch):
    home = tmp_path / "instance"
    monkeypatch.setenv("DISASTER_HOME", str(home))
    monkeypatch.delenv("DISASTER_DATABASE_URL", raising=False)
    monkeypatch.delenv("DISASTER_SECRET_KEY", raising=False)
    os.umask(old := os.umask(0o022))  # the usual umask, which would give 0755/0644
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "disaster.sqlite").stat().st_mode) == 0o600
    assert old is not None


# --- database unreachable ----------------------------------------------------------------------

def test_requests_answer_503_while_the_database_is_unreachable(backend_name, database_url,
                                                                tmp_path):
    if backend_name == "postgis":
        # Nothing listens on port 1: every connection attempt is refused.
        url = "postgresql+psycopg://postgres@127.0.0.1:1/postgres?connect_timeout=2"
    else:
        url = f"sqlite:///{tmp_path / 'gone.sqlite'}"
    app = create_app(Settings(home=tmp_path, database_url=url, secret_key="k"))
    app.config.update(TESTING=True)
    if backend_name == "spatialite":
        # The file turns into something SQLite cannot open (as root, chmod would not stop it).
        app.extensions["disaster_runtime"].engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp_path / 'gone.sqlite'}{suffix}").unlink(missing_ok=True)
        (tmp_path / "gone.sqlite").mkdir()
    client = app.test_client()
    api = client.get("/api/v1/areas", headers={"Authorization": "Bearer dt_whatever"})
    assert api.status_code == 503
    assert api.headers["Retry-After"].isdigit()
    assert api.get_json()["error"]["code"] == "unavailable"
    page = post_login(client, "duty", PASSWORD)
    assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
    app.extensions["disaster_runtime"].engine.dispose()


def test_failed_statements_still_answer_500_not_503(app):
    from sqlalchemy.exc import OperationalError

    from web.errors import database_unavailable

    sqlite_bug = OperationalError("SELECT nope", {}, Exception("no such table: nope"))
    assert not database_unavailable(sqlite_bug)
    sqlite_gone = OperationalError("SELECT 1", {}, Exception("unable to open database file"))
    assert database_unavailable(sqlite_gone)


def test_audit_keeps_failed_sign_ins_of_unknown_users(app):
    post_login(app.test_client(), "who_is_this", "wrong-password-1")
    from disaster.audit import AuditEntry

    with _sessions(app) as session:
        actions = list(session.scalars(select(AuditEntry.action)
                                       .where(AuditEntry.entity_id == "who_is_this")))
    assert actions == ["auth.login_failed"]


def test_admin_changes_a_users_scope_only_to_codes_that_exist(app):
    add_user(app, "movable", "info_officer", ["341302001"])
    client = sign_in(app.test_client(), "admin")
    page = client.get("/admin/users/movable/edit").get_data(as_text=True)
    assert 'value="341302001"' in page
    form = {"username": "movable", "role": "info_officer", "csrf_token": csrf_from(page)}
    refused = client.post("/admin/users/movable/edit", data=form | {"scopes": "341302999"})
    assert refused.status_code == 422
    assert "341302999 不是已有的村（社区）、乡镇或县区代码" in refused.get_data(as_text=True)
    assert client.post("/admin/users/movable/edit",
                       data=form | {"scopes": "341322"}).status_code == 302
    with _sessions(app) as session:
        assert [s.code for s in accounts.get_user(session, "movable").scopes] == ["341322"]
    # Emptying the field of a duty officer removes the codes instead of keeping them.
    assert client.post("/admin/users/movable/edit", data=form | {
        "role": "duty_officer", "scopes": ""}).status_code == 302
    with _sessions(app) as session:
        assert accounts.get_user(session, "movable").scopes == []


def test_a_nul_byte_in_the_sign_in_form_is_refused_not_a_server_error(app):
    response = post_login(app.test_client(), "duty\x00", PASSWORD)
    assert response.status_code == 422
    assert "NUL" in response.get_data(as_text=True)
