"""Communities (villages and residential communities) with population and vulnerable groups."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
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
