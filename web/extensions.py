"""Flask extensions: Login, CSRF, Babel, security headers; the acting user of a request.

A request is authenticated one way only: with ``Authorization: Bearer TOKEN`` it is a token
request (the session cookie is not looked at, CSRF does not apply, a bad token is 401);
without it, the session cookie decides and every write needs the CSRF token.
"""

from __future__ import annotations

import gzip
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request, session
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
    ("admin.index", _l("Administration"), {"admin"}),
    ("admin.users", _l("Users"), {"admin"}),
    ("admin.audit", _l("Audit log"), {"admin"}),
    ("auth.password", _l("Change password"), None),
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


# Accounts that are not people: the scheduler's jobs and the command line.
SYSTEM_ACTORS = {"system": _l("system"), "cli": _l("command line (administrator)"),
                 "scheduler": _l("scheduler")}


def actor_name(name: str | None) -> str:
    """Who did something, as people read it (the system accounts by what they are)."""
    known = SYSTEM_ACTORS.get(name or "")
    return str(known) if known is not None else (name or "")


def _select_locale() -> str:
    lang = request.args.get("lang") or session.get("lang")
    if lang in LANGUAGES:
        return lang
    # Only a user already loaded: loading one here would query the database, which may be
    # what failed (the 503 page still needs a language).
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and user.user.language in LANGUAGES:
        return user.user.language
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


# The session key holding the user's session version at sign-in (see accounts.User).
SESSION_VERSION_KEY = "_sv"


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header ("" for a header without one)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()


def content_security_policy(tile_url: str | None = None) -> str:
    """The CSP of every response: only this site's own scripts, styles, images and data.

    ``'unsafe-inline'`` for scripts: folium writes the map as inline scripts, and several
    pages bootstrap their data inline; every user text on them is escaped (Jinja, folium's
    JSON, ``textContent`` in the console), and the policy still refuses scripts, frames,
    forms and connections to any other site. Styles: Leaflet and folium set inline styles.
    """
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url)
        # {s}/{z}… placeholders: t{s}.tianditu.gov.cn becomes *.tianditu.gov.cn.
        host = ".".join("*" if "{" in label else label for label in parts.netloc.split("."))
        if parts.scheme and host:
            images.append(f"{parts.scheme}://{host}")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src " + " ".join(images),
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _security_headers(response: Response) -> Response:
    settings = current_app.config.get("DISASTER_SETTINGS")
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(
        getattr(settings, "tile_url", None)))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    from web.db import get_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to access this page.")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Shanghai")
    app.jinja_env.globals.update(current_locale=current_locale, nav_links=nav_links)
    app.jinja_env.filters["actor_name"] = actor_name
    app.after_request(_gzip)
    app.after_request(_security_headers)
    from web.auth import throttle

    throttle.init_app(app)
    proxies = getattr(app.config.get("DISASTER_SETTINGS"), "trusted_proxies", 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @login_manager.user_loader
    def _load(user_id: str) -> LoginUser | None:
        if bearer_token() is not None:
            return None  # a token request: the session cookie is not used at all
        user = get_session().get(accounts.User, int(user_id))
        if user is None or not user.active:
            return None
        # Signed out, or the password changed since this session signed in: it has ended.
        # (A session from before versions existed counts as version 0, the column's start.)
        if session.get(SESSION_VERSION_KEY, 0) != user.session_version:
            return None
        return LoginUser(user)

    @login_manager.request_loader
    def _from_token(req) -> LoginUser | None:  # type: ignore[no-untyped-def]
        token = bearer_token()
        if token:
            user = accounts.user_for_token(get_session(), token)
            if user is not None:
                return LoginUser(user, via_token=True)
        return None

    @app.before_request
    def _one_authentication():  # type: ignore[no-untyped-def]
        # Refuse an oversized body up front (413), whichever view would have read it.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            abort(413)
        if bearer_token() is not None:
            # Token requests carry no ambient credential, so there is no CSRF to fear; a
            # token that is not valid is refused outright, never replaced by the cookie.
            if not current_user.is_authenticated:
                from flask import jsonify

                from web.errors import error_body, http_message

                body = error_body(401, "unauthenticated", http_message(401))
                return jsonify(body), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return None
        # Every cookie-authenticated write must carry the CSRF token (form or X-CSRFToken).
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return None
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return None  # the API guard answers 401; no session means nothing to forge
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return None


def current_actor() -> Actor:
    """The :class:`Actor` of the signed-in user (call only behind authentication)."""
    return current_user.actor()
