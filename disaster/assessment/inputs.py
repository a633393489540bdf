"""Columnar inputs of the assessment: communities, hazard zones, officers, warnings, history.

Everything is read once into numpy arrays so that the index and the impact model for tens of
thousands of communities are vectorised; the database stays the system of record.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.areas import Area
from disaster.communities import Community
from disaster.hazards import HazardZone
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.warnings.state import CommunityWarning
from gis.geometry import UTM50N, WGS84

_INT_FIELDS = ("population", "households", "elderly", "children", "disabled")


@dataclass
class CommunityTable:
    """One row per community, as parallel arrays (index ``i`` is the same community everywhere)."""

    code: np.ndarray
    name: np.ndarray
    township_code: np.ndarray
    county_code: np.ndarray
    population: np.ndarray
    households: np.ndarray
    elderly: np.ndarray
    children: np.ndarray
    disabled: np.ndarray
    farmland_share: np.ndarray
    urban: np.ndarray
    area_km2: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    geometry: np.ndarray | None = None
    area_names: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.code.size)

    def index(self) -> dict[str, int]:
        """``{community code: row}``."""
        return {c: i for i, c in enumerate(self.code.tolist())}

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]],
                     area_names: dict[str, str] | None = None) -> CommunityTable:
        """Build from community records (TEAM_BRIEF record format: ``geometry`` and ``point``
        shapely objects in EPSG:4326; ``area_km2`` may be given instead of a geometry)."""
        geoms = np.array([r.get("geometry") for r in records] + [None], dtype=object)[:-1]
        has_geom = np.array([g is not None for g in geoms], dtype=bool)
        points = [r.get("point") for r in records]
        lon = np.empty(len(records))
        lat = np.empty(len(records))
        for i, (p, g) in enumerate(zip(points, geoms, strict=True)):
            p = p if p is not None else (g.representative_point() if g is not None else None)
            lon[i], lat[i] = (p.x, p.y) if p is not None else (np.nan, np.nan)
        area = np.array([float(r.get("area_km2") or 0.0) for r in records])
        if has_geom.any():
            area[has_geom] = geodesic_area_km2(geoms[has_geom])
        return cls(
            code=np.array([str(r["code"]) for r in records], dtype=object),
            name=np.array([str(r.get("name") or r["code"]) for r in records], dtype=object),
            township_code=np.array([str(r.get("township_code") or str(r["code"])[:9])
                                    for r in records], dtype=object),
            county_code=np.array([str(r.get("county_code") or str(r["code"])[:6])
                                  for r in records], dtype=object),
            **{name: np.array([int(r.get(name) or 0) for r in records], dtype=np.int64)
               for name in _INT_FIELDS},
            farmland_share=np.array([float(r["farmland_share"]) if r.get("farmland_share")
                                     is not None else 0.0 for r in records]),
            urban=np.array([bool(r.get("urban")) for r in records], dtype=bool),
            area_km2=area, lon=lon, lat=lat,
            geometry=geoms if has_geom.any() else None,
            area_names=dict(area_names or {}),
        )


def geodesic_area_km2(geoms: np.ndarray) -> np.ndarray:
    """Areas in km² of lon/lat polygons, projected to UTM 50N (宿州's zone)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(WGS84, UTM50N, always_xy=True)
    projected = shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return shapely.area(projected) / 1e6


def load_communities(session: Session, *, with_geometry: bool = True) -> CommunityTable:
    """Every community, ordered by code, with township and county names."""
    columns = [Community.code, Community.name, Community.township_code, Community.county_code,
               Community.population, Community.households, Community.elderly,
               Community.children, Community.disabled, Community.farmland_share,
               Community.urban, func.ST_X(Community.point), func.ST_Y(Community.point)]
    if with_geometry:
        columns.append(func.ST_AsBinary(Community.geom))
    rows = session.execute(select(*columns).order_by(Community.code)).all()
    records: list[dict[str, Any]] = []
    wkbs = []
    for row in rows:
        records.append({
            "code": row[0], "name": row[1], "township_code": row[2], "county_code": row[3],
            "population": row[4], "households": row[5], "elderly": row[6], "children": row[7],
            "disabled": row[8], "farmland_share": row[9], "urban": row[10],
            "point": shapely.Point(row[11], row[12]) if row[11] is not None else None,
        })
        wkbs.append(bytes(row[13]) if with_geometry and row[13] is not None else None)
    if with_geometry:
        geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
        for record, geom in zip(records, geoms, strict=True):
            record["geometry"] = geom
    names = {code: name for code, name in session.execute(select(Area.code, Area.name))}
    return CommunityTable.from_records(records, names)


def load_hazard_zones(session: Session) -> tuple[np.ndarray, list[str], list[int]]:
    """``(polygons, kinds, levels)`` of every hazard zone."""
    rows = session.execute(select(func.ST_AsBinary(HazardZone.geom), HazardZone.kind,
                                  HazardZone.level).where(HazardZone.geom.is_not(None))).all()
    geoms = shapely.from_wkb(np.array([bytes(r[0]) for r in rows] + [None], dtype=object))[:-1]
    return geoms, [str(getattr(r[1], "value", r[1])) for r in rows], [int(r[2] or 2) for r in rows]


def officer_coverage(session: Session, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(has_primary, has_backup)`` boolean arrays aligned with ``codes`` (active officers)."""
    pos = {c: i for i, c in enumerate(codes.tolist())}
    primary = np.zeros(codes.size, dtype=bool)
    backup = np.zeros(codes.size, dtype=bool)
    rows = session.execute(
        select(OfficerAssignment.community_code, OfficerAssignment.role)
        .join(Officer, Officer.id == OfficerAssignment.officer_id)
        .where(Officer.active.is_(True))).all()
    for code, role in rows:
        i = pos.get(code)
        if i is None:
            continue
        if AssignmentRole(role) == AssignmentRole.PRIMARY:
            primary[i] = True
        else:
            backup[i] = True
    return primary, backup


@dataclass(frozen=True)
class WarningState:
    """A community's current warning for one hazard (from ``community_warnings``)."""

    hazard: str
    level: str
    peak_value: float | None
    metric: str | None


def current_warnings(session: Session) -> dict[str, list[WarningState]]:
    """``{community code: [WarningState, ...]}`` for every warned community."""
    out: dict[str, list[WarningState]] = {}
    rows = session.execute(select(CommunityWarning.community_code, CommunityWarning.hazard,
                                  CommunityWarning.level, CommunityWarning.peak_value,
                                  CommunityWarning.metric)).all()
    for code, hazard, level, peak, metric in rows:
        out.setdefault(code, []).append(WarningState(
            str(getattr(hazard, "value", hazard)), str(getattr(level, "value", level)),
            None if peak is None else float(peak), metric))
    return out


def warning_history(session: Session, codes: np.ndarray) -> np.ndarray | None:
    """Number of warnings (new CAP ``Alert`` messages) each community has received so far.

    Returns ``None`` when the warning engine's tables are not part of this build, so the
    history component is left out rather than counted as zero.
    """
    try:
        models = importlib.import_module("disaster.warnings.models")
    except ImportError:
        return None
    alert = getattr(models, "Alert", None)
    if alert is None:
        return None
    pos = {c: i for i, c in enumerate(codes.tolist())}
    counts = np.zeros(codes.size)
    msg_alert = models.MsgType.ALERT
    for communities in session.scalars(select(alert.communities).where(alert.msg_type == msg_alert)):
        for code in communities or ():
            i = pos.get(code)
            if i is not None:
                counts[i] += 1
    return counts
