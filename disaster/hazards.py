"""Hazard zones: flood-prone lowland, waterlogging, landslide… with a level."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.errors import DisasterValidationError
from gis.db import Base
from gis.messages import msg
from gis.types import geometry, intpk, value_enum


class HazardKind(enum.StrEnum):
    FLOOD_PRONE = "flood_prone"
    WATERLOGGING = "waterlogging"
    LANDSLIDE = "landslide"
    COLLAPSE = "collapse"
    DEBRIS_FLOW = "debris_flow"
    SUBSIDENCE = "subsidence"


class HazardZone(Base):
    __tablename__ = "hazard_zones"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[HazardKind] = mapped_column(value_enum(HazardKind, "hazard_kind"), index=True)
    # 1 low, 2 medium, 3 high.
    level: Mapped[int] = mapped_column(Integer, default=2)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(200))
    geom: Mapped[WKBElement | None] = mapped_column(geometry("MULTIPOLYGON"))


# --- services -------------------------------------------------------------------------

def upsert_hazard_zones(session: Session, actor: Actor,
                        records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update hazard zones by code (kind, level 1–3, polygon); administrators only.

    Returns ``(created, updated, unchanged)``; raises :class:`DisasterValidationError` with
    ``"row N: field"`` entries and writes nothing when any record is bad.
    """
    from disaster.record_schemas import HazardZoneRecord  # it imports HazardKind from here

    require_role(actor, Role.ADMIN, action="loading hazard zones")
    errors = u.RowErrors()
    prepared = u.validate_records(records, HazardZoneRecord, errors, what=msg("hazard zones"))
    existing = u.load_existing(session, HazardZone, HazardZoneRecord.columns(),
                               [v["code"] for _, v in prepared])
    for row, values in prepared:
        if values["code"] not in existing:
            errors.require(row, values, ("name", "kind", ("geometry", "geom")),
                           msg("hazard zone"))
    errors.raise_if_any(msg("hazard zones"), DisasterValidationError)
    plan = u.plan_changes(prepared, existing, {"level": 2, "generated": False})
    return u.apply_plan(session, actor, HazardZone, "hazard_zone", plan,
                        geometry_columns=("geom",))
