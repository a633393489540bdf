"""Administrative areas: city, county and township with GB/T 2260 codes."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.errors import DisasterValidationError
from gis.db import Base
from gis.types import geometry, intpk, value_enum


class AreaLevel(enum.StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


# Code lengths by level: 6 digits for city and county, 9 for townships (GB/T 2260 + 3).
CODE_LENGTH = {AreaLevel.CITY: 6, AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: 9}


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[AreaLevel] = mapped_column(value_enum(AreaLevel, "area_level"), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("areas.code", ondelete="RESTRICT"), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[WKBElement | None] = mapped_column(geometry("MULTIPOLYGON"))


# --- services -------------------------------------------------------------------------

_LEVEL_RANK = {AreaLevel.CITY: 0, AreaLevel.COUNTY: 1, AreaLevel.TOWNSHIP: 2}
_PARENT_LEVEL = {AreaLevel.COUNTY: AreaLevel.CITY, AreaLevel.TOWNSHIP: AreaLevel.COUNTY}


AREA_FIELDS = (
    u.Field("code", "code", u.digits(6, 9), required=True),
    u.Field("name", "name", u.nonempty_text(120)),
    u.Field("level", "level", u.choice(AreaLevel)),
    u.Field("parent_code", "parent_code", u.digits(6, 9)),
    u.Field("population", "population", u.integer(0)),
    u.Field("generated", "generated", u.boolean, nullable=False),
    u.Field("source", "source", u.text(200)),
    u.Field("geometry", "geom", u.polygon),
)


def upsert_areas(session: Session, actor: Actor,
                 records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update city, county and township areas by code; administrators only.

    Parents may come from the same batch or the database; a county's parent must be a city
    and a township's a county whose code prefixes its own (GB/T 2260).

    Returns
    -------
    tuple
        ``(created, updated, unchanged)`` counts.

    Raises
    ------
    DisasterValidationError
        With ``fields`` ``"row N: field"`` for every bad record; nothing is written.
    """
    require_role(actor, Role.ADMIN, action="loading administrative areas")
    fields = AREA_FIELDS
    errors = u.RowErrors()
    prepared = u.validate_records(records, fields, errors)
    existing = u.load_existing(session, Area, [f.column for f in fields],
                               [v["code"] for _, v in prepared])
    merged = {v["code"]: (existing.get(v["code"], {}) | v) for _, v in prepared}
    wanted_parents = {m.get("parent_code") for m in merged.values()} - set(merged) - {None}
    stored_levels = dict(session.execute(
        select(Area.code, Area.level).where(Area.code.in_(sorted(wanted_parents)))).all()
    ) if wanted_parents else {}
    levels = stored_levels | {c: m.get("level") for c, m in merged.items()}
    for row, values in prepared:
        area = merged[values["code"]]
        if values["code"] not in existing:
            errors.require(row, area, ("name", "level"), "area")
        level, parent, area_code = area.get("level"), area.get("parent_code"), area["code"]
        if level is None:
            continue
        if len(area_code) != CODE_LENGTH[level]:
            errors.add(row, "code", f"a {level.value} code has {CODE_LENGTH[level]} digits")
        if level == AreaLevel.CITY:
            if parent is not None and parent in levels:
                errors.add(row, "parent_code", "a city has no parent area here")
            continue
        if parent is None:
            errors.add(row, "parent_code", f"required for a {level.value}")
            continue
        if parent not in levels:
            errors.add(row, "parent_code", f"unknown parent area {parent}")
        elif levels[parent] != _PARENT_LEVEL[level]:
            errors.add(row, "parent_code",
                       f"parent {parent} is not a {_PARENT_LEVEL[level].value}")
        elif not area_code.startswith(parent[:4 if level == AreaLevel.COUNTY else 6]):
            errors.add(row, "code", f"{area_code} does not belong to parent {parent}")
    errors.raise_if_any("areas", DisasterValidationError)
    plan = u.plan_changes(prepared, existing, {"generated": False})
    # Parents before children: the parent_code foreign key is checked row by row.
    plan.creates.sort(key=lambda v: _LEVEL_RANK[v["level"]])
    return u.apply_plan(session, actor, Area, "area", plan, geometry_columns=("geom",))
