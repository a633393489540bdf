"""What stock warnings were pushed to people, so that each is notified once per episode."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class StockWarningNotice(Base):
    """One stock warning (``low_stock``, ``expiring``, ``expired``) that was notified.

    ``active`` stays true while the warning lasts; a run that no longer sees it clears the
    notice, and when the same warning comes back it is notified again (``episodes`` counts
    how often). Depot and item are kept as codes: the row records what was said.
    """

    __tablename__ = "stock_warning_notices"
    __table_args__ = (UniqueConstraint("kind", "depot_code", "item_code", "lot"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))
    depot_code: Mapped[str] = mapped_column(String(32), index=True)
    item_code: Mapped[str] = mapped_column(String(32))
    lot: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    episodes: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
