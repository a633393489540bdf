"""Hazard zones: flood-prone lowland, waterlogging, landslide… with a level."""

from __future__ import annotations

import enum

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
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
