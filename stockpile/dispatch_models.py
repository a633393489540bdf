"""Configuration the planner reads: needs profiles, minimum stock, vehicles, road segments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, geometry, intpk, utcnow


class NeedsProfile(Base):
    """Per-person relief norms (DESIGN.md §4.5) and the rates used to model needs.

    ``norms``: ``[{"item", "per": "person_day"|"person_week"|"person"|"household",
    "quantity", "applies_to": "evacuated"|"needing_aid"|"all"}]``; ``model``: rates of the
    modelled needs (see :mod:`stockpile.needs`).
    """

    __tablename__ = "needs_profiles"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str | None] = mapped_column(String(300))
    days: Mapped[int] = mapped_column(Integer, default=3)
    norms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockMinimum(Base):
    """Below this available quantity a depot's item is low on stock (warned)."""

    __tablename__ = "stock_minimums"
    __table_args__ = (UniqueConstraint("depot_id", "item_id"),)

    id: Mapped[intpk]
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    minimum: Mapped[float] = mapped_column(Numeric(14, 3))


class Vehicle(Base):
    """A truck based at a depot; its payload splits orders into truckloads and, when
    ``trips`` is set, caps what the depot can ship in one plan."""

    __tablename__ = "vehicles"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    payload_kg: Mapped[float] = mapped_column(Float)
    volume_m3: Mapped[float] = mapped_column(Float)
    trips: Mapped[int | None] = mapped_column(Integer)


class RoadSegment(Base):
    """One imported road line; the planner routes over them with networkx."""

    __tablename__ = "road_segments"

    id: Mapped[intpk]
    geom: Mapped[WKBElement] = mapped_column(geometry("LINESTRING", nullable=False))
    length_km: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))
