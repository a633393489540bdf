"""The scheduler: jobs in the database, one active process on PostGIS, catch-up on restart."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sqlalchemy import func, select

from disaster import jobs
from disaster.access import SYSTEM
from disaster.warnings.models import Alert, AlertStatus
from gis.db import make_engine, make_session_factory, unit_of_work
from tests.disaster.warnings import world
from web import scheduler
from web.config import load_settings
from web.runtime import build_runtime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _setup(url: str, folder, hours: int, level_mm: float) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    values = np.full((hours, *world.GRID_SHAPE), level_mm, dtype=np.float32)
    # recent hours, so the wall-clock evaluation of the scheduler sees them
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours)
    world.write_series(folder, values, start=start)
    with unit_of_work(sessions) as session:
        world.build(session)
        jobs.add_source(session, SYSTEM, name="grids", provider="grid-files", source=str(folder),
                        interval_minutes=0.02)
    engine.dispose()


def _count(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count(Alert.id))).scalar()
        active = conn.execute(select(func.count(Alert.id)).where(
            Alert.status == AlertStatus.ACTIVE)).scalar()
    engine.dispose()
    return total, active


def test_in_process_scheduler_ingests_and_issues(database_url, tmp_path):
    _setup(database_url, tmp_path / "g", 3, 20.0)  # 60 mm in 3 h: orange
    runtime = build_runtime(load_settings(database_url))
    sched = scheduler.start_in_process(runtime)
    try:
        assert scheduler.wait_for(lambda: _count(database_url)[1] == 2, 15)
        ids = {j.id for j in sched.get_jobs()}
        assert {"evaluate", "escalate", "deliver", "stale"} <= ids
        assert any(i.startswith("source-") for i in ids)
    finally:
        sched.shutdown(wait=True)
        runtime.engine.dispose()
    # restart: the job store still holds the jobs; runs again without duplicating alerts
    runtime = build_runtime(load_settings(database_url))
    sched = scheduler.start_in_process(runtime)
    try:
        time.sleep(2.0)
        assert _count(database_url) == (2, 2)
    finally:
        sched.shutdown(wait=True)
        runtime.engine.dispose()


def _spawn(url: str, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(log, "w") as err:
        return subprocess.Popen([sys.executable, "-m", "web.cli", "--database", url, "scheduler",
                                 "run", "--poll", "0.3"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)


def test_killing_the_active_scheduler_lets_another_take_over_without_duplicates(
        database_url, backend_name, tmp_path):
    if backend_name != "postgis":
        pytest.skip("leader election by advisory lock is a PostGIS deployment (SQLite runs one)")
    folder = tmp_path / "g"
    _setup(database_url, folder, 3, 20.0)
    procs = [_spawn(database_url, tmp_path / 'a.log'), _spawn(database_url, tmp_path / 'b.log')]
    try:
        assert scheduler.wait_for(lambda: _count(database_url)[1] == 2, 20)
        leader = _leader(database_url, procs)
        assert leader is not None
        leader.send_signal(signal.SIGKILL)
        leader.wait(5)
        # heavier rain arrives: the survivor must take over and update to red, exactly once
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        world.write_series(folder, np.full((1, *world.GRID_SHAPE), 60.0, np.float32),
                           start=now - dt.timedelta(hours=1))
        assert scheduler.wait_for(lambda: _count(database_url) == (4, 2), 20)
        time.sleep(1.0)
        assert _count(database_url) == (4, 2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _leader(url: str, procs: list[subprocess.Popen]) -> subprocess.Popen | None:
    """The process holding the advisory lock (PostgreSQL backend pid → client port → process)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.objid = {scheduler.LEADER_KEY} AND l.granted"
        ).first()
    engine.dispose()
    if row is None:
        return None
    port = row[0]
    for p in procs:
        out = subprocess.run(["ss", "-tnp"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if f"pid={p.pid}," in line and f":{port} " in line:
                return p
    return None


def test_a_failing_source_is_recorded_and_the_job_never_raises(database_url, tmp_path):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        src = jobs.add_source(session, SYSTEM, name="broken", provider="grid-files",
                              source=str(tmp_path / "missing"))
        source_id = src.id
    jobs.configure(sessions)
    result = jobs.run_source(source_id)
    assert result is not None and "no such file or folder" in result["report"]["errors"][0]
    with sessions() as session:
        from disaster.weather.models import WeatherSource
        row = session.get(WeatherSource, source_id)
        assert row.status == "error" and str(tmp_path / "missing") in row.last_error
    engine.dispose()
