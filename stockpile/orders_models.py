"""Dispatch plans, the orders they produce and their lines."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class DispatchPlan(Base):
    """One optimisation run: its stated ``problem`` and result, kept so anyone can re-solve."""

    __tablename__ = "dispatch_plans"

    id: Mapped[intpk]
    status: Mapped[PlanStatus] = mapped_column(value_enum(PlanStatus, "plan_status"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(80))
    profile: Mapped[str | None] = mapped_column(String(32))
    solver: Mapped[str] = mapped_column(String(40))
    objective: Mapped[float] = mapped_column(Float)
    solve_seconds: Mapped[float] = mapped_column(Float)
    problem: Mapped[dict[str, Any]] = mapped_column(JSON)
    unmet: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    # Orders not delivered this many hours after approval are late (None: the default,
    # stockpile.tracking.DEFAULT_DUE_HOURS).
    due_hours: Mapped[int | None] = mapped_column(Integer)


class DispatchOrder(Base):
    """What one depot sends to one destination; moves through :class:`OrderStatus`."""

    __tablename__ = "dispatch_orders"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("dispatch_plans.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    destination: Mapped[str] = mapped_column(String(32), index=True)
    destination_kind: Mapped[str] = mapped_column(String(20))  # community | shelter
    distance_km: Mapped[float] = mapped_column(Float)
    status: Mapped[OrderStatus] = mapped_column(value_enum(OrderStatus, "order_status"), index=True)
    loads: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(300))


class DispatchOrderLine(Base):
    """One item of an order; ``allocations`` records the lots reserved on confirmation."""

    __tablename__ = "dispatch_order_lines"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("dispatch_orders.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    allocations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
