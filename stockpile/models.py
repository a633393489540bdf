"""Depots, relief items, the append-only ledger and the per-lot balance it maintains."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, geometry, intpk, utcnow, value_enum


class DepotLevel(enum.StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"


class Depot(Base):
    __tablename__ = "depots"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[DepotLevel] = mapped_column(value_enum(DepotLevel, "depot_level"))
    county_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[WKBElement | None] = mapped_column(geometry("POINT"))


class Item(Base):
    """A relief item (帐篷, 棉被…); ``countable`` items move in whole units only."""

    __tablename__ = "items"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40))
    countable: Mapped[bool] = mapped_column(Boolean, default=True)
    pack_size: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    volume_m3: Mapped[float | None] = mapped_column(Float)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)


class MovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUSTMENT = "adjustment"


class StockMovement(Base):
    """One ledger line; never updated or deleted. ``quantity`` is signed (+in, −out)."""

    __tablename__ = "stock_movements"

    id: Mapped[intpk]
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(value_enum(MovementKind, "movement_kind"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    lot: Mapped[str] = mapped_column(String(40), default="")
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(80), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80), default="system")


class StockLevel(Base):
    """Balance per depot, item and lot, kept in step with the ledger in the same transaction.

    It is the row locked (``SELECT … FOR UPDATE`` on PostGIS) when stock moves, and makes
    stock on hand a read of a few rows instead of a sum over the whole ledger.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (UniqueConstraint("depot_id", "item_id", "lot"),)

    id: Mapped[intpk]
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    lot: Mapped[str] = mapped_column(String(40), default="")
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    on_hand: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
