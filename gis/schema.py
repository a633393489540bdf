"""One declared schema per request body, import row and CLI input (pydantic v2).

A schema is a :class:`Schema` subclass in the domain package that owns the record
(``disaster/schemas.py``, ``stockpile/schemas.py``, ``shelters/schemas.py``…). The API
(``web.api.common.json_body``), the importers and the CLI all call :func:`validate` or
:func:`validate_rows`, which turn pydantic's errors into a :class:`gis.errors.ValidationError`
whose ``fields`` map each field (or ``row N: field``) to translatable messages and whose
``field_codes`` map it to stable machine codes (``required``, ``too_long``, ``too_large``…).
The OpenAPI document is generated from the same classes.

Building blocks: :data:`Text` types refuse NUL bytes and bound the length to the column's;
:func:`text` makes one of a given length; :data:`Int64` bounds integers to what every
backend stores; custom validators raise ``ValueError(msg("..."))`` so the message is
translatable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from gis.errors import ValidationError
from gis.messages import Choices, Message, msg

__all__ = ["Id", "Int64", "Schema", "Text", "error_fields", "no_nul", "text", "validate",
           "validate_rows"]

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

S = TypeVar("S", bound=BaseModel)


def no_nul(value: str) -> str:
    """Refuse NUL bytes: PostgreSQL cannot store them and no person types one."""
    if "\x00" in value:
        raise ValueError(msg("must not contain NUL characters"))
    return value


def text(max_length: int, min_length: int = 0) -> Any:
    """A string type of at most ``max_length`` characters without NUL bytes."""
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length),
                     AfterValidator(no_nul)]


Text = text(10_000)
# Ids and counts every backend stores (SQLite and PostgreSQL bigint).
Int64 = Annotated[int, Field(ge=-INT64_MAX, le=INT64_MAX)]
# Row ids: every primary key is an INTEGER column (32 bits on PostgreSQL).
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]


class Schema(BaseModel):
    """Base of every declared schema: unknown keys are ignored, strings are stripped."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True,
                              validate_default=False, populate_by_name=True)


# pydantic error type → (our stable code, translatable template using the error's ctx).
_CODES: dict[str, tuple[str, str]] = {
    "missing": ("required", "required"),
    "string_type": ("type", "must be text"),
    "string_too_long": ("too_long", "at most %(max_length)s characters"),
    "string_too_short": ("too_short", "at least %(min_length)s characters"),
    "string_pattern_mismatch": ("format", "has the wrong format"),
    "int_type": ("type", "must be a whole number"),
    "int_parsing": ("type", "must be a whole number"),
    "int_from_float": ("type", "must be a whole number"),
    "float_type": ("type", "must be a number"),
    "float_parsing": ("type", "must be a number"),
    "finite_number": ("type", "must be a finite number"),
    "decimal_parsing": ("type", "must be a number"),
    "bool_type": ("type", "must be yes or no"),
    "bool_parsing": ("type", "must be yes or no"),
    "greater_than": ("too_small", "must be greater than %(gt)s"),
    "greater_than_equal": ("too_small", "must be at least %(ge)s"),
    "less_than": ("too_large", "must be less than %(lt)s"),
    "less_than_equal": ("too_large", "must be at most %(le)s"),
    "literal_error": ("choice", "must be one of %(expected)s"),
    "enum": ("choice", "must be one of %(expected)s"),
    "list_type": ("type", "must be a list"),
    "dict_type": ("type", "expected a JSON object"),
    "model_type": ("type", "expected a JSON object"),
    "model_attributes_type": ("type", "expected a JSON object"),
    "too_long": ("too_long", "at most %(max_length)s items"),
    "too_short": ("too_short", "at least %(min_length)s items"),
    "datetime_type": ("type", "must be a date and time (ISO 8601)"),
    "datetime_parsing": ("type", "must be a date and time (ISO 8601)"),
    "datetime_from_date_parsing": ("type", "must be a date and time (ISO 8601)"),
    "timezone_aware": ("type", "must include a time zone"),
    "date_type": ("type", "must be a date (YYYY-MM-DD)"),
    "date_parsing": ("type", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("type", "must be a date (YYYY-MM-DD)"),
    "extra_forbidden": ("unknown", "unknown field"),
    "union_tag_invalid": ("choice", "must be one of %(expected_tags)s"),
    "value_error": ("invalid", "%(error)s"),
    "assertion_error": ("invalid", "%(error)s"),
}


# The parts pydantic adds to an error's location for each member of a union (``X | Y``):
# not fields, so left out of the field name.
_UNION_TAGS = ("function-", "constrained-", "literal[", "tagged-union[", "lax-",
               "json-or-python[", "nullable[", "list[", "dict[", "tuple[")
_TYPE_TAGS = {"str", "int", "float", "bool", "decimal", "date", "datetime", "none"}


def _loc(loc: Sequence[Any], prefix: str) -> str:
    parts = [str(p) for p in loc if p != "__root__" and not (
        isinstance(p, str) and (p.startswith(_UNION_TAGS) or p in _TYPE_TAGS))]
    name = ".".join(parts) if parts else "body"
    return f"{prefix}{name}"


def _message(error: Mapping[str, Any]) -> tuple[str, Message | str]:
    ctx = dict(error.get("ctx") or {})
    inner = ctx.get("error")
    if isinstance(inner, Exception) and inner.args:
        first = inner.args[0]
        if isinstance(first, Message):
            return getattr(inner, "code", None) or "invalid", first
        return "invalid", str(first)
    code, template = _CODES.get(error["type"], ("invalid", "is not valid"))
    params = {k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v)
              for k, v in ctx.items()}
    if error["type"] in ("literal_error", "enum") and "expected" in params:
        # "'initial', 'update' or 'final'": each value is a catalogue key (初报、续报、核报).
        values = [v for v in re.findall(r"'([^']*)'", str(params["expected"])) if v]
        params["expected"] = Choices(values) if values else str(params["expected"])
    return code, Message(template, params)


def error_fields(exc: pydantic.ValidationError, prefix: str = "") -> tuple[
        dict[str, list[Message | str]], dict[str, list[str]]]:
    """pydantic's errors as ``({field: [messages]}, {field: [codes]})``."""
    fields: dict[str, list[Message | str]] = {}
    codes: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        name = _loc(error.get("loc", ()), prefix)
        code, message = _message(error)
        fields.setdefault(name, []).append(message)
        codes.setdefault(name, []).append(code)
    return fields, codes


def validate(schema: type[S], data: Any, *, what: str | None = None,
             error: type[ValidationError] = ValidationError) -> S:
    """``data`` checked against ``schema``; :class:`ValidationError` naming each field otherwise."""
    if not isinstance(data, Mapping):
        raise error(msg("expected a JSON object"), fields={"body": [msg("expected a JSON object")]},
                    field_codes={"body": ["type"]})
    try:
        return schema.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        fields, codes = error_fields(exc)
        first = next(iter(fields.items()))
        summary = msg("%(field)s: %(problem)s", field=Message(first[0]), problem=first[1][0]) \
            if what is None else msg("invalid %(what)s: %(field)s: %(problem)s", what=what,
                                     field=Message(first[0]), problem=first[1][0])
        raise error(summary, fields=fields, field_codes=codes) from None


def validate_rows(schema: type[S], rows: Iterable[Any], *, what: str,
                  error: type[ValidationError] = ValidationError,
                  first_row: int = 1) -> list[S]:
    """Every row checked against ``schema``; one error listing every bad row (``row N: field``).

    Rows are numbered from ``first_row`` (1 = the first data row of a file).
    """
    out: list[S] = []
    fields: dict[str, list[Message | str]] = {}
    codes: dict[str, list[str]] = {}
    bad: list[int] = []
    for number, row in enumerate(rows, start=first_row):
        if not isinstance(row, Mapping):
            fields.setdefault(f"row {number}", []).append(msg("expected a record"))
            codes.setdefault(f"row {number}", []).append("type")
            bad.append(number)
            continue
        try:
            out.append(schema.model_validate(dict(row)))
        except pydantic.ValidationError as exc:
            f, c = error_fields(exc, prefix=f"row {number}: ")
            for k, v in f.items():
                fields.setdefault(k, []).extend(v)
            for k, v in c.items():
                codes.setdefault(k, []).extend(v)
            bad.append(number)
    if fields:
        shown = ", ".join(map(str, bad[:20])) + (" …" if len(bad) > 20 else "")
        raise error(msg("%(count)s bad %(what)s row(s): %(rows)s", count=len(bad), what=what,
                        rows=shown), fields=fields, field_codes=codes)
    return out


# --- Boolean: yes/no as people write it ----------------------------------------------------
# ``bool("false")`` is True: files and forms carry yes/no as text (0/1, true/false, yes/no,
# y/n, 是/否), so one type parses all of them and refuses anything else.
_TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t", "on", "是", "真", "对"})
_FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", "off", "否", "假", "不"})


def parse_boolean(value: Any) -> bool:
    """``value`` as a bool: a bool, 0/1, or a word (true/false, yes/no, y/n, 是/否…)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value in (0, 1):
            return bool(value)
        raise ValueError(msg("must be yes or no"))
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError(msg("must be yes or no"))


Boolean = Annotated[bool, pydantic.BeforeValidator(parse_boolean)]
