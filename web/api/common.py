"""Helpers every API module uses: authentication guard, JSON body, acting user, session."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from disaster.access import Actor
from gis.errors import ValidationError
from web.db import get_session
from web.errors import error_body
from web.extensions import current_actor

__all__ = ["actor", "api_blueprint", "json_body", "query_limit", "session"]


def api_blueprint(name: str) -> Blueprint:
    """A blueprint under ``/api/v1`` whose every endpoint needs a signed-in user (401 otherwise)."""
    bp = Blueprint(f"api_{name}", __name__, url_prefix="/api/v1")

    @bp.before_request
    def _require_login():  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            return jsonify(error_body(401, "unauthenticated", "sign in or send a bearer token")), 401
        return None

    return bp


def actor() -> Actor:
    return current_actor()


def session():  # type: ignore[no-untyped-def]
    return get_session()


def query_limit(default: int | None, maximum: int | None = None) -> int | None:
    """The ``limit`` query parameter (1 to ``maximum``), ``default`` when absent; 422 otherwise."""
    raw = request.args.get("limit")
    if raw in (None, ""):
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        bound = f"1 to {maximum}" if maximum is not None else "a positive integer"
        raise ValidationError(f"limit must be {bound}", fields={"limit": [f"expected {bound}"]})
    return int(raw)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 naming the body."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object",
                              fields={"body": ["expected a JSON object"]})
    return data
