"""The feature collections of the OGC API: what each holds and how it is read.

Polygon collections (communities, hazard zones, officers' coverage) take their geometry from
the console's geometry cache (:mod:`web.api.geojson`) and read properties only for the page
being served, so that a client paging through 20,000 communities does not make the server
read all 20,000 rows once per page. Small collections (shelters, depots, alerts, reports) are
read whole through the domain's read paths and filtered in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from flask import current_app
from flask_babel import lazy_gettext as _l
from geoalchemy2.elements import WKBElement
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.api import geojson

Interval = tuple[dt.datetime | None, dt.datetime | None]
BBox = tuple[float, float, float, float]


@dataclass
class Query:
    """What a request asks of a collection: lon/lat ``bbox``, property ``filters``,
    a datetime ``interval`` and one feature id ``fid``."""

    bbox: BBox | None = None
    filters: dict[str, str] = field(default_factory=dict)
    interval: Interval | None = None
    fid: str | None = None


@dataclass
class Feature:
    """One feature of a page: its id, properties and GeoJSON geometry text (CRS84)."""

    fid: str
    properties: dict[str, Any]
    geometry: str | None


class Selection:
    """The features matching a query, in a stable order; pages are read on demand."""

    matched: int = 0

    def page(self, session: Session, start: int, stop: int) -> list[Feature]:  # pragma: no cover
        raise NotImplementedError

    def bounds(self) -> list[float] | None:  # pragma: no cover
        """``[west, south, east, north]`` of the matched features, or ``None``."""
        raise NotImplementedError


class ListSelection(Selection):
    """Features held in memory with shapely geometries (small collections)."""

    def __init__(self, rows: list[tuple[str, dict[str, Any], Any]]) -> None:
        self.rows = rows
        self.matched = len(rows)

    def page(self, session: Session, start: int, stop: int) -> list[Feature]:
        rows = self.rows[start:stop]
        texts = shapely.to_geojson(np.array([g for _, _, g in rows], dtype=object)).tolist() \
            if rows else []
        return [Feature(fid, props, text) for (fid, props, _), text in zip(rows, texts, strict=True)]

    def bounds(self) -> list[float] | None:
        geoms = [g for _, _, g in self.rows if g is not None]
        return [float(v) for v in shapely.total_bounds(geoms)] if geoms else None


class LayerSelection(Selection):
    """Features of a cached geometry layer; properties are read for each page only."""

    def __init__(self, layer: geojson.Layer, positions: np.ndarray,
                 properties: Callable[[Session, list[int]], dict[int, tuple[str, dict[str, Any]]]]
                 ) -> None:
        self.layer = layer
        # Ordered by row id, so that pages never overlap or skip while nothing changes.
        self.positions = positions[np.argsort(layer.ids[positions], kind="stable")]
        self.properties = properties
        self.matched = len(self.positions)

    def page(self, session: Session, start: int, stop: int) -> list[Feature]:
        positions = self.positions[start:stop]
        ids = self.layer.ids[positions].tolist()
        props = self.properties(session, ids)
        texts = geojson.geometry_texts(self.layer, positions, 0.0).tolist()
        return [Feature(props[i][0], props[i][1], text)
                for i, text in zip(ids, texts, strict=True) if i in props]

    def bounds(self) -> list[float] | None:
        if not self.matched:
            return None
        b = self.layer.bounds[self.positions]
        return [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                float(b[:, 3].max())]


@dataclass
class Collection:
    """One collection: its description, schema and reader.

    ``properties`` maps each property to its JSON-schema type (``format`` after a colon, as
    ``string:date-time``); ``queryables`` are the properties that may be filtered on by
    equality; ``temporal`` names the properties (start, end) that ``datetime`` tests.
    """

    id: str
    title: Any
    description: Any
    geometry: str  # point, polygon or multipolygon
    properties: dict[str, str]
    queryables: tuple[str, ...]
    select: Callable[[Session, Query], Selection]
    temporal: tuple[str, str] | None = None
    item_title: str = "name"

    def temporal_extent(self, session: Session) -> list[str | None] | None:
        """``[first, last]`` of the temporal properties over the whole collection (ISO)."""
        if self.temporal is None:
            return None
        selection = self.select(session, Query())
        first = last = None
        for feature in selection.page(session, 0, selection.matched):
            start, end = (feature.properties.get(p) for p in self.temporal)
            first = start if start and (first is None or start < first) else first
            last = end if end and (last is None or end > last) else last
        return [first, last]


# --- helpers ---------------------------------------------------------------------------------

def _enum(value: Any) -> Any:
    return None if value is None else getattr(value, "value", value)


def _shape(element: WKBElement | None) -> Any:
    if element is None:
        return None
    data = element.data
    return shapely.from_wkb(data if isinstance(data, str) else bytes(data))


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def matches(value: Any, wanted: str) -> bool:
    """Whether a property ``value`` equals the query string ``wanted`` (OGC simple filter)."""
    if isinstance(value, bool):
        return wanted.lower() == ("true" if value else "false")
    if isinstance(value, list):
        return wanted in [str(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return value is not None and str(value) == wanted


def overlaps(start: Any, end: Any, interval: Interval) -> bool:
    """Whether the feature's time (``start``..``end``, or the instant ``start``) meets ``interval``."""
    first, last = _parse_time(start), _parse_time(end) or _parse_time(start)
    if first is None:
        return False
    low, high = interval
    return (high is None or first <= high) and (low is None or (last or first) >= low)


def filter_rows(rows: list[tuple[str, dict[str, Any], Any]], query: Query,
                temporal: tuple[str, str] | None) -> list[tuple[str, dict[str, Any], Any]]:
    """Apply id, property, datetime and bbox filters to in-memory rows."""
    if query.fid is not None:
        rows = [r for r in rows if r[0] == query.fid]
    for name, wanted in query.filters.items():
        rows = [r for r in rows if matches(r[1].get(name), wanted)]
    if query.interval is not None and temporal is not None:
        rows = [r for r in rows
                if overlaps(r[1].get(temporal[0]), r[1].get(temporal[1]), query.interval)]
    if query.bbox is not None and rows:
        geoms = np.array([g for _, _, g in rows], dtype=object)
        hit = shapely.intersects(geoms, shapely.box(*query.bbox))
        rows = [r for r, h in zip(rows, hit.tolist(), strict=True) if h]
    return rows


def layer_positions(layer: geojson.Layer, query: Query, ids: Iterable[int] | None) -> np.ndarray:
    """Positions in ``layer`` among ``ids`` whose geometry meets ``query.bbox`` (exactly)."""
    positions = geojson.select_ids(layer, query.bbox, ids)
    if query.bbox is not None and len(positions):
        hit = shapely.intersects(layer.geoms[positions], shapely.box(*query.bbox))
        positions = positions[hit]
    return positions


def rows_by_id(session: Session, model: Any, columns: Sequence[Any],
               ids: Sequence[int]) -> Iterable[Any]:
    """Rows ``(id, *columns)`` of ``model`` for ``ids`` (ascending, as pages are).

    A page of consecutive ids is one primary-key range scan: a long ``IN`` list costs
    PostgreSQL more to plan than to run.
    """
    if not ids:
        return []
    wanted = set(ids)
    first, last = min(ids), max(ids)
    if last - first < 4 * len(ids):
        stmt = select(model.id, *columns).where(model.id >= first, model.id <= last)
        return [row for row in session.execute(stmt) if row[0] in wanted]
    out = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(model.id, *columns).where(model.id.in_(chunk))))
    return out


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[Sequence[int]]:
    # SQLite limits bound parameters per statement; 900 stays far below every limit.
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# --- communities -----------------------------------------------------------------------------

def _community_levels(session: Session) -> dict[str, str]:
    from disaster.warnings.state import community_max_levels

    return {code: level.value for code, level in community_max_levels(session).items()}


def _community_ids(session: Session, query: Query, columns: dict[str, Any],
                   levels: dict[str, str] | None = None) -> list[int] | None:
    """Row ids of communities meeting the id and column filters; ``None``: no such filter."""
    from disaster.communities import Community

    wanted = dict(query.filters)
    if query.fid is not None:
        wanted["code"] = query.fid
    if not wanted:
        return None
    stmt = select(Community.id, Community.code)
    for name, value in wanted.items():
        if name in columns:
            stmt = stmt.where(columns[name] == value)
    rows = session.execute(stmt).all()
    if "warning_level" in wanted and levels is not None:
        rows = [r for r in rows if levels.get(r[1]) == wanted["warning_level"]]
    return [r[0] for r in rows]


def _select_communities(session: Session, query: Query) -> Selection:
    from disaster.communities import Community

    columns = {"code": Community.code, "name": Community.name,
               "township_code": Community.township_code, "county_code": Community.county_code}
    levels = _community_levels(session)
    ids = _community_ids(session, query, columns, levels)
    layer = geojson.cache().layer(session, Community)

    def properties(db: Session, page: list[int]) -> dict[int, tuple[str, dict[str, Any]]]:
        out = {}
        for row_id, code, name, township, county, population, households in rows_by_id(
                db, Community, (Community.code, Community.name, Community.township_code,
                                Community.county_code, Community.population,
                                Community.households), page):
            out[row_id] = (code, {"code": code, "name": name, "township_code": township,
                                  "county_code": county, "population": population,
                                  "households": households, "warning_level": levels.get(code)})
        return out

    return LayerSelection(layer, layer_positions(layer, query, ids), properties)


def _select_coverage(session: Session, query: Query) -> Selection:
    from disaster.communities import Community
    from disaster.officers import Officer, coverage

    columns = {"code": Community.code, "township_code": Community.township_code,
               "county_code": Community.county_code}
    by_code = {c["code"]: c for c in coverage(session)["communities"]}
    names = dict(session.execute(select(Officer.id, Officer.name)).all())
    wanted = {k: v for k, v in query.filters.items() if k in columns}
    ids = _community_ids(session, Query(fid=query.fid, filters=wanted), columns)
    covered = query.filters.get("covered")
    if covered is not None:
        flag = covered.lower() == "true"
        codes = [code for code, c in by_code.items() if (c["primary"] is not None) == flag]
        codes = {code for code, c in by_code.items() if (c["primary"] is not None) == flag}
        chosen = [i for i, code in session.execute(select(Community.id, Community.code))
                  if code in codes]
        ids = list(set(chosen) & set(ids)) if ids is not None else list(chosen)
    layer = geojson.cache().layer(session, Community)

    def properties(db: Session, page: list[int]) -> dict[int, tuple[str, dict[str, Any]]]:
        out = {}
        for row_id, code, name, township, county in rows_by_id(
                db, Community, (Community.code, Community.name, Community.township_code,
                                Community.county_code), page):
            c = by_code.get(code, {})
            primary, backup = c.get("primary"), c.get("backup")
            out[row_id] = (code, {"code": code, "name": name, "township_code": township,
                                  "county_code": county, "primary": primary,
                                  "primary_name": names.get(primary), "backup": backup,
                                  "backup_name": names.get(backup),
                                  "covered": primary is not None})
        return out

    return LayerSelection(layer, layer_positions(layer, query, ids), properties)


# --- hazard zones ------------------------------------------------------------------------------

def _select_hazard_zones(session: Session, query: Query) -> Selection:
    from disaster.hazards import HazardZone

    props: dict[int, tuple[str, dict[str, Any]]] = {}
    for r in session.execute(select(HazardZone.id, HazardZone.code, HazardZone.name,
                                    HazardZone.kind, HazardZone.level, HazardZone.source)):
        p = {"code": r.code, "name": r.name, "kind": _enum(r.kind), "level": r.level,
             "source": r.source}
        if query.fid is not None and r.code != query.fid:
            continue
        if all(matches(p.get(k), v) for k, v in query.filters.items()):
            props[r.id] = (r.code, p)
    layer = geojson.cache().layer(session, HazardZone)
    return LayerSelection(layer, layer_positions(layer, query, props),
                          lambda db, page: {i: props[i] for i in page if i in props})


# --- shelters, depots ----------------------------------------------------------------------------

def _select_shelters(session: Session, query: Query) -> Selection:
    from shelters import safety
    from shelters.models import Shelter

    shelters = list(session.scalars(select(Shelter).order_by(Shelter.code)))
    verdicts = safety.assess(session, shelters)
    rows = []
    for s in shelters:
        capacity, occupancy = s.capacity or 0, s.occupancy or 0
        rows.append((s.code, {
            "code": s.code, "name": s.name, "kind": _enum(s.kind),
            "shelter_class": _enum(s.shelter_class), "capacity": s.capacity,
            "occupancy": s.occupancy, "available": max(0, capacity - occupancy),
            "status": _enum(s.status), "safe": verdicts[s.code].safe,
            "county_code": s.county_code, "address": s.address}, _shape(s.geom)))
    return ListSelection(filter_rows(rows, query, None))


def _select_depots(session: Session, query: Query) -> Selection:
    from stockpile.models import Depot

    # Public fields only: where a depot is and whom to ask; stock stays behind /api/v1.
    rows = [(d.code, {"code": d.code, "name": d.name, "level": _enum(d.level),
                      "county_code": d.county_code, "address": d.address}, _shape(d.geom))
            for d in session.scalars(select(Depot).order_by(Depot.code))]
    return ListSelection(filter_rows(rows, query, None))


# --- alerts ----------------------------------------------------------------------------------------

def _alert_geometry(session: Session, alert_id: int, codes: list[str]) -> Any:
    """The union of an alert's community polygons (from the geometry cache; memoised)."""
    from disaster.communities import Community

    layer = geojson.cache().layer(session, Community)
    memo: dict = current_app.extensions.setdefault("ogc_alert_geometries", {})
    key = (alert_id, layer.signature, layer.loaded_at)
    if key in memo:
        return memo[key]
    ids = set()
    for chunk in _chunks(codes):
        ids.update(session.scalars(select(Community.id).where(Community.code.in_(chunk))))
    positions = np.flatnonzero(np.isin(layer.ids, np.fromiter(ids, dtype=np.int64)))
    geom = shapely.union_all(layer.geoms[positions]) if len(positions) else None
    if len(memo) > 512:
        memo.clear()
    memo[key] = geom
    return geom


def _select_alerts(session: Session, query: Query) -> Selection:
    from disaster.communities import Community
    from disaster.warnings import cap
    from disaster.warnings.levels import HAZARD_NAMES_ZH, LEVEL_NAMES_ZH
    from disaster.warnings.models import Alert, AlertStatus

    alerts = list(session.scalars(select(Alert).where(Alert.status == AlertStatus.ACTIVE)
                                  .order_by(Alert.sent, Alert.id)))
    wanted = sorted({c for a in alerts for c in a.communities})
    names: dict[str, str] = {}
    for chunk in _chunks(wanted):
        names.update(session.execute(select(Community.code, Community.name)
                                     .where(Community.code.in_(chunk))).all())
    rows = []
    for a in alerts:
        # CAP 1.2 fields as the alert's CAP document carries them (disaster.warnings.cap).
        rows.append((a.identifier, {
            "identifier": a.identifier, "sender": a.sender, "sent": _iso(a.sent),
            "status": "Actual", "msgType": _enum(a.msg_type), "scope": "Public",
            "category": "Met",
            "event": f"{HAZARD_NAMES_ZH[a.hazard]}{LEVEL_NAMES_ZH[a.level]}预警",
            "urgency": cap._URGENCY[a.level], "severity": a.level.cap_severity,
            "certainty": "Likely", "effective": _iso(a.sent), "expires": _iso(a.expires),
            "headline": a.headline, "description": a.description,
            "areaDesc": "、".join(names.get(c, c) for c in a.communities),
            "hazard": _enum(a.hazard), "level": _enum(a.level), "county_code": a.county_code,
            "communities": list(a.communities), "references": list(a.references or [])},
            _alert_geometry(session, a.id, list(a.communities))))
    return ListSelection(filter_rows(rows, query, ("sent", "expires")))


# --- reports ---------------------------------------------------------------------------------------

def _select_reports(session: Session, query: Query) -> Selection:
    from web.data_io import export_rows

    # The same rows as ``disaster export reports``; the id is the report's number.
    data = export_rows(session, "reports")
    rows = []
    for row, geom in zip(data.rows, data.geometries, strict=True):
        props = dict(row)
        for name in ("occurred_at", "submitted_at"):
            props[name] = _iso(_parse_time(props[name]))
        rows.append((str(row["id"]), props, geom))
    located = [r for r in rows if r[2] is not None] if query.bbox is not None else rows
    return ListSelection(filter_rows(located, query, ("occurred_at", "occurred_at")))


def _report_properties() -> dict[str, str]:
    from disaster.reports.models import INDICATORS, Report

    props = {"id": "integer", "event": "integer", "community": "string", "kind": "string",
             "hazard": "string", "occurred_at": "string:date-time",
             "submitted_at": "string:date-time", "is_latest": "boolean"}
    for name in INDICATORS:
        column = Report.__table__.c[name]
        props[name] = "number" if column.type.python_type is float else "integer"
    props["notes"] = "string"
    return props


def registry() -> dict[str, Collection]:
    """Every collection this service can offer, by id (visibility is decided by the view)."""
    community_props = {"code": "string", "name": "string", "township_code": "string",
                       "county_code": "string", "population": "integer",
                       "households": "integer", "warning_level": "string"}
    collections = [
        Collection("shelters", _l("Emergency shelters"),
                   _l("Shelters with capacity, current occupancy, status and safety under "
                      "the current warnings."), "point",
                   {"code": "string", "name": "string", "kind": "string",
                    "shelter_class": "string", "capacity": "integer", "occupancy": "integer",
                    "available": "integer", "status": "string", "safe": "boolean",
                    "county_code": "string", "address": "string"},
                   ("code", "kind", "status", "safe", "county_code"), _select_shelters),
        Collection("hazard-zones", _l("Hazard zones"),
                   _l("Flood-prone, waterlogging, landslide and other hazard zones."),
                   "multipolygon",
                   {"code": "string", "name": "string", "kind": "string", "level": "integer",
                    "source": "string"},
                   ("code", "kind", "level"), _select_hazard_zones),
        Collection("alerts", _l("Active warnings"),
                   _l("Warnings in force, one feature per CAP 1.2 message, with the outline "
                      "of the communities it covers."), "multipolygon",
                   {"identifier": "string", "sender": "string", "sent": "string:date-time",
                    "status": "string", "msgType": "string", "scope": "string",
                    "category": "string", "event": "string", "urgency": "string",
                    "severity": "string", "certainty": "string",
                    "effective": "string:date-time", "expires": "string:date-time",
                    "headline": "string", "description": "string", "areaDesc": "string",
                    "hazard": "string", "level": "string", "county_code": "string",
                    "communities": "array", "references": "array"},
                   ("identifier", "hazard", "level", "severity", "msgType", "county_code",
                    "communities"), _select_alerts, temporal=("sent", "expires"),
                   item_title="headline"),
        Collection("communities", _l("Communities"),
                   _l("Villages and residential communities with population and their current "
                      "warning level."), "multipolygon", community_props,
                   ("code", "name", "township_code", "county_code", "warning_level"),
                   _select_communities),
        Collection("depots", _l("Relief depots"),
                   _l("Relief material depots (location and address; stock is not public)."),
                   "point",
                   {"code": "string", "name": "string", "level": "string",
                    "county_code": "string", "address": "string"},
                   ("code", "level", "county_code"), _select_depots),
        Collection("reports", _l("Disaster reports"),
                   _l("Initial, follow-up and verified disaster reports with their figures."),
                   "point", _report_properties(),
                   ("community", "kind", "hazard", "event", "is_latest"), _select_reports,
                   temporal=("occurred_at", "occurred_at"), item_title="community"),
        Collection("officer-coverage", _l("Officers' coverage"),
                   _l("Every community with its primary and backup disaster information "
                      "officer."), "multipolygon",
                   {"code": "string", "name": "string", "township_code": "string",
                    "county_code": "string", "primary": "integer", "primary_name": "string",
                    "backup": "integer", "backup_name": "string", "covered": "boolean"},
                   ("code", "township_code", "county_code", "covered"), _select_coverage),
    ]
    return {c.id: c for c in collections}


DEFAULT_PUBLIC = ("shelters", "hazard-zones", "alerts")
