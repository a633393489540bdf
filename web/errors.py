"""One place that turns domain errors into responses: JSON for the API, pages for HTML.

Messages are translated here, once, into the request's language: a domain error's message
and field messages are English catalogue keys (:mod:`gis.messages`); the JSON keeps the
stable machine ``code`` and the field names so pages and scripts need not parse text.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from gis.errors import AppError
from gis.messages import translate as translate_text

log = logging.getLogger(__name__)

# Werkzeug's English descriptions are replaced by these, per status, for people to read.
HTTP_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in, or send a valid API token."),
    403: _l("You are not allowed to do this."),
    404: _l("Nothing was found at this address."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with the current state; reload and try again."),
    413: _l("The upload is too large."),
    415: _l("This content type is not supported."),
    422: _l("Some of the input is not valid."),
    429: _l("Too many attempts; please wait a moment and try again."),
    500: _l("Something went wrong on the server; the error has been logged."),
    503: _l("The service is temporarily unavailable; please try again shortly."),
}


def translate(text: str) -> str:
    """``text`` (a :class:`gis.messages.Message` or a catalogue key) in the request language."""
    return translate_text(text, gettext)


def translate_fields(fields: dict | None) -> dict[str, list[str]]:
    """Field → messages, each message translated."""
    return {str(k): [translate(m) for m in (v if isinstance(v, list | tuple) else [v])]
            for k, v in (fields or {}).items()}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_body(status: int, code: str, message: str, fields: dict | None = None,
               field_codes: dict | None = None) -> dict:
    """The JSON error document of CONTRACT.md, message and field messages translated.

    ``field_codes`` (field → stable machine codes) is added when known, so a page or a
    script can react to a field's problem without reading the text.
    """
    body = {"code": code, "message": translate(message), "fields": translate_fields(fields)}
    if field_codes:
        body["field_codes"] = field_codes
    return {"error": body}


def http_message(status: int, fallback: str = "") -> str:
    """The translated text people read for an HTTP status."""
    known = HTTP_MESSAGES.get(status)
    return str(known) if known is not None else translate(fallback)


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):  # type: ignore[no-untyped-def]
        log.info("refused %s %s: %s", request.method, request.path, exc)
        if wants_json():
            return jsonify(error_body(exc.status, exc.code, exc.message, exc.fields,
                                      exc.field_codes)), exc.status
        return _page(exc.status, translate(exc.message))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(exc: DBAPIError):  # type: ignore[no-untyped-def]
        if not database_unavailable(exc):
            raise exc
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exc.orig)
        retry = str(getattr(app.config.get("DISASTER_SETTINGS"), "retry_after_seconds", 10))
        message = http_message(503)
        if wants_json():
            response = jsonify({"error": {"code": "unavailable", "message": message, "fields": {}}})
        else:
            response = app.make_response(_page(503, message))
        response.status_code = 503
        response.headers["Retry-After"] = retry
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        message = gettext("The form has expired or did not come from this site; "
                          "reload the page and try again.")
        if wants_json():
            return jsonify({"error": {"code": "csrf", "message": message, "fields": {}}}), 400
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        message = http_message(status, exc.description or exc.name or "")
        if wants_json():
            response = jsonify({"error": {"code": code, "message": message, "fields": {}}})
        else:
            response = _page(status, message)[0]
            if not hasattr(response, "headers"):
                response = app.make_response(response)
        # Keep what werkzeug set for this status (Allow on 405, WWW-Authenticate on 401).
        for key, value in exc.get_headers():
            if key.lower() != "content-type":
                response.headers[key] = value
        return response, status


# SQLite errors that mean the file cannot be used now (not a bug in a statement).
_SQLITE_UNAVAILABLE = ("unable to open", "database is locked", "disk i/o error", "readonly",
                       "not a database", "authorization denied", "no such file")


def database_unavailable(exc: DBAPIError) -> bool:
    """True for a failure to reach or use the database (answer 503), not a faulty statement."""
    if isinstance(exc, InterfaceError) or exc.connection_invalidated:
        return True
    if exc.orig is not None and type(exc.orig).__module__.startswith("psycopg"):
        # psycopg's OperationalError is the server being away, shutting down or refusing;
        # faulty SQL raises ProgrammingError or a DataError instead.
        return True
    text = str(exc.orig).lower()
    return any(part in text for part in _SQLITE_UNAVAILABLE)


def _page(status: int, message: str):  # type: ignore[no-untyped-def]
    try:
        return render_template("error.html", status=status, message=message), status
    except Exception:  # noqa: BLE001 - the template may not exist yet; never fail an error page
        from markupsafe import escape

        return f"<h1>{status}</h1><p>{escape(message)}</p>", status
