"""Administrative areas: city, county and township with GB/T 2260 codes."""

from __future__ import annotations

import enum

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

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
