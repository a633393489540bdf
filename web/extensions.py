"""Flask extensions: Login, CSRF, Babel; the acting user of a request."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from disaster import accounts
from disaster.access import Actor

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("zh_CN", "en")


class LoginUser:
    """The Flask-Login wrapper of :class:`disaster.accounts.User`."""

    def __init__(self, user: accounts.User, via_token: bool = False) -> None:
        self.user = user
        self.via_token = via_token

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.user.id)

    def actor(self) -> Actor:
        return self.user.actor("api" if self.via_token else "web")


def _select_locale() -> str:
    lang = request.args.get("lang") or session.get("lang")
    if lang in LANGUAGES:
        return lang
    return "zh_CN"


def init_app(app: Flask) -> None:
    from web.db import get_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Shanghai")

    @login_manager.user_loader
    def _load(user_id: str) -> LoginUser | None:
        user = get_session().get(accounts.User, int(user_id))
        return LoginUser(user) if user is not None and user.active else None

    @login_manager.request_loader
    def _from_token(req) -> LoginUser | None:  # type: ignore[no-untyped-def]
        header = req.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = accounts.user_for_token(get_session(), header[7:].strip())
            if user is not None:
                return LoginUser(user, via_token=True)
        return None

    @app.before_request
    def _csrf_unless_bearer() -> None:
        # Bearer-token clients send no ambient cookie, so there is no CSRF to fear; every
        # cookie-authenticated write must carry the token (form field or X-CSRFToken header).
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()


def current_actor() -> Actor:
    """The :class:`Actor` of the signed-in user (call only behind authentication)."""
    return current_user.actor()
