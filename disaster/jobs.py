"""Scheduled jobs: ingestion per source, evaluation, expiry, escalation, delivery, staleness.

Jobs are plain functions referenced by dotted path from the APScheduler job store, so they
survive restarts. The process that runs them calls :func:`configure` with its session
factory first (nothing is created at import). Every job is one unit of work and never lets
an error escape: the scheduler keeps running and the error is logged and recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from disaster import audit
from disaster.access import SYSTEM
from disaster.notify import ack
from disaster.warnings import service
from disaster.weather.ingest import ingest
from disaster.weather.models import WeatherSource
from gis.db import unit_of_work
from gis.types import utcnow

log = logging.getLogger("disaster.jobs")
HOUR = dt.timedelta(hours=1)
_sessions: sessionmaker[Session] | None = None


def configure(sessions: sessionmaker[Session]) -> None:
    """Give the jobs of this process their session factory."""
    global _sessions
    _sessions = sessions


def session_factory() -> sessionmaker[Session]:
    """The session factory this process's jobs use (set by :func:`configure`)."""
    return _factory()


def _factory() -> sessionmaker[Session]:
    if _sessions is None:
        raise RuntimeError("disaster.jobs.configure() was not called in this process")
    return _sessions


def clock(session: Session) -> dt.datetime:
    """The system's notion of now: the wall clock, or the simulated time of a running replay
    (demo and exercises), so that expiry and escalation follow the replayed hours."""
    cursors = [c for c in session.scalars(select(WeatherSource.cursor).where(
        WeatherSource.enabled.is_(True), WeatherSource.cursor.is_not(None)))]
    return max(cursors) if cursors else utcnow()


def add_source(session: Session, actor: Any, *, name: str, provider: str, source: str,
               interval_minutes: float = 10.0, stale_after_minutes: float = 90.0,
               options: dict | None = None) -> WeatherSource:
    """Register (or update) a source the scheduler ingests; administrators only, audited."""
    from disaster.access import Role, require_role
    from disaster.errors import DisasterValidationError
    from disaster.weather import providers

    require_role(actor, Role.ADMIN, action="configuring weather sources")
    fields: dict[str, list[str]] = {}
    if provider not in providers.REGISTRY:
        fields["provider"] = [f"unknown provider {provider!r}"]
    if not name or len(name) > 80:
        fields["name"] = ["1–80 characters"]
    if not (interval_minutes > 0):
        fields["interval_minutes"] = ["must be positive"]
    if fields:
        raise DisasterValidationError("invalid weather source", fields=fields)
    row = session.scalar(select(WeatherSource).where(WeatherSource.name == name))
    if row is None:
        row = WeatherSource(name=name, provider=provider, source=source, status="new")
        session.add(row)
    row.provider, row.source = provider, source
    row.interval_minutes, row.stale_after_minutes = interval_minutes, stale_after_minutes
    row.options = options or None
    row.enabled = True
    session.flush()
    audit.record(session, actor, "weather_source.save", "weather_source", name, None,
                 {"provider": provider, "source": source, "interval_minutes": interval_minutes})
    return row


def run_source(source_id: int) -> dict[str, Any] | None:
    """Ingest one source and evaluate. Replay sources advance their clock one hour per run."""
    try:
        with unit_of_work(_factory()) as session:
            src = session.get(WeatherSource, source_id)
            if src is None or not src.enabled:
                return None
            opts = dict(src.options or {})
            wall = utcnow()
            src.last_attempt_at = wall
            if opts.get("replay"):
                start = dt.datetime.fromisoformat(opts["start"]) if opts.get("start") else None
                now = (src.cursor + HOUR) if src.cursor else (start or wall)
                # the replay evaluates only the hour it reached, as if the data up to it had
                # just arrived (grids are available from their valid time)
                report = ingest(session, src.provider, src.source, now=now, replay=True,
                                options=opts)
                counts = service.evaluate(session, now)
                src.cursor = now
                end = opts.get("end")
                if end and now >= dt.datetime.fromisoformat(end):
                    src.enabled = False
            else:
                now = wall
                report, counts = service.ingest_and_evaluate(session, src.provider, src.source,
                                                             now=now, options=opts)
            if report.data_hours or report.alerts or report.unchanged:
                src.last_success_at = wall
            if report.changed:
                src.last_data_at = wall
            src.status = "error" if report.errors and not report.changed else "ok"
            src.last_error = "; ".join(report.errors)[:2000] or None
            # No sending here: the notifications are committed with the warnings and the
            # delivery workers (or the ``deliver`` job) send them concurrently.
            log.info("source %s: %s %s", src.name, report.as_dict(), counts)
            return {"report": report.as_dict(), "counts": counts}
    except Exception as exc:
        log.exception("source %s failed", source_id)
        _record_failure(source_id, exc)
        return None


def _record_failure(source_id: int, exc: Exception) -> None:
    try:
        with unit_of_work(_factory()) as session:
            src = session.get(WeatherSource, source_id)
            if src is not None:
                src.status, src.last_error = "error", f"{type(exc).__name__}: {exc}"[:2000]
                src.last_attempt_at = utcnow()
    except Exception:
        log.exception("could not record the failure of source %s", source_id)


def evaluate_all() -> dict[str, int] | None:
    """Re-evaluate at the current time: forecast windows move and messages expire."""
    try:
        with unit_of_work(_factory()) as session:
            return service.evaluate(session, clock(session))
    except Exception:
        log.exception("evaluation failed")
        return None


def escalate() -> int:
    try:
        with unit_of_work(_factory()) as session:
            return ack.escalate(session, clock(session))  # sent by the delivery workers
    except Exception:
        log.exception("escalation failed")
        return 0


def deliver() -> dict[str, int] | None:
    """Send what is due with a delivery worker (the code of ``disaster deliver run``)."""
    from disaster.notify.worker import DeliveryWorker

    try:
        with _factory()() as session:
            engine = session.get_bind()
        worker = DeliveryWorker(engine)
        try:
            return worker.run_until_idle()
        finally:
            worker.close()
    except Exception:
        log.exception("delivery failed")
        return None


def check_stale(now: dt.datetime | None = None) -> list[str]:
    """Sources silent for longer than their limit become ``stale`` with a logged warning."""
    try:
        with unit_of_work(_factory()) as session:
            return mark_stale(session, now or utcnow())
    except Exception:
        log.exception("stale check failed")
        return []


def mark_stale(session: Session, now: dt.datetime) -> list[str]:
    """Flag every enabled, non-replay source without new data for too long."""
    stale = []
    for src in session.scalars(select(WeatherSource).where(WeatherSource.enabled.is_(True))):
        if (src.options or {}).get("replay"):
            continue
        last = src.last_data_at or src.last_success_at
        limit = dt.timedelta(minutes=src.stale_after_minutes)
        reference = last or src.last_attempt_at
        if reference is None or now - reference <= limit:
            continue
        if src.status != "stale":
            msg = (f"weather source {src.name} ({src.provider} {src.source}) has delivered no new "
                   f"data since {last.isoformat() if last else 'it was configured'}")
            log.warning(msg)
            audit.record(session, SYSTEM, "weather.stale", "weather_source", src.name, None,
                         {"message": msg})
            src.status = "stale"
            src.last_error = msg
        stale.append(src.name)
    session.flush()
    return stale
