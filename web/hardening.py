"""Request guards every route shares: ids every backend stores, no NUL bytes, bounded JSON.

These are the backstop beside the declared schemas (:mod:`gis.schema`): whatever a view or
a form forgets, a request whose path id exceeds the id columns (INTEGER), whose text holds a NUL byte (which
PostgreSQL cannot store or compare) or whose JSON is nested beyond the parser's depth is
answered 4xx naming the offending part, never 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter, RequestRedirect

from gis.errors import NotFound, ValidationError
from gis.messages import msg
from gis.schema import INT32_MAX

__all__ = ["IdConverter", "init_app"]

# Deeper JSON is no request any client of this API sends; refusing it early also keeps the
# walk below (and every view's recursion over the body) far from Python's recursion limit.
MAX_JSON_DEPTH = 64


class IdConverter(IntegerConverter):
    """``<int:…>`` for ASCII digits only (``\\d`` also matches other scripts' digits).

    The value is not bounded here: a rule that does not match would answer a bare 404, and
    :func:`_guard` names the parameter when it is beyond what the id columns store (every
    primary key is an INTEGER: 32 bits on PostgreSQL, whose driver fails on a larger one).
    """

    regex = r"[0-9]+"


class NotFoundField(NotFound):
    """A path id that no row can have."""


def _too_deep(where: str) -> ValidationError:
    return ValidationError(msg("request body is nested too deeply"),
                           fields={where: [msg("nested too deeply")]},
                           field_codes={where: ["too_deep"]})


def _nul_paths(value: Any, where: str, depth: int = 0) -> Iterator[str]:
    """Dotted paths of the strings (keys too) in a JSON value that hold a NUL byte."""
    if depth > MAX_JSON_DEPTH:
        raise _too_deep("body")
    if isinstance(value, str):
        if "\x00" in value:
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where != "body" else str(key)
            if "\x00" in key:
                yield name.replace("\x00", "\\0")
            else:
                yield from _nul_paths(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{where}[{index}]", depth + 1)


def _refuse_nul(names: list[str]) -> None:
    if names:
        message = msg("must not contain NUL characters")
        raise ValidationError(msg("%(field)s: %(problem)s", field=names[0], problem=message),
                              fields={n: [message] for n in names},
                              field_codes={n: ["nul"] for n in names})


def _guard() -> None:
    """Refuse out-of-range path ids, NUL bytes anywhere and over-deep JSON before any view."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)  # whatever the route: the body is refused unread
    if request.routing_exception is not None and \
            not isinstance(request.routing_exception, RequestRedirect):
        # No route (404) or not this method (405 with Allow): answer that before the CSRF
        # and login hooks, which would otherwise turn a PUT /login into a bare 400.
        raise request.routing_exception
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and value > INT32_MAX:
            raise NotFoundField(msg("no such %(field)s", field=name),
                                fields={name: [msg("no such id")]},
                                field_codes={name: ["not_found"]})
    if "\x00" in request.path:
        _refuse_nul(["path"])
    _refuse_nul([k.replace("\x00", "\\0") for k, v in request.args.items(multi=True)
                 if "\x00" in k or "\x00" in v])
    _refuse_nul([f"header {k}" for k, v in request.headers.items() if "\x00" in v])
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _refuse_nul([k.replace("\x00", "\\0") for k, v in request.form.items(multi=True)
                     if "\x00" in k or "\x00" in v])
        # Form parts holding JSON (the phone's multipart report, its location) are parsed
        # by the views: refuse what would overflow the parser first.
        for key, text in request.form.items(multi=True):
            if text.lstrip().startswith(("{", "[")):
                _check_json_text(text, key)
    elif request.is_json and request.content_length != 0:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # Python's parser gives up long before 100,000 levels
            raise _too_deep("body") from None
        _refuse_nul(list(_nul_paths(data, "body")))


def _check_json_text(text: str, where: str) -> None:
    import json

    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(where) from None
    except ValueError:
        return  # the view names the part that is not JSON
    _refuse_nul(list(_nul_paths(data, where)))


def init_app(app: Flask) -> None:
    """Install the bounded ``int`` converter and the guard; call before blueprints register."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_guard)
