"""Sign-in (throttled), sign-out, the password change and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from disaster import accounts
from disaster.access import Role
from disaster.errors import AuthenticationFailed
from gis.errors import AppError
from web.auth import throttle
from web.auth.forms import LoginForm, PasswordForm
from web.db import get_session
from web.errors import translate
from web.extensions import LANGUAGES, SESSION_VERSION_KEY, LoginUser, current_actor

bp = Blueprint("auth", __name__)

# Where each role starts after signing in: its own page (phones for officers and depots).
LANDING = {Role.INFO_OFFICER: "officer.index", Role.DEPOT_MANAGER: "depot.index",
           Role.ADMIN: "admin.index", Role.DUTY_OFFICER: "console.index"}


def _safe_next(target: str | None, default: str | None = None) -> str:
    """Only same-site relative targets (no open redirect to another host)."""
    fallback = default or url_for("console.index")
    if not target:
        return fallback
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target):
        return fallback
    return target


def landing_page(role: Role) -> str:
    """The page ``role`` starts on (the console when this build lacks the role's page)."""
    endpoint = LANDING.get(role, "console.index")
    if endpoint not in current_app.view_functions:
        endpoint = "console.index"
    return url_for(endpoint)


def _start_session(user: accounts.User) -> None:
    session.clear()  # a fresh session on sign-in (no session fixation)
    if user.language in LANGUAGES:
        session["lang"] = user.language
    login_user(LoginUser(user))
    session[SESSION_VERSION_KEY] = user.session_version


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """The sign-in form; every attempt is audited by :func:`disaster.accounts.authenticate`."""
    form = LoginForm()
    error = None
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        username = form.username.data.strip()
        wait = throttle.wait_seconds(username)
        if wait:
            error = _("Too many failed sign-ins. Wait %(seconds)d seconds and try again.",
                      seconds=wait)
            status, headers = 429, {"Retry-After": str(wait)}
        else:
            db = get_session()
            try:
                user = accounts.authenticate(db, username, form.password.data)
            except AuthenticationFailed as exc:
                throttle.failed(username)
                error = translate(exc.message)
                # The audit entry must persist although sign-in failed.
                db.commit()
            else:
                throttle.succeeded(username)
                _start_session(user)
                target = _safe_next(request.args.get("next"), landing_page(user.role))
                response = make_response(redirect(target))
                throttle.remember_device(response, username)
                return response
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render_template("auth/login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Sign out (POST with the CSRF token): this session and any copy of its cookie end."""
    lang = session.get("lang")
    if current_user.is_authenticated and not current_user.via_token:
        accounts.end_sessions(get_session(), current_user.user.id)
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():  # type: ignore[no-untyped-def]
    """Change one's own password; every other session and every API token of the user end."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            user = accounts.change_password(db, current_actor(), current_user.user.username,
                                            form.new_password.data, form.current_password.data)
        except AppError as exc:
            for name, messages in exc.fields.items():
                field = getattr(form, "new_password" if name == "password" else name, None)
                if field is not None:
                    field.errors = list(field.errors) + [translate(m) for m in messages]
            status = exc.status
        else:
            _start_session(user)  # this browser goes on under the new version
            flash(_("Your password has been changed. Other sessions and API tokens have ended."),
                  "success")
            return redirect(landing_page(user.role))
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form), status


@bp.get("/language/<code>")
def language(code: str):  # type: ignore[no-untyped-def]
    """Switch the interface language; kept in the session."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
