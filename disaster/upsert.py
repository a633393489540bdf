"""Shared machinery of the bulk upsert services (areas, communities, shelters, depots…).

Every ``upsert_<kind>(session, actor, records)`` validates the whole batch first (collecting
every bad row), then creates, updates or leaves each record by its code, audits what it
changed and flushes. Records whose values equal the stored ones write nothing and audit
nothing, so loading the same data twice is a no-op.

Row errors are keyed ``"row N: field"`` where N is the 1-based position of the record in the
batch (the importers pass records in file order, so N is the data row of the file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from disaster import audit
from gis.errors import AppError, ValidationError
from gis.geometry import as_multipolygon, as_point

# Above this many created records one audit entry per chunk of codes is written instead of
# one per record: 100,000 single entries would dominate a bulk import's time.
BULK_AUDIT_THRESHOLD = 2000
BULK_AUDIT_CHUNK = 1000
# Parameters per IN (...) query, below SQLite's and psycopg's limits.
_IN_CHUNK = 2000
_INSERT_CHUNK = 5000


class _Missing:
    """Marker for a key absent from a record (distinct from an explicit None)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class RowErrors:
    """Collects ``row N: field`` → reasons for a whole batch before anything is written."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, row: int, field: str, message: str) -> None:
        self.fields.setdefault(f"row {row}: {field}", []).append(message)

    @property
    def rows(self) -> list[int]:
        return sorted({int(re.match(r"row (\d+)", k).group(1)) for k in self.fields})  # type: ignore[union-attr]

    def require(self, row: int, values: dict[str, Any], required: Sequence[str | tuple[str, str]],
                what: str) -> None:
        """Name each required field missing from ``values`` (a new record's merged values).

        ``required`` holds field names, or ``(field name, column)`` where they differ.
        """
        for item in required:
            key, column = (item, item) if isinstance(item, str) else item
            if values.get(column) is None:
                self.add(row, key, f"required for a new {what}")

    def raise_if_any(self, what: str, error: type[ValidationError] = ValidationError) -> None:
        """Raise ``error`` listing every bad row; nothing has been written yet."""
        if not self.fields:
            return
        rows = self.rows
        listed = ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")
        raise error(f"{len(rows)} bad row(s) in {what} (rows {listed}); nothing was written",
                    fields=self.fields)


# --- converters: each takes a raw value and returns the clean one or raises ValueError ---

def text(max_len: int) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        out = str(value).strip()
        if len(out) > max_len:
            raise ValueError(f"longer than {max_len} characters")
        return out

    return convert


def nonempty_text(max_len: int) -> Callable[[Any], str]:
    base = text(max_len)

    def convert(value: Any) -> str:
        out = base(value)
        if not out:
            raise ValueError("must not be empty")
        return out

    return convert


def digits(*lengths: int) -> Callable[[Any], str]:
    """A numeric code of one of ``lengths`` digits (GB/T 2260 and village codes)."""

    def convert(value: Any) -> str:
        out = _code_text(value)
        if not out.isdigit() or len(out) not in lengths:
            raise ValueError(f"{out!r} is not a code of {' or '.join(map(str, lengths))} digits")
        return out

    return convert


def code(max_len: int = 32) -> Callable[[Any], str]:
    """An identifier code: letters, digits, ``_`` and ``-``."""

    def convert(value: Any) -> str:
        out = _code_text(value)
        if len(out) > max_len or not re.fullmatch(r"[A-Za-z0-9_.-]+", out):
            raise ValueError(f"{out!r} is not a code (1–{max_len} letters, digits, _ . -)")
        return out

    return convert


def _code_text(value: Any) -> str:
    # Spreadsheets turn codes into floats (341302.0): accept those when integral.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def integer(minimum: int | None = 0, maximum: int | None = None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a whole number")
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        out = int(number)
        if minimum is not None and out < minimum:
            raise ValueError(f"{out} is below {minimum}" if minimum else f"{out} is negative")
        if maximum is not None and out > maximum:
            raise ValueError(f"{out} is above {maximum}")
        return out

    return convert


def number(minimum: float | None = 0.0, maximum: float | None = None) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            out = float(str(value).strip().replace(",", ""))
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(out):
            raise ValueError(f"{value!r} is not a finite number")
        if minimum is not None and out < minimum:
            raise ValueError(f"{out:g} is below {minimum:g}" if minimum else f"{out:g} is negative")
        if maximum is not None and out > maximum:
            raise ValueError(f"{out:g} is above {maximum:g}")
        return out

    return convert


def decimal(minimum: Decimal | None = Decimal(0)) -> Callable[[Any], Decimal]:
    def convert(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            out = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not out.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        if minimum is not None and out < minimum:
            raise ValueError(f"{out} is negative")
        return out

    return convert


_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否", ""}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def choice(enum_cls: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        raw = getattr(value, "value", value)
        try:
            return enum_cls(str(raw).strip())
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            raise ValueError(f"unknown value {raw!r}; one of {allowed}") from None

    return convert


def one_of(*values: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        out = str(value).strip()
        if out not in values:
            raise ValueError(f"unknown value {out!r}; one of {', '.join(values)}")
        return out

    return convert


def date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def polygon(value: Any) -> MultiPolygon:
    if not isinstance(value, BaseGeometry):
        raise ValueError("not a geometry")
    try:
        return as_multipolygon(value)
    except AppError as exc:
        raise ValueError(exc.message) from None


def point(value: Any) -> Point:
    if not isinstance(value, BaseGeometry):
        raise ValueError("not a geometry")
    if isinstance(value, Point):
        try:
            return as_point(value)
        except AppError as exc:
            raise ValueError(exc.message) from None
    raise ValueError(f"must be a point, not {value.geom_type}")


@dataclass(frozen=True)
class Field:
    """One record key: its column, converter, whether a new record needs it, its default."""

    key: str
    column: str
    convert: Callable[[Any], Any]
    required: bool = False
    default: Any = None
    nullable: bool = True


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def validate_records(records: Sequence[dict[str, Any]], fields: Sequence[Field],
                     errors: RowErrors, *, key: str | None = "code",
                     ) -> list[tuple[int, dict[str, Any]]]:
    """Convert each record's present keys to column values; collect every problem.

    Returns ``(row, values)`` for rows without errors; ``values`` holds only the columns the
    record gave (absent keys keep the stored value on update). ``key`` names the column that
    must be unique within the batch (``None``: no such column).
    """
    out: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            errors.add(row, "record", "not a record")
            continue
        values: dict[str, Any] = {}
        ok = True
        for f in fields:
            raw = record.get(f.key, MISSING)
            if raw is MISSING or is_blank(raw):
                if f.required:
                    errors.add(row, f.key, "required")
                    ok = False
                elif raw is not MISSING and f.nullable:
                    values[f.column] = None
                continue
            try:
                values[f.column] = f.convert(raw)
            except ValueError as exc:
                errors.add(row, f.key, str(exc))
                ok = False
        code_value = values.get(key) if key else None
        if code_value is not None:
            if code_value in seen:
                errors.add(row, key, f"duplicate code {code_value} (also in row {seen[code_value]})")
                ok = False
            else:
                seen[code_value] = row
        if ok:
            out.append((row, values))
    return out


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


