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
from gis.messages import msg
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
    from disaster.record_schemas import AreaRecord  # it imports AreaLevel from here

    require_role(actor, Role.ADMIN, action="loading administrative areas")
    errors = u.RowErrors()
    prepared = u.validate_records(records, AreaRecord, errors, what=msg("areas"))
    existing = u.load_existing(session, Area, AreaRecord.columns(),
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
            errors.require(row, area, ("name", "level"), msg("area"))
        level, parent, area_code = area.get("level"), area.get("parent_code"), area["code"]
        if level is None:
            continue
        if len(area_code) != CODE_LENGTH[level]:
            errors.add(row, "code", msg("a %(level)s code has %(digits)s digits",
                                        level=msg(level.value), digits=CODE_LENGTH[level]))
        if level == AreaLevel.CITY:
            if parent is not None and parent in levels:
                errors.add(row, "parent_code", msg("a city has no parent area here"))
            continue
        if parent is None:
            errors.add(row, "parent_code", msg("required for a %(level)s",
                                               level=msg(level.value)), "required")
            continue
        if parent not in levels:
            errors.add(row, "parent_code", msg("unknown parent area %(code)s", code=parent),
                       "unknown")
        elif levels[parent] != _PARENT_LEVEL[level]:
            errors.add(row, "parent_code", msg("parent %(code)s is not a %(level)s", code=parent,
                                               level=msg(_PARENT_LEVEL[level].value)))
        elif not area_code.startswith(parent[:4 if level == AreaLevel.COUNTY else 6]):
            errors.add(row, "code", msg("%(code)s does not belong to parent %(parent)s",
                                        code=area_code, parent=parent))
    errors.raise_if_any(msg("areas"), DisasterValidationError)
    plan = u.plan_changes(prepared, existing, {"generated": False})
    # Parents before children: the parent_code foreign key is checked row by row.
    plan.creates.sort(key=lambda v: _LEVEL_RANK[v["level"]])
    return u.apply_plan(session, actor, Area, "area", plan, geometry_columns=("geom",))
