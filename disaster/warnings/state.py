"""The current warning level of each community per hazard: what every other part reads.

The warning engine keeps one row per (community, hazard) while a level is met and removes it
when the warning is cancelled or expires. Shelters, needs, dispatch and assessment read it
through :func:`current_levels` and never need to know how alerts are built.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster.warnings.levels import Hazard, WarningLevel, highest
from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class CommunityWarning(Base):
    __tablename__ = "community_warnings"
    __table_args__ = (UniqueConstraint("community_code", "hazard"),)

    id: Mapped[intpk]
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "hazard"))
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "warning_level"))
    # The CAP message (alerts.id) that carries this level; no FK so this table stands alone.
    alert_id: Mapped[int | None] = mapped_column(Integer, index=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The statistic that met the criterion, e.g. 112.0 with metric "precip_mm_3h".
    peak_value: Mapped[float | None] = mapped_column(Float)
    metric: Mapped[str | None] = mapped_column(String(40))


def current_levels(session: Session) -> dict[str, dict[Hazard, WarningLevel]]:
    """``{community_code: {hazard: level}}`` for every community with an active warning."""
    out: dict[str, dict[Hazard, WarningLevel]] = {}
    for code, hazard, level in session.execute(
        select(CommunityWarning.community_code, CommunityWarning.hazard, CommunityWarning.level)
    ):
        out.setdefault(code, {})[hazard] = level
    return out


def community_max_levels(session: Session) -> dict[str, WarningLevel]:
    """``{community_code: highest level over all hazards}`` for warned communities."""
    return {code: highest(set(by_hazard.values()))  # type: ignore[misc]
            for code, by_hazard in current_levels(session).items()}


def set_level(session: Session, community_code: str, hazard: Hazard, level: WarningLevel | None,
              *, alert_id: int | None = None, peak_value: float | None = None,
              metric: str | None = None, now: dt.datetime | None = None) -> None:
    """Record the community's current level for ``hazard`` (``None`` clears it).

    Called only by the warning engine inside its own audited transaction.
    """
    now = now or utcnow()
    row = session.scalar(select(CommunityWarning).where(
        CommunityWarning.community_code == community_code, CommunityWarning.hazard == hazard))
    if level is None:
        if row is not None:
            session.delete(row)
            # The warning ended: its 叫应 ends with it (a new warning asks again).
            from disaster.warnings.models import CommunityAck
            session.execute(delete(CommunityAck).where(
                CommunityAck.community_code == community_code, CommunityAck.hazard == hazard))
        return
    if row is None:
        row = CommunityWarning(community_code=community_code, hazard=hazard, level=level,
                               since=now)
        session.add(row)
    elif row.level != level:
        row.since = now
    row.level = level
    row.alert_id = alert_id
    row.peak_value = peak_value
    row.metric = metric
    row.updated_at = now
