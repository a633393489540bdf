"""Communities (villages and residential communities) with population and vulnerable groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from disaster.errors import DisasterValidationError
from gis.db import Base
from gis.messages import msg
from gis.types import geometry, intpk


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    township_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    population: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    elderly: Mapped[int] = mapped_column(Integer, default=0)
    children: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[int] = mapped_column(Integer, default=0)
    farmland_share: Mapped[float | None] = mapped_column(Float)
    urban: Mapped[bool] = mapped_column(Boolean, default=False)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[WKBElement | None] = mapped_column(geometry("MULTIPOLYGON"))
    point: Mapped[WKBElement | None] = mapped_column(geometry("POINT"))


# --- services -------------------------------------------------------------------------

_DEFAULTS = {"population": 0, "households": 0, "elderly": 0, "children": 0, "disabled": 0,
             "urban": False, "generated": False}
# Tolerance (degrees, ≈1 cm) for a representative point on the polygon's edge.
_POINT_TOLERANCE = 1e-7


def upsert_communities(session: Session, actor: Actor,
                       records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update communities by their 12-digit code; administrators only.

    The township and county must exist, the township must lie in the county and prefix the
    code; vulnerable-group counts cannot exceed the population; the point must lie in the
    polygon. Without a point, the stored one is kept while still inside the polygon, else the
    polygon's representative point is used.

    Returns ``(created, updated, unchanged)``; raises :class:`DisasterValidationError` with
    ``"row N: field"`` entries and writes nothing when any record is bad.
    """
    from disaster.record_schemas import CommunityRecord  # it imports the areas' enums

    require_role(actor, Role.ADMIN, action="loading communities")
    errors = u.RowErrors()
    prepared = u.validate_records(records, CommunityRecord, errors, what=msg("communities"))
    existing = u.load_existing(session, Community, CommunityRecord.columns(),
                               [v["code"] for _, v in prepared])
    merged = {v["code"]: (existing.get(v["code"], {}) | v) for _, v in prepared}
    area_codes = sorted({m.get("township_code") for m in merged.values()}
                        | {m.get("county_code") for m in merged.values()} - {None})
    areas: dict[str, tuple[AreaLevel, str | None]] = {}
    for start in range(0, len(area_codes), 2000):
        for code, level, parent in session.execute(
                select(Area.code, Area.level, Area.parent_code)
                .where(Area.code.in_(area_codes[start:start + 2000]))):
            areas[code] = (level, parent)
    points_needed: list[tuple[dict, Any]] = []
    for row, values in prepared:
        c = merged[values["code"]]
        if values["code"] not in existing:
            errors.require(row, c, ("name", "township_code", "county_code"), msg("community"))
            if c.get("geom") is None and c.get("point") is None \
                    and not errors.has(row, "geometry", "point"):
                # Without polygon or point a community is nowhere: the map, the risk index
                # and the evacuation plan cannot place it.
                errors.add(row, "geometry", msg("required for a new community: a polygon "
                                                "or a point (lon/lat)"), "required")
        township, county = c.get("township_code"), c.get("county_code")
        if township is not None:
            if areas.get(township, (None,))[0] != AreaLevel.TOWNSHIP:
                errors.add(row, "township_code", msg("unknown township %(code)s", code=township),
                           "unknown")
            elif county is not None and areas[township][1] != county:
                errors.add(row, "township_code", msg("township %(township)s is not in county "
                                                     "%(county)s", township=township,
                                                     county=county))
            if not values["code"].startswith(township):
                errors.add(row, "code", msg("%(code)s does not start with township %(township)s",
                                            code=values["code"], township=township))
        if county is not None and areas.get(county, (None,))[0] != AreaLevel.COUNTY:
            errors.add(row, "county_code", msg("unknown county %(code)s", code=county), "unknown")
        population = c.get("population") or 0
        for key in ("households", "elderly", "children", "disabled"):
            if (c.get(key) or 0) > population and not errors.has(row, "population"):
                errors.add(row, key, msg("%(value)s exceeds the population %(population)s",
                                         value=c[key], population=population), "too_large")
        geom, pt = c.get("geom"), c.get("point")
        if geom is not None and "point" in values and pt is not None:
            if geom.distance(pt) > _POINT_TOLERANCE:
                errors.add(row, "point", msg("lies outside the community polygon"))
        elif "geom" in values and geom is not None and "point" not in values:
            points_needed.append((values, pt))
    errors.raise_if_any(msg("communities"), DisasterValidationError)
    if points_needed:
        geoms = [v["geom"] for v, _ in points_needed]
        inside = [pt is not None and g.distance(pt) <= _POINT_TOLERANCE
                  for g, (_, pt) in zip(geoms, points_needed, strict=True)]
        reps = shapely.point_on_surface(geoms)
        for (values, pt), keep, rep in zip(points_needed, inside, reps, strict=True):
            values["point"] = pt if keep else rep
    plan = u.plan_changes(prepared, existing, _DEFAULTS)
    return u.apply_plan(session, actor, Community, "community", plan,
                        geometry_columns=("geom", "point"))
