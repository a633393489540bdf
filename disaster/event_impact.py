"""The peak warning of each community while a disaster event is open: estimates belong to the event.

The modelled impact (:mod:`disaster.assessment.impact`) is computed from the warnings in
force. When the warnings lift while the event is still open, the damage they brought has not
gone: the event keeps, per community and hazard, the highest warning level and the highest
accumulated rain it reached, and the assessment models from those as well as from the
current warnings. The model rises with both, so its figures are the event's peak figures (and
follow the administrator's curves). Closing the event ends it: the peaks of a closed event
are kept as a record but no longer count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster.events import DisasterEvent, EventStatus, coverage
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import CommunityWarning
from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum

RAIN_METRIC = "precip_mm"


class EventPeak(Base):
    """The highest warning one community reached for the event's hazard while it was open."""

    __tablename__ = "event_peaks"
    __table_args__ = (UniqueConstraint("event_id", "community_code", "hazard"),)

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    community_code: Mapped[str] = mapped_column(String(12))
    hazard: Mapped[Hazard] = mapped_column(value_enum(Hazard, "peak_hazard"))
    level: Mapped[WarningLevel] = mapped_column(value_enum(WarningLevel, "peak_level"))
    # The highest accumulated rain statistic (``precip_mm_*`` metrics only) and its metric.
    peak_value: Mapped[float | None] = mapped_column(Float)
    metric: Mapped[str | None] = mapped_column(String(40))
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def _is_rain(metric: str | None) -> bool:
    return bool(metric) and str(metric).startswith(RAIN_METRIC)


def record_peaks(session: Session, now: dt.datetime | None = None,
                 events: Iterable[DisasterEvent] | None = None) -> int:
    """Raise the stored peaks of open events to the current warnings; returns rows changed.

    Called after every warning evaluation and when an event is opened. Each open event
    counts the warnings of its own hazard in the communities its area covers.
    """
    now = now or utcnow()
    targets = [e for e in (events if events is not None else session.scalars(
        select(DisasterEvent).where(DisasterEvent.status == EventStatus.OPEN)))
        if e.status == EventStatus.OPEN]
    if not targets:
        return 0
    hazards = {e.hazard for e in targets}
    warnings: dict[Hazard, list[CommunityWarning]] = {}
    for w in session.scalars(select(CommunityWarning).where(CommunityWarning.hazard.in_(hazards))):
        warnings.setdefault(w.hazard, []).append(w)
    changed = 0
    added: list[dict[str, Any]] = []
    for event in targets:
        inside = coverage(event)
        rows = [w for w in warnings.get(event.hazard, []) if inside(w.community_code)]
        if not rows:
            continue
        held = {p.community_code: p for p in session.scalars(select(EventPeak).where(
            EventPeak.event_id == event.id, EventPeak.hazard == event.hazard))}
        for w in rows:
            rain = w.peak_value if _is_rain(w.metric) else None
            peak = held.get(w.community_code)
            if peak is None:
                added.append({"event_id": event.id, "community_code": w.community_code,
                              "hazard": event.hazard, "level": w.level, "peak_value": rain,
                              "metric": w.metric if rain is not None else None,
                              "first_at": now, "updated_at": now})
                changed += 1
                continue
            raised = False
            if w.level.rank > peak.level.rank:
                peak.level, raised = w.level, True
            if rain is not None and (peak.peak_value is None or rain > peak.peak_value):
                peak.peak_value, peak.metric, raised = rain, w.metric, True
            if raised:
                peak.updated_at = now
                changed += 1
    session.flush()
    if added:
        # one executemany: a storm's first evaluation adds a peak per warned community
        session.execute(insert(EventPeak), added)
    return changed


def held_warnings(session: Session, event_id: int | None = None) -> list[tuple[str, str, str,
                                                                           float | None,
                                                                           str | None]]:
    """Peaks held by open events (``event_id``: that event only, if open) as
    ``(community, hazard, level, peak_value, metric)`` tuples for the assessment."""
    stmt = (select(EventPeak.community_code, EventPeak.hazard, EventPeak.level,
                   EventPeak.peak_value, EventPeak.metric)
            .join(DisasterEvent, DisasterEvent.id == EventPeak.event_id)
            .where(DisasterEvent.status == EventStatus.OPEN))
    if event_id is not None:
        stmt = stmt.where(EventPeak.event_id == event_id)
    return [(code, Hazard(hazard).value, WarningLevel(level).value,
             None if peak is None else float(peak), metric)
            for code, hazard, level, peak, metric in session.execute(stmt)]
