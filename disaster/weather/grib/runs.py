"""Which model run (or analysis) each stored GRIB hour comes from, and supersession.

Rules (README, Forecast products): for one variable, hour and grid, an observed hour
(an analysis such as CMPAS) beats any forecast; among forecasts the newer run replaces the
older; a run never replaces an hour held from a newer run or from an observation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class GridOrigin(Base):
    """The run, step and source of one stored hourly grid (provider ``grib2``)."""

    __tablename__ = "weather_grid_origins"
    __table_args__ = (UniqueConstraint("provider", "variable", "valid_time", "geometry_key"),)

    id: Mapped[intpk]
    provider: Mapped[str] = mapped_column(String(40))
    variable: Mapped[str] = mapped_column(String(40))
    valid_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    geometry_key: Mapped[str] = mapped_column(String(64))
    # The configured source (file, folder or URL template) the hour came through.
    source: Mapped[str] = mapped_column(String(1000), index=True)
    run_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Hours from the run start to the end of the GRIB step this hour was taken from.
    step_hours: Mapped[float] = mapped_column(Float)
    observed: Mapped[bool] = mapped_column(Boolean, default=False)
    member: Mapped[int | None] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(String(1000))
    ingested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def rank(observed: bool, run_time: dt.datetime) -> tuple[bool, dt.datetime]:
    """Order of precedence: observations first, then the newest run."""
    return (observed, run_time)


def held(session: Session, provider: str, keys: set[tuple[str, dt.datetime, str]]
         ) -> dict[tuple[str, dt.datetime, str], GridOrigin]:
    """Origins already stored for (variable, valid_time, geometry_key) keys."""
    if not keys:
        return {}
    times = {k[1] for k in keys}
    rows = session.scalars(select(GridOrigin).where(
        GridOrigin.provider == provider, GridOrigin.valid_time >= min(times),
        GridOrigin.valid_time <= max(times))).all()
    return {(r.variable, r.valid_time, r.geometry_key): r for r in rows
            if (r.variable, r.valid_time, r.geometry_key) in keys}


def record(session: Session, provider: str, source: str, items: list[Any],
           now: dt.datetime) -> None:
    """Write or move the origin of each stored item (``items`` carry run metadata)."""
    keys = {(i.variable, i.valid_time, i.spec.key) for i in items}
    have = held(session, provider, keys)
    for i in items:
        row = have.get((i.variable, i.valid_time, i.spec.key))
        if row is None:
            row = GridOrigin(provider=provider, variable=i.variable, valid_time=i.valid_time,
                             geometry_key=i.spec.key)
            session.add(row)
        row.source, row.run_time, row.step_hours = source[:1000], i.run_time, i.step_hours
        row.observed, row.member, row.source_name = i.observed, i.member, i.source_name[:1000]
        row.ingested_at = now


def steps_held(session: Session, provider: str, source: str, run_time: dt.datetime) -> set[int]:
    """Steps (hours after the run) of ``run_time`` held from ``source``."""
    rows = session.scalars(select(GridOrigin.step_hours).where(
        GridOrigin.provider == provider, GridOrigin.source == source[:1000],
        GridOrigin.run_time == run_time)).all()
    return {round(h) for h in rows}


def status(session: Session, provider: str = "grib2") -> list[dict[str, Any]]:
    """Per source: latest run, steps held, and per valid hour the run it comes from."""
    rows = session.scalars(select(GridOrigin).where(GridOrigin.provider == provider)
                           .order_by(GridOrigin.source, GridOrigin.valid_time,
                                     GridOrigin.variable)).all()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(r.source, {"source": r.source, "latest_run": None, "runs": {},
                                      "hours": []})
        run = "observed" if r.observed else r.run_time.strftime("%Y-%m-%dT%H:%MZ")
        if not r.observed and (s["latest_run"] is None or run > s["latest_run"]):
            s["latest_run"] = run
        s["runs"].setdefault(run, set()).add(r.step_hours)
        s["hours"].append({"valid_time": r.valid_time.strftime("%Y-%m-%dT%H:%MZ"),
                           "variable": r.variable, "run": run, "step_hours": r.step_hours,
                           "member": r.member})
    result = []
    for s in out.values():
        s["runs"] = [{"run": k, "steps": sorted(v), "steps_held": len(v)}
                     for k, v in sorted(s["runs"].items())]
        result.append(s)
    return result
