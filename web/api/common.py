"""Helpers every API module uses: authentication guard, JSON body, acting user, session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask_login import current_user

from disaster.access import Actor
from gis.errors import ValidationError
from gis.messages import msg
from gis.schema import validate
from web.db import get_session
from web.errors import error_body, http_message
from web.extensions import current_actor

__all__ = ["actor", "api_blueprint", "api_doc", "json_body", "query", "query_limit", "session"]

S = TypeVar("S")
F = TypeVar("F", bound=Callable[..., Any])


def api_blueprint(name: str) -> Blueprint:
    """A blueprint under ``/api/v1`` whose every endpoint needs a signed-in user (401 otherwise)."""
    bp = Blueprint(f"api_{name}", __name__, url_prefix="/api/v1")

    @bp.before_request
    def _require_login():  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            return jsonify(error_body(401, "unauthenticated", str(http_message(401)))), 401
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
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        bound = f"1 to {maximum}" if maximum is not None else "a positive integer"
        raise ValidationError(f"limit must be {bound}", fields={"limit": [f"expected {bound}"]})
    return int(raw)


def json_body(schema: type[S] | None = None, *, optional: bool = False) -> Any:
    """The request's JSON object checked against ``schema`` (a :class:`gis.schema.Schema`).

    Without a schema, the plain dict. Anything but a JSON object, or a body that breaks the
    schema, is a 422 naming each field; ``optional``: an empty body counts as ``{}``.
    """
    if optional and not request.get_data(cache=True).strip():
        return {} if schema is None else validate(schema, {})  # type: ignore[type-var]
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested beyond the parser's depth
        data = None
    if not isinstance(data, dict):
        raise ValidationError(msg("request body must be a JSON object"),
                              fields={"body": [msg("expected a JSON object")]},
                              field_codes={"body": ["type"]})
    return data if schema is None else validate(schema, data)  # type: ignore[type-var]


def query(schema: type[S]) -> S:
    """The query string checked against ``schema``; 422 naming each parameter otherwise."""
    return validate(schema, request.args.to_dict())  # type: ignore[type-var]


def api_doc(*, body: type | None = None, response: Any = None, query: type | None = None,
            status: int = 200, responses: dict[int, Any] | None = None,
            body_required: bool = True) -> Callable[[F], F]:
    """Declare a view's request ``body`` schema, ``query`` schema and success ``response``
    schema (a pydantic model, or a type such as ``list[Model]``) for the OpenAPI document.

    ``status`` is the success status; ``responses`` adds other documented statuses
    (status → description, or → ``(description, schema)`` for another success), e.g.
    ``{404: "no such depot", 409: "beyond stock"}``. ``body_required=False``: the body may
    be left out (then read it with ``json_body(Model, optional=True)``).
    """
    def mark(view: F) -> F:
        view._api_doc = {"body": body, "response": response, "query": query,  # type: ignore[attr-defined]
                         "status": status, "responses": dict(responses or {}),
                         "body_required": body_required}
        return view
    return mark
