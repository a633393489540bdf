"""Read side used by needs, evacuation and assessment: the latest figures per community."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.reports.models import INDICATORS, Report


def latest_figures(session: Session, event_id: int | None = None) -> dict[str, dict[str, float]]:
    """``{community_code: {indicator: value}}`` from each community's latest report.

    With ``event_id`` only that event; otherwise the latest report of every open or closed
    event, summed per community across events (续报 are cumulative within one event).
    """
    stmt = select(Report).where(Report.is_latest.is_(True))
    if event_id is not None:
        stmt = stmt.where(Report.event_id == event_id)
    out: dict[str, dict[str, float]] = {}
    for report in session.scalars(stmt):
        row = out.setdefault(report.community_code, dict.fromkeys(INDICATORS, 0))
        for name in INDICATORS:
            row[name] += getattr(report, name) or 0
    return out
