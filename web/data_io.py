"""Import and export of the system's data sets (no Flask: the CLI and the web both use it).

Import maps a file's columns (the CONTRACT export property names; CSV adds ``lon``/``lat``)
to records and hands the whole file to one upsert service. It is all-or-nothing: any bad row
rejects the file with every bad row listed, and nothing is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.access import Actor
from disaster.areas import Area, upsert_areas
from disaster.communities import Community, upsert_communities
from disaster.hazards import upsert_hazard_zones
from gis.errors import ValidationError
from gis.messages import msg
from gis.vector_io import VectorFileError, read_vector, write_vector
from shelters.models import Shelter
from shelters.registry import upsert_shelters
from stockpile.depots import upsert_depots, upsert_stock
from stockpile.models import Depot, Item, StockLevel

IMPORT_KINDS = ("areas", "communities", "shelters", "depots", "hazard-zones", "stock", "officers")
EXPORT_KINDS = ("areas", "communities", "shelters", "depots", "alerts", "reports", "stock")
# Kinds whose geometry is a polygon: in CSV their lon/lat are only a representative point.
_POLYGON_KINDS = {"areas", "communities", "hazard-zones"}
# Kinds whose records have a location ("geometry"; communities from CSV: "point").
_LOCATED_KINDS = {"areas", "communities", "hazard-zones", "shelters", "depots"}
# Record keys longer than a dBase field name (10 characters): shapefiles carry them cut short.
_LONG_KEYS = ("parent_code", "township_code", "county_code", "farmland_share",
              "shelter_class", "capacity_day", "capacity_night", "community_code",
              "home_community_code")
_SHAPEFILE_KEYS = {k[:10]: k for k in _LONG_KEYS}


@dataclass
class ImportSummary:
    """What an import did; ``updated`` counts rows whose code already existed and changed."""

    kind: str
    file: str
    rows: int
    created: int
    updated: int
    unchanged: int
    encoding: str
    crs: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        parts = [f"{self.created} created",
                 f"{self.updated} updated (their codes existed already)" if self.updated
                 else "0 updated",
                 f"{self.unchanged} unchanged"]
        return f"{self.kind} from {self.file} ({self.rows} rows): " + ", ".join(parts)


def _officers(session: Session, actor: Actor, records: Sequence[dict]) -> tuple[int, int, int]:
    from disaster.officers import upsert_officers  # provided by the officers area

    counts = upsert_officers(session, actor, records)
    if isinstance(counts, dict):
        return counts["created"], counts["updated"], counts["unchanged"]
    return counts


UPSERTS: dict[str, Callable[[Session, Actor, Sequence[dict]], tuple[int, int, int]]] = {
    "areas": upsert_areas,
    "communities": upsert_communities,
    "hazard-zones": upsert_hazard_zones,
    "shelters": upsert_shelters,
    "depots": upsert_depots,
    "stock": upsert_stock,
    "officers": _officers,
}


def _check_kind(kind: str, kinds: Sequence[str]) -> None:
    if kind not in kinds:
        allowed = ", ".join(kinds)
        raise ValidationError(msg("unknown kind %(kind)s; one of %(allowed)s", kind=kind[:40],
                                  allowed=allowed),
                              fields={"kind": [msg("must be one of %(expected)s",
                                                   expected=allowed)]},
                              field_codes={"kind": ["choice"]})


def to_record(kind: str, row: dict[str, Any], geom: BaseGeometry | None,
              from_csv: bool, has_location: bool = False) -> dict[str, Any]:
    """One file row as a record of the shared format.

    A feature whose geometry is null or empty carries ``"geometry": None``, which the record
    schema refuses (the row is named): a record must never lose its location. A CSV row
    with blank lon/lat leaves the key out: the stored location stays, and a new record
    without one is refused by its upsert service.
    """
    record = {_SHAPEFILE_KEYS.get(k, k): v for k, v in row.items()}
    if kind == "officers":
        # A blank assignment cell clears the officer's communities of that role ("a;b"
        # cells are split by the officer record schema).
        for key in ("primary", "backup"):
            if key in record and record[key] is None:
                record[key] = []
    if geom is None and not (has_location and not from_csv and kind in _LOCATED_KINDS):
        return record
    if from_csv and kind in _POLYGON_KINDS:
        # CSV carries polygons' representative points only: a community keeps it as its point.
        if kind == "communities":
            record["point"] = geom
        return record
    record["geometry"] = geom
    return record


def _row_number(key: str) -> int:
    match = re.match(r"row (\d+)", key)
    return int(match.group(1)) if match else 0


def import_file(session: Session, actor: Actor, kind: str, path: str | os.PathLike[str],
                encoding: str = "auto", crs: str | None = None, from_gcj02: bool = False,
                max_bytes: int | None = None) -> ImportSummary:
    """Import one file of ``kind`` all-or-nothing; never commits.

    Raises
    ------
    ValidationError
        ``fields`` maps ``"row N: field"`` (N = 1-based data row) to reasons for EVERY bad
        row, or ``file``/``crs``/``encoding`` for problems of the whole file. Nothing is
        written.
    """
    _check_kind(kind, IMPORT_KINDS)
    path = Path(path)
    data = read_vector(path, encoding=encoding, crs=crs, from_gcj02=from_gcj02,
                       max_bytes=max_bytes)
    if not data.rows:
        raise VectorFileError(msg("%(file)s: no data rows", file=path.name),
                              fields={"file": [msg("%(file)s: empty", file=path.name)]},
                              field_codes={"file": ["empty"]})
    from_csv = path.suffix.lower() in (".csv", ".txt")
    records = [to_record(kind, row, geom, from_csv, data.has_location)
               for row, geom in zip(data.rows, data.geometries, strict=True)]
    file_errors = dict(data.row_errors)
    service_errors: dict[str, list[Any]] = {}
    service_codes: dict[str, list[str]] = {}
    error_class: type[ValidationError] = ValidationError
    counts = (0, 0, 0)
    # All-or-nothing: the whole file is written inside one savepoint, released only when
    # every row is good; anything else rolls it back, leaving stored data as it was.
    savepoint = session.begin_nested()
    try:
        counts = UPSERTS[kind](session, actor, records)
    except ValidationError as exc:
        savepoint.rollback()
        if not file_errors and not any(_row_number(k) for k in exc.fields):
            raise _with_file(exc, path) from None
        service_errors, service_codes = exc.fields, exc.field_codes
        error_class = type(exc)
    except BaseException:
        savepoint.rollback()
        raise
    else:
        if file_errors:
            savepoint.rollback()  # the service accepted the rest, but the file is refused
        else:
            savepoint.commit()
    if file_errors or service_errors:
        fields = file_errors | {k: file_errors.get(k, []) + v for k, v in service_errors.items()}
        raise _rows_error(path, kind, fields, service_codes, error_class)
    return ImportSummary(kind, path.name, len(records), *counts, encoding=data.encoding,
                         crs=data.crs)


def _rows_error(path: Path, kind: str, fields: dict[str, list[Any]],
               codes: dict[str, list[str]] | None = None,
               error: type[ValidationError] = ValidationError) -> ValidationError:
    ordered = dict(sorted(fields.items(), key=lambda kv: (_row_number(kv[0]), kv[0])))
    rows = sorted({_row_number(k) for k in ordered if _row_number(k)})
    listed = ", ".join(map(str, rows[:20])) + (" …" if len(rows) > 20 else "")
    codes = codes or {}
    return error(msg("%(file)s: %(count)s bad row(s) of %(kind)s (rows %(rows)s); nothing was "
                     "imported", file=path.name, count=len(rows), kind=msg(kind), rows=listed),
                 fields=ordered,
                 field_codes={k: codes.get(k) or ["invalid"] * len(v) for k, v in ordered.items()})


def _with_file(exc: ValidationError, path: Path) -> ValidationError:
    """The service's error with the file named in its message (same class and fields)."""
    if path.name in str(exc.message):
        return exc
    return type(exc)(msg("%(file)s: %(problem)s", file=path.name, problem=exc.message),
                     fields=exc.fields, field_codes=exc.field_codes)


# --- export ------------------------------------------------------------------------------

def _shape(value: Any) -> BaseGeometry | None:
    if value is None:
        return None
    return to_shape(value)


@dataclass
class ExportData:
    """Rows with the CONTRACT export properties, their geometries and lon/lat points."""

    rows: list[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    points: list[BaseGeometry | None] | None = None


def export_rows(session: Session, kind: str) -> ExportData:
    """Rows (CONTRACT export properties) and EPSG:4326 geometries of one kind, by code."""
    _check_kind(kind, EXPORT_KINDS)
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry | None] = []
    points: list[BaseGeometry | None] | None = None
    if kind == "areas":
        for a in session.execute(select(Area.code, Area.name, Area.level, Area.parent_code,
                                        Area.geom).order_by(Area.code)):
            rows.append({"code": a.code, "name": a.name, "level": a.level.value,
                         "parent_code": a.parent_code})
            geoms.append(_shape(a.geom))
    elif kind == "communities":
        for c in session.execute(select(Community.code, Community.name, Community.township_code,
                                        Community.county_code, Community.population,
                                        Community.households, Community.geom, Community.point)
                                 .order_by(Community.code)):
            points = points if points is not None else []
            points.append(_shape(c.point))
            rows.append({"code": c.code, "name": c.name, "township_code": c.township_code,
                         "county_code": c.county_code, "population": c.population,
                         "households": c.households})
            geoms.append(_shape(c.geom) or _shape(c.point))
    elif kind == "shelters":
        for s in session.execute(select(Shelter.code, Shelter.name, Shelter.kind,
                                        Shelter.capacity, Shelter.occupancy, Shelter.status,
                                        Shelter.geom).order_by(Shelter.code)):
            rows.append({"code": s.code, "name": s.name, "kind": s.kind.value,
                         "capacity": s.capacity, "occupancy": s.occupancy,
                         "status": s.status.value})
            geoms.append(_shape(s.geom))
    elif kind == "depots":
        for d in session.execute(select(Depot.code, Depot.name, Depot.level, Depot.geom)
                                 .order_by(Depot.code)):
            rows.append({"code": d.code, "name": d.name, "level": d.level.value})
            geoms.append(_shape(d.geom))
    elif kind == "stock":
        stmt = (select(Depot.code, Item.code, StockLevel.on_hand, StockLevel.lot,
                       StockLevel.expires_on)
                .join(Depot, Depot.id == StockLevel.depot_id)
                .join(Item, Item.id == StockLevel.item_id)
                .where(StockLevel.on_hand != 0)
                .order_by(Depot.code, Item.code, StockLevel.lot))
        for depot, item, on_hand, lot, expires in session.execute(stmt):
            quantity = int(on_hand) if on_hand == int(on_hand) else float(on_hand)
            rows.append({"depot": depot, "item": item, "quantity": quantity, "lot": lot or "",
                         "expires_on": expires.isoformat() if expires else None})
            geoms.append(None)
    elif kind == "alerts":
        from disaster.warnings.alerts import alert_dicts  # the warnings area provides it

        rows = list(alert_dicts(session, active_only=False))
        geoms = [None] * len(rows)
    else:
        rows, geoms = _report_rows(session)
    return ExportData(rows, geoms, points)


def _report_rows(session: Session) -> tuple[list[dict[str, Any]], list[BaseGeometry | None]]:
    from disaster.reports.models import INDICATORS, Report

    rows, geoms = [], []
    for r in session.scalars(select(Report).order_by(Report.submitted_at, Report.id)):
        row: dict[str, Any] = {
            "id": r.id, "event": r.event_id, "community": r.community_code,
            "kind": r.kind.value, "hazard": r.hazard.value,
            "occurred_at": r.occurred_at.isoformat(), "submitted_at": r.submitted_at.isoformat(),
            "is_latest": r.is_latest,
        }
        row |= {name: getattr(r, name) for name in INDICATORS}
        row["notes"] = r.notes
        rows.append(row)
        geoms.append(_shape(r.location))
    return rows, geoms


def default_format(kind: str) -> str:
    """GeoJSON for spatial kinds, JSON for alerts and stock."""
    return "json" if kind in ("alerts", "stock") else "geojson"


def export_kind(session: Session, kind: str, fmt: str | None,
                target: str | os.PathLike[str] | IO[bytes], encoding: str = "utf-8") -> int:
    """Write ``kind`` to ``target`` (path or binary stream); returns the number of rows."""
    data = export_rows(session, kind)
    write_vector(target, fmt or default_format(kind), data.rows, data.geometries,
                 layer=kind.replace("-", "_"), encoding=encoding, points=data.points)
    return len(data.rows)

