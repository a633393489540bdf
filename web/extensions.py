"""Flask extensions: Login, CSRF, Babel; the acting user of a request."""

from __future__ import annotations

import gzip

from flask import Flask, Response, abort, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from disaster import accounts
from disaster.access import Actor

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("zh_CN", "en")

# Navigation entries: (endpoint, label, roles allowed or None for everyone). An endpoint not
# registered in this build is left out, so other areas may list theirs before they exist.
NAV_LINKS = [
    ("officer.index", _l("My communities"), {"info_officer", "duty_officer", "admin"}),
    ("depot.index", _l("Depot"), {"depot_manager", "duty_officer", "admin"}),
    ("sitrep.index", _l("Situation reports"), None),
    ("sitrep.indicators", _l("Plan indicators"), None),
    ("sitrep.parameters", _l("Assessment parameters"), {"admin"}),
    ("admin.users", _l("Users"), {"admin"}),
    ("admin.audit", _l("Audit log"), {"admin"}),
]
# Responses worth compressing (GeoJSON layers shrink five- to tenfold).
_COMPRESSIBLE = ("application/json", "application/geo+json", "text/html", "text/css",
                 "application/javascript", "text/javascript", "application/xml",
                 "application/atom+xml")


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
    if current_user and current_user.is_authenticated and current_user.user.language in LANGUAGES:
        return current_user.user.language
    return "zh_CN"


def current_locale() -> str:
    """``zh_CN`` or ``en``: the language of this request."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_CN"


def nav_links() -> list[tuple[str, str]]:
    """Navigation entries the signed-in user may see and this build has."""
    from flask import current_app

    if not current_user.is_authenticated:
        return []
    role = current_user.user.role.value
    return [(endpoint, str(label)) for endpoint, label, roles in NAV_LINKS
            if endpoint in current_app.view_functions and (roles is None or role in roles)]


def _gzip(response: Response) -> Response:
    """Compress sizeable text responses for clients that accept gzip (waitress does not)."""
    if (response.direct_passthrough or response.status_code != 200
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or response.headers.get("Content-Encoding")
            or response.mimetype not in _COMPRESSIBLE):
        return response
    data = response.get_data()
    if len(data) < 1024:
        return response
    response.set_data(gzip.compress(data, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    from web.db import get_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to access this page.")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Shanghai")
    app.jinja_env.globals.update(current_locale=current_locale, nav_links=nav_links)
    app.after_request(_gzip)

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
        # Refuse an oversized body up front (413), whichever view would have read it.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            abort(413)
        # Bearer-token clients send no ambient cookie, so there is no CSRF to fear; every
        # cookie-authenticated write must carry the token (form field or X-CSRFToken header).
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return  # the API guard answers 401; no session means nothing to forge
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()


def current_actor() -> Actor:
    """The :class:`Actor` of the signed-in user (call only behind authentication)."""
    return current_user.actor()
