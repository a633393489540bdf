"""The scheduler: APScheduler 3 with its job store in the application's database.

- ``start_in_process(runtime)``: embedded mode, inside the web process.
- ``run(runtime)``: ``disaster scheduler run``, its own process. Several may run against one
  PostGIS: each waits for a PostgreSQL advisory lock (``gis.spatial.try_advisory_lock``) and
  only the holder schedules. When the holder dies its connection closes, the lock is
  released and another takes over. Jobs are idempotent (ingestion records, state-compare
  evaluation), and coalesced misfires run once after a restart: missed runs are caught up
  without duplicate alerts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from disaster import jobs
from disaster.weather.models import WeatherSource
from gis.spatial import still_connected, try_advisory_lock
from web.runtime import Runtime

log = logging.getLogger("disaster.scheduler")
# Advisory lock key: "DSCH" as an integer; any constant shared by all scheduler processes.
LEADER_KEY = 0x44534348
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600}
FIXED_JOBS = [
    ("evaluate", "disaster.jobs:evaluate_all", 300),
    ("escalate", "disaster.jobs:escalate", 60),
    # sends what the delivery workers (``disaster deliver run``) have not, e.g. on SpatiaLite
    ("deliver", "disaster.jobs:deliver", 10),
    ("stale", "disaster.jobs:check_stale", 300),
    ("report_deadlines", "disaster.reports.deadlines:scheduled_job", 300),
    ("stock_warnings", "stockpile.notices:scheduled_job", 600),
]


def build_scheduler(runtime: Runtime, *, speed: float = 1.0) -> BackgroundScheduler:
    """A scheduler whose jobs live in the ``apscheduler_jobs`` table of the same database.

    ``speed`` divides every interval (the demo replays hours in seconds).
    """
    jobs.configure(runtime.sessions)
    store = SQLAlchemyJobStore(engine=runtime.engine)
    sched = BackgroundScheduler(jobstores={"default": store}, job_defaults=JOB_DEFAULTS,
                                timezone="UTC")
    sched._disaster_speed = speed  # type: ignore[attr-defined]
    return sched


def sync_sources(sched: BackgroundScheduler, runtime: Runtime) -> None:
    """Add, change or remove the ingestion job of each weather source and the fixed jobs."""
    speed = getattr(sched, "_disaster_speed", 1.0)
    if sched.get_job("sync-sources") is not None:  # an earlier version ran this as a job
        sched.remove_job("sync-sources")
    for job_id, func, seconds in FIXED_JOBS:
        seconds = max(seconds / speed, 0.5)
        if not _same_interval(sched.get_job(job_id), seconds):
            sched.add_job(func, "interval", seconds=seconds, id=job_id, replace_existing=True)
    with runtime.sessions() as session:
        sources = session.scalars(select(WeatherSource)).all()
    wanted = set()
    for src in sources:
        job_id = f"source-{src.id}"
        if not src.enabled:
            continue
        wanted.add(job_id)
        # a replay source's interval is already the accelerated length of a simulated hour
        replay = bool((src.options or {}).get("replay"))
        seconds = max(src.interval_minutes * 60 / (1.0 if replay else speed), 0.5)
        if _same_interval(sched.get_job(job_id), seconds, [src.id]):
            continue
        sched.add_job("disaster.jobs:run_source", "interval", seconds=seconds, args=[src.id],
                      id=job_id, replace_existing=True)
    for job in sched.get_jobs():
        if job.id.startswith("source-") and job.id not in wanted:
            job.remove()


def _same_interval(job: Any, seconds: float, args: list | None = None) -> bool:
    """True when ``job`` exists with this interval (re-adding would reset its next run)."""
    interval = getattr(getattr(job, "trigger", None), "interval", None)
    return (job is not None and interval is not None
            and abs(interval.total_seconds() - seconds) < 1e-6
            and (args is None or list(job.args) == args))


def _sync_loop(sched: BackgroundScheduler, runtime: Runtime, every: float) -> None:
    """Pick up added, changed or disabled sources while the scheduler runs.

    A thread of its own, not a scheduler job: a job calling back into its scheduler can
    deadlock against ``shutdown``.
    """
    stop: threading.Event = sched._disaster_stop  # type: ignore[attr-defined]
    while not stop.wait(every):
        if not sched.running:
            return
        try:
            sync_sources(sched, runtime)
        except Exception:
            log.exception("could not synchronise weather source jobs")


def start_in_process(runtime: Runtime, *, speed: float = 1.0) -> BackgroundScheduler:
    """Start the scheduler inside this process (embedded mode); returns it started."""
    sched = build_scheduler(runtime, speed=speed)
    sched.start(paused=True)
    sync_sources(sched, runtime)
    sched.resume()
    stop = threading.Event()
    sched._disaster_stop = stop  # type: ignore[attr-defined]
    sched.add_listener(lambda event: stop.set(), EVENT_SCHEDULER_SHUTDOWN)
    threading.Thread(target=_sync_loop, args=(sched, runtime, max(60.0 / speed, 0.5)),
                     name="scheduler-sync", daemon=True).start()
    return sched


def run(runtime: Runtime, *, stop: threading.Event | None = None, poll: float = 2.0,
        speed: float = 1.0, on_leader: Any = None) -> None:
    """Run as the scheduler process until ``stop`` is set; only the lock holder schedules."""
    stop = stop or threading.Event()
    while not stop.is_set():
        conn = runtime.engine.connect()
        try:
            got = try_advisory_lock(conn, LEADER_KEY)
            conn.commit()  # the session-level lock outlives the transaction
        except Exception:
            log.exception("cannot reach the database for leader election")
            conn.close()
            stop.wait(poll)
            continue
        if not got:
            conn.close()
            stop.wait(poll)
            continue
        log.info("scheduler: this process is the active scheduler")
        if on_leader:
            on_leader()
        sched = start_in_process(runtime, speed=speed)
        try:
            while not stop.wait(poll):
                if not still_connected(conn):
                    log.error("lost the leader connection; stepping down")
                    break
        finally:
            sched.shutdown(wait=True)
            conn.close()
    log.info("scheduler stopped")


def wait_for(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (tests and the demo)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
