"""``create_app(config)``: the Flask application; nothing is created at import time."""

from __future__ import annotations

from typing import Any

from flask import Flask

from web.config import Settings, load_settings
from web.plugins import import_present
from web.runtime import Runtime, build_runtime

# Blueprint modules; each exposes ``bp``. A module not yet present is skipped.
BLUEPRINT_MODULES = [
    "web.auth.views",
    "web.console.views",
    "web.api.core",
    "web.api.openapi",
    "web.api.alerts",
    "web.api.impact",
    "web.alerts_pages.views",
    "web.api.reports",
    "web.api.report_review",
    "web.api.stock",
    "web.api.dispatch",
    "web.api.shelters",
    "web.api.evacuation_orders",
    "web.evacuation.views",
    "web.api.assessment",
    "web.sitrep.views",
    "web.officer.views",
    "web.depot.views",
    "web.inbox.views",
    "web.admin.views",
    "web.ogc.views",
]


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Parameters
    ----------
    config
        :class:`web.config.Settings`, or a dict of Flask config overrides (``DATABASE_URL``
        selects the database), or ``None`` to read the environment.
    """
    overrides: dict[str, Any] = {}
    if isinstance(config, Settings):
        settings = config
    else:
        overrides = dict(config or {})
        settings = load_settings(overrides.pop("DATABASE_URL", None))
    app = Flask(__name__, instance_path=str(settings.home), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in web.extensions, skipped for bearer tokens
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        DISASTER_SETTINGS=settings,
    )
    app.config.update(overrides)
    runtime: Runtime = app.config.get("DISASTER_RUNTIME") or build_runtime(settings)
    app.extensions["disaster_runtime"] = runtime

    from web import db, errors, extensions, hardening, i18n

    db.init_app(app)
    # Before the login/CSRF hooks (a NUL byte in a token must never reach a query) and
    # before the blueprints (their <int:…> rules take the bounded converter).
    hardening.init_app(app)
    i18n.init_app(app)  # sets the catalog directories Flask-Babel reads in extensions.init_app
    extensions.init_app(app)
    errors.init_app(app)
    for module in import_present(BLUEPRINT_MODULES):
        app.register_blueprint(module.bp)
    return app
