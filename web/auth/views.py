"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from disaster import accounts
from disaster.errors import AccountLocked, AuthenticationFailed
from web.auth.forms import LoginForm
from web.db import get_session
from web.extensions import LANGUAGES, LoginUser

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative targets (no open redirect to another host)."""
    if not target:
        return url_for("console.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("console.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """The sign-in form; every attempt is audited by :func:`disaster.accounts.authenticate`."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            user = accounts.authenticate(db, form.username.data.strip(), form.password.data)
        except AccountLocked:
            error = _("This account is locked after repeated failed sign-ins. "
                      "Try again in 15 minutes or ask an administrator.")
        except AuthenticationFailed:
            error = _("Wrong username or password.")
        else:
            session.clear()  # a fresh session on sign-in (no session fixation)
            if user.language in LANGUAGES:
                session["lang"] = user.language
            login_user(LoginUser(user))
            return redirect(_safe_next(request.args.get("next")))
        # The failure count and the audit entry must persist although sign-in failed.
        db.commit()
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render_template("auth/login.html", form=form, error=error), 200


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Sign out (POST with the CSRF token, so no other site can sign a user out)."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.get("/language/<code>")
def language(code: str):  # type: ignore[no-untyped-def]
    """Switch the interface language; kept in the session."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))
