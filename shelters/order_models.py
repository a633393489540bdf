"""Issued evacuation orders: one per plan, one row per community told to move."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class EvacuationOrder(Base):
    """A reviewed evacuation plan issued by a duty officer to the communities' officers."""

    __tablename__ = "evacuation_orders"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("evacuation_plans.id", ondelete="CASCADE"),
                                         unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    people: Mapped[int] = mapped_column(Integer)


class EvacuationOrderCommunity(Base):
    """One community's part of an order: its people and shelters, and who acknowledged it."""

    __tablename__ = "evacuation_order_communities"
    __table_args__ = (UniqueConstraint("order_id", "community_code"),)

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("evacuation_orders.id", ondelete="CASCADE"),
                                          index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    people: Mapped[int] = mapped_column(Integer)
    unassigned: Mapped[int] = mapped_column(Integer, default=0)
    # [{"shelter": code, "people": n, "distance_km": km}] nearest first, as in the plan.
    destinations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_name: Mapped[str | None] = mapped_column(String(80))
