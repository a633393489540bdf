"""Shared machinery of the bulk upsert services (areas, communities, shelters, depots…).

Every ``upsert_<kind>(session, actor, records)`` validates the whole batch first against the
kind's record schema (a :class:`RecordSchema` in the owning package, the same one the
importer and the CLI use) and against stored data, collecting every bad row; then it
creates, updates or leaves each record by its code, audits what it changed and flushes.
Records whose values equal the stored ones write nothing and audit nothing, so loading the
same data twice is a no-op.

Row errors are keyed ``"row N: field"`` where N is the 1-based position of the record in the
batch (the importers pass records in file order, so N is the data row of the file).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any, ClassVar

import numpy as np
import pydantic
import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disaster import audit
from gis.errors import AppError, ValidationError
from gis.geometry import as_multipolygon
from gis.messages import Message, msg
from gis.schema import INT32_MAX, Boolean, Schema, validate_rows

# Above this many created records one audit entry per chunk of codes is written instead of
# one per record: 100,000 single entries would dominate a bulk import's time.
BULK_AUDIT_THRESHOLD = 2000
BULK_AUDIT_CHUNK = 1000
# Parameters per IN (...) query, below SQLite's and psycopg's limits.
_IN_CHUNK = 2000
_INSERT_CHUNK = 5000


# --- record field types: each parses a cell as files and people write it ------------------

def _code_text(value: Any) -> Any:
    # Spreadsheets turn codes into floats (341302.0): accept those when integral.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def digits(*lengths: int) -> Any:
    """A numeric code of one of ``lengths`` digits (GB/T 2260 area and village codes)."""
    allowed = " or ".join(map(str, lengths))

    def check(value: str) -> str:
        if not (value.isascii() and value.isdigit()) or len(value) not in lengths:
            raise ValueError(msg("%(value)s is not a code of %(digits)s digits",
                                 value=value[:40], digits=allowed))
        return value

    return Annotated[str, BeforeValidator(_code_text), AfterValidator(check)]


def code(max_len: int = 32) -> Any:
    """An identifier code: 1 to ``max_len`` letters, digits, ``_``, ``.`` and ``-``."""

    def check(value: str) -> str:
        if len(value) > max_len or not _CODE.fullmatch(value):
            raise ValueError(msg("%(value)s is not a code (1–%(max)s letters, digits, _ . -)",
                                 value=value[:40], max=max_len))
        return value

    return Annotated[str, BeforeValidator(_code_text), AfterValidator(check)]


_CODE = re.compile(r"[A-Za-z0-9_.-]+")


def _number_text(value: Any) -> Any:
    # "1,200" and " 800 " are how spreadsheets write numbers; bools are not numbers.
    if isinstance(value, bool):
        raise ValueError(msg("must be a number"))
    if isinstance(value, str):
        return value.strip().replace(",", "")
    return value


def _whole(value: Any) -> Any:
    value = _number_text(value)
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value  # pydantic names it: "must be a whole number"
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return value


def count(minimum: int = 0, maximum: int = INT32_MAX) -> Any:
    """A whole number in ``minimum..maximum`` (default: what an INTEGER column holds)."""
    return Annotated[int, BeforeValidator(_whole), Field(ge=minimum, le=maximum)]


def number(minimum: float = 0.0, maximum: float | None = None) -> Any:
    """A finite number ≥ ``minimum`` (NaN and infinity refused)."""
    return Annotated[float, BeforeValidator(_number_text),
                     Field(ge=minimum, le=maximum, allow_inf_nan=False)]


def quantity(minimum: int | None = 0, maximum: int = 99_999_999_999) -> Any:
    """A finite decimal quantity within ``minimum..maximum`` (stock: Numeric(14, 3))."""
    # Decimal's own JSON Schema is "number or string" with pydantic's bound keywords; the
    # document says what a client sends: a number within the bounds.
    shown: dict[str, Any] = {"type": "number", "maximum": maximum}
    if minimum is not None:
        shown["minimum"] = minimum
    return Annotated[Decimal, BeforeValidator(_number_text),
                     Field(ge=minimum, le=maximum, allow_inf_nan=False), WithJsonSchema(shown)]


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return value.strip()[:10]
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]


def _geometry(value: Any) -> BaseGeometry:
    if value is None or (isinstance(value, BaseGeometry) and value.is_empty):
        raise ValueError(msg("a geometry is required; this one is empty"))
    if not isinstance(value, BaseGeometry):
        raise ValueError(msg("is not a geometry"))
    return value


def _polygon(value: Any) -> MultiPolygon:
    geom = _geometry(value)
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(msg("must be a polygon, not %(kind)s", kind=geom.geom_type))
    try:
        return as_multipolygon(geom)
    except AppError:
        raise ValueError(msg("is invalid and cannot be repaired")) from None


def _point(value: Any) -> Point:
    geom = _geometry(value)
    if not isinstance(geom, Point):
        raise ValueError(msg("must be a point, not %(kind)s", kind=geom.geom_type))
    if not (math.isfinite(geom.x) and math.isfinite(geom.y)):
        raise ValueError(msg("has coordinates that are not numbers"))
    return geom


# Marks a record as generated (demo data); a blank cell keeps the stored flag.
Generated = Boolean | None

# Geometries: present, not empty, of the right type (an explicit null is refused, not stored).
PolygonGeometry = Annotated[Any, PlainValidator(_polygon)]
PointGeometry = Annotated[Any, PlainValidator(_point)]


def choice(*values: str) -> Any:
    """One of ``values`` (text)."""
    return Annotated[str, AfterValidator(partial(_one_of, values))]


def _one_of(values: tuple[str, ...], value: str) -> str:
    if value not in values:
        raise ValueError(msg("must be one of %(expected)s", expected=", ".join(values)))
    return value


def _strip_enum(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def enum_of(enum_cls: type[enum.Enum]) -> Any:
    """A member of ``enum_cls`` given by its value (surrounding spaces ignored)."""
    return Annotated[enum_cls, BeforeValidator(_strip_enum)]


class RecordSchema(Schema):
    """Base of the import/upsert record schemas (docs/CONVENTIONS.md "Record format").

    A blank cell (None, NaN, spaces) of a field whose column is nullable clears it; of any
    other field it counts as absent (the stored value stays), except geometries, whose
    blank is refused. ``COLUMNS`` maps record keys to table columns where they differ.
    """

    COLUMNS: ClassVar[dict[str, str]] = {}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _blank_cells(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        nullable = cls._nullable()
        out: dict[str, Any] = {}
        for key, value in data.items():
            if value is None or (value.__class__ in _BLANKABLE and is_blank(value)):
                if key in nullable:
                    out[key] = None
                # other blank cells are absent: the stored value (or default) stays
            else:
                out[key] = value
        return out

    @classmethod
    def _nullable(cls) -> frozenset[str]:
        """Fields a blank cell sets to None: nullable columns and (to refuse it) geometries."""
        cached = cls.__dict__.get("_nullable_fields")
        if cached is None:
            cached = frozenset(name for name, f in cls.model_fields.items()
                               if _admits_none(f.annotation)) | frozenset(cls.GEOMETRIES)
            cls._nullable_fields = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def columns(cls) -> list[str]:
        """The table columns records of this schema may set."""
        return [cls.COLUMNS.get(name, name) for name in cls.model_fields]

    def values(self) -> dict[str, Any]:
        """The fields this record gave, keyed by table column."""
        columns = self.COLUMNS
        out = {columns.get(name, name): getattr(self, name) for name in self.model_fields_set}
        if out.get("generated", False) is None:
            del out["generated"]  # a blank "generated" cell keeps the flag
        return out


# Types whose values can be blank cells besides None (text of spaces, NaN).
_BLANKABLE = frozenset({str, float})


def _admits_none(annotation: Any) -> bool:
    return annotation is None or type(None) in typing.get_args(annotation)


class RowErrors:
    """Collects ``row N: field`` → reasons (and stable codes) for a batch before any write.

    The record schema's errors (:func:`validate_records`) and the service's own checks
    against stored data (unknown county, duplicate code…) land here, so one error lists
    every bad row.
    """

    def __init__(self) -> None:
        self.fields: dict[str, list[Message | str]] = {}
        self.codes: dict[str, list[str]] = {}

    def add(self, row: int, field: str, message: Message | str, code: str = "invalid") -> None:
        key = f"row {row}: {field}"
        self.fields.setdefault(key, []).append(message)
        self.codes.setdefault(key, []).append(code)

    def merge(self, fields: dict[str, list[Any]], codes: dict[str, list[str]]) -> None:
        """Take over another error's ``row N: field`` entries."""
        for key, messages in fields.items():
            self.fields.setdefault(key, []).extend(messages)
            self.codes.setdefault(key, []).extend(codes.get(key, ["invalid"] * len(messages)))

    @property
    def rows(self) -> list[int]:
        return sorted({row_number(k) for k in self.fields if row_number(k)})

    def has(self, row: int, *names: str) -> bool:
        """Whether ``row`` already has an error on one of the fields ``names``."""
        return any(f"row {row}: {name}" in self.fields for name in names)

    def require(self, row: int, values: dict[str, Any], required: Sequence[str | tuple[str, str]],
                what: Message | str) -> None:
        """Name each required field missing from ``values`` (a new record's merged values).

        ``required`` holds field names, or ``(field name, column)`` where they differ.
        """
        for item in required:
            key, column = (item, item) if isinstance(item, str) else item
            if values.get(column) is None and not self.has(row, key):
                self.add(row, key, msg("required for a new %(what)s", what=what), "required")

    def raise_if_any(self, what: Message | str,
                     error: type[ValidationError] = ValidationError) -> None:
        """Raise ``error`` listing every bad row; nothing has been written yet."""
        if not self.fields:
            return
        rows = self.rows
        listed = ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")
        order = sorted(self.fields, key=lambda k: (row_number(k), k))
        raise error(msg("%(count)s bad row(s) in %(what)s (rows %(rows)s); nothing was written",
                        count=len(rows), what=what, rows=listed),
                    fields={k: self.fields[k] for k in order},
                    field_codes={k: self.codes.get(k, []) for k in order})


def row_number(key: str) -> int:
    """N of a ``row N: field`` key (0 for keys that name no row)."""
    match = _ROW.match(key)
    return int(match.group(1)) if match else 0


_ROW = re.compile(r"row (\d+)")


def is_blank(value: Any) -> bool:
    """An empty cell: None, NaN or text of only spaces."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def validate_records(records: Sequence[Any], schema: type[RecordSchema], errors: RowErrors,
                     *, what: Message | str, key: str | None = "code",
                     ) -> list[tuple[int, dict[str, Any]]]:
    """Check every record against ``schema`` (:func:`gis.schema.validate_rows`).

    Returns ``(row, values)`` for the good rows; ``values`` holds only the columns the record
    gave (absent keys keep the stored value on update), named as in the table
    (``schema.COLUMNS``). Every bad row goes to ``errors``. ``key`` names the column that
    must be unique within the batch (``None``: no such column).
    """
    records = list(records)
    try:
        models: list[RecordSchema | None] = list(validate_rows(schema, records, what=what))
    except ValidationError as exc:
        errors.merge(exc.fields, exc.field_codes)
        models = [_partial(schema, record, row, exc.fields)
                  for row, record in enumerate(records, start=1)]
    out: list[tuple[int, dict[str, Any]]] = []
    seen: dict[Any, int] = {}
    for row, model in enumerate(models, start=1):
        if model is None:
            continue
        values = model.values()
        code_value = values.get(key) if key else None
        if code_value is not None:
            if code_value in seen:
                errors.add(row, key, msg("duplicate code %(code)s (also in row %(row)s)",
                                         code=code_value, row=seen[code_value]), "duplicate")
                continue
            seen[code_value] = row
        out.append((row, values))
    return out


def _partial(schema: type[RecordSchema], record: Any, row: int,
             fields: Mapping[str, Any]) -> RecordSchema | None:
    """A bad row without its bad fields, so the service's own checks still name the rest
    of its problems (the batch is refused anyway); ``None`` when even that fails."""
    prefix = f"row {row}: "
    bad = {k[len(prefix):].split(".")[0] for k in fields if k.startswith(prefix)}
    if not isinstance(record, Mapping) or f"row {row}" in fields:
        return None
    try:
        return schema.model_validate({k: v for k, v in record.items() if k not in bad})
    except pydantic.ValidationError:
        return None


def snapshot_value(value: Any) -> Any:
    """A short JSON-able form for audit snapshots (geometries as type and digest)."""
    if isinstance(value, Point):
        return [round(value.x, 7), round(value.y, 7)]
    if isinstance(value, BaseGeometry):
        digest = hashlib.sha256(shapely.to_wkb(value)).hexdigest()[:12]
        return f"{value.geom_type}#{digest}"
    if isinstance(value, Decimal):
        return float(value)
    return getattr(value, "value", value)


def snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {k: snapshot_value(v) for k, v in values.items() if k != "id"}


def same(a: Any, b: Any) -> bool:
    """Equality for stored versus incoming values (geometries exactly, floats to 1e-9)."""
    if isinstance(a, BaseGeometry) or isinstance(b, BaseGeometry):
        if a is None or b is None:
            return a is b
        return a.geom_type == b.geom_type and bool(shapely.equals_exact(a, b, tolerance=1e-10))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    a = getattr(a, "value", a)
    b = getattr(b, "value", b)
    return a == b


def load_existing(session: Session, model: Any, columns: Iterable[str],
                  codes: Sequence[str], key: str = "code") -> dict[str, dict[str, Any]]:
    """Stored values of ``columns`` (plus ``id``) for the given codes, geometries as shapely."""
    names = ["id", key, *[c for c in columns if c not in ("id", key)]]
    cols = [getattr(model, c) for c in names]
    out: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(codes))
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start:start + _IN_CHUNK]
        for row in session.execute(select(*cols).where(getattr(model, key).in_(chunk))):
            values = dict(zip(names, row, strict=True))
            for name, value in values.items():
                if isinstance(value, WKBElement):
                    values[name] = to_shape(value)
            out[values[key]] = values
    return out


def geometry_param(geom: BaseGeometry | None) -> str | None:
    """Bind value for a geometry column on both backends: EWKT at full precision."""
    if geom is None:
        return None
    return "SRID=4326;" + shapely.to_wkt(geom, rounding_precision=-1)


def geometry_params(geoms: Sequence[BaseGeometry | None]) -> list[str | None]:
    """:func:`geometry_param` for many geometries at once (vectorised WKT writing)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    texts = shapely.to_wkt(arr, rounding_precision=-1)
    return [None if t is None else "SRID=4326;" + t for t in texts]


@dataclass
class Plan:
    """What an upsert will do: new rows, changed rows, and how many are unchanged."""

    creates: list[dict[str, Any]]
    updates: list[tuple[dict[str, Any], dict[str, Any]]]  # (stored, changed values)
    unchanged: int


def plan_changes(prepared: Sequence[tuple[int, dict[str, Any]]],
                 existing: dict[str, dict[str, Any]], defaults: dict[str, Any],
                 *, key: str = "code", create_only: Iterable[str] = ()) -> Plan:
    """Split validated rows into creations, updates (only changed columns) and no-ops."""
    create_only = set(create_only)
    creates, updates, unchanged = [], [], 0
    for _row, values in prepared:
        stored = existing.get(values[key])
        if stored is None:
            creates.append(defaults | values)
            continue
        changed = {c: v for c, v in values.items()
                   if c not in create_only and c != key and not same(stored.get(c), v)}
        if changed:
            updates.append((stored, changed))
        else:
            unchanged += 1
    return Plan(creates, updates, unchanged)


def apply_plan(session: Session, actor: Any, model: Any, entity: str, plan: Plan,
               geometry_columns: Iterable[str] = (), key: str = "code") -> tuple[int, int, int]:
    """Write the plan with bulk inserts and per-row updates, audit, flush; never commit."""
    geometry_columns = set(geometry_columns)
    session.flush()
    # An executemany INSERT takes its columns from the first row: give every row all of them.
    columns = list(dict.fromkeys(c for values in plan.creates for c in values))
    for start in range(0, len(plan.creates), _INSERT_CHUNK):
        chunk = plan.creates[start:start + _INSERT_CHUNK]
        rows = [{c: values.get(c) for c in columns} for values in chunk]
        for c in geometry_columns & set(columns):
            for row, param in zip(rows, geometry_params([r[c] for r in rows]), strict=True):
                row[c] = param
        session.execute(insert(model.__table__), rows)
    if len(plan.creates) > BULK_AUDIT_THRESHOLD:
        codes = [v[key] for v in plan.creates]
        for start in range(0, len(codes), BULK_AUDIT_CHUNK):
            part = codes[start:start + BULK_AUDIT_CHUNK]
            audit.record(session, actor, f"{entity}.bulk_create", entity, None, None,
                         {"count": len(part), "codes": part})
    else:
        for values in plan.creates:
            audit.record(session, actor, f"{entity}.create", entity, values[key], None,
                         snapshot(values))
    if plan.updates:
        ids = [stored["id"] for stored, _ in plan.updates]
        objects = {}
        for start in range(0, len(ids), _IN_CHUNK):
            for obj in session.scalars(select(model).where(model.id.in_(ids[start:start + _IN_CHUNK]))):
                objects[obj.id] = obj
        for stored, changed in plan.updates:
            obj = objects[stored["id"]]
            for column, value in changed.items():
                setattr(obj, column, geometry_param(value) if column in geometry_columns else value)
            audit.record(session, actor, f"{entity}.update", entity, stored[key],
                         snapshot({c: stored.get(c) for c in changed}), snapshot(changed))
    session.flush()
    if plan.updates:
        # Geometry attributes were set as EWKT text; reload them as stored values.
        for stored, _ in plan.updates:
            session.expire(objects[stored["id"]])
    return len(plan.creates), len(plan.updates), plan.unchanged


