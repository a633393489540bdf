"""One place that turns domain errors into responses: JSON for the API, pages for HTML."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gis.errors import AppError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_body(status: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):  # type: ignore[no-untyped-def]
        log.info("refused %s %s: %s", request.method, request.path, exc)
        if wants_json():
            return jsonify(exc.to_dict()), exc.status
        return _page(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(error_body(400, "csrf", exc.description)), 400
        return _page(400, exc.description)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = (exc.name or "error").lower().replace(" ", "_")
        if wants_json():
            return jsonify(error_body(exc.code or 500, code, exc.description or "")), exc.code
        return _page(exc.code or 500, exc.description or exc.name)


def _page(status: int, message: str):  # type: ignore[no-untyped-def]
    try:
        return render_template("error.html", status=status, message=message), status
    except Exception:  # noqa: BLE001 - the template may not exist yet; never fail an error page
        from markupsafe import escape

        return f"<h1>{status}</h1><p>{escape(message)}</p>", status
