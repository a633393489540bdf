"""Benchmark: report intake through the HTTP API on PostGIS with several gunicorn workers.

Creates a throwaway PostGIS database with 2,000 communities in 40 townships, 40 information
officers (one per township, each with an API token) and an open event; starts gunicorn on
loopback; then a separate load process files reports concurrently (each community's 初报, then
续报) with an Idempotency-Key per request, over fresh HTTP connections. Prints throughput and
latency percentiles; nothing is asserted. Targets on a 2-core machine: ≥ 300 reports/s and
p95 < 100 ms.

    .venv/bin/python bench/report_intake.py [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--workers 3] [--requests 6000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOWNSHIPS, PER_TOWNSHIP = 40, 50


def seed(url: str) -> tuple[list[tuple[str, str]], int]:
    """Schema, region, officers with tokens, one open event: ``([(token, community)], n)``."""
    from disaster.access import Role, cli_actor
    from disaster.accounts import add_user, issue_token
    from disaster.areas import Area, AreaLevel
    from disaster.communities import Community
    from disaster.events import create_event
    from gis.db import make_engine, make_session_factory
    from web.migrate import upgrade
    from web.models import import_all_models

    import_all_models()
    engine = make_engine(url)
    upgrade(engine)
    pairs: list[tuple[str, str]] = []
    with make_session_factory(engine)() as s:
        s.add(Area(code="341300", name="宿州市", level=AreaLevel.CITY))
        s.add(Area(code="341302", name="埇桥区", level=AreaLevel.COUNTY, parent_code="341300"))
        s.flush()
        for t in range(TOWNSHIPS):
            township = f"341302{t + 1:03d}"
            s.add(Area(code=township, name=f"镇{t}", level=AreaLevel.TOWNSHIP,
                       parent_code="341302"))
            s.flush()
            for n in range(PER_TOWNSHIP):
                x0, y0 = 116.8 + n * 0.01, 33.4 + t * 0.01
                s.add(Community(code=f"{township}{n + 200:03d}", name=f"村{t}-{n}",
                                township_code=township, county_code="341302",
                                population=2000, households=730,
                                geom=from_shape(MultiPolygon([box(x0, y0, x0 + 0.01,
                                                                  y0 + 0.01)]), 4326)))
            user = add_user(s, cli_actor(), f"officer{t}", Role.INFO_OFFICER, scopes=[township])
            token = issue_token(s, cli_actor(), user.username)
            pairs.extend((token, f"{township}{n + 200:03d}") for n in range(PER_TOWNSHIP))
        create_event(s, cli_actor(), hazard="rainstorm", name="bench",
                     started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        s.commit()
    engine.dispose()
    return pairs, len(pairs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/reports")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def load(port: int, jobs: list[tuple[str, dict]], concurrency: int, out: mp.Queue) -> None:
    """The load process: ``concurrency`` threads post the jobs; report latencies and errors."""
    latencies: list[float] = []
    errors: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(range(len(jobs)))

    def worker() -> None:
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            token, body = jobs[i]
            payload = json.dumps(body)
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/reports", payload, {
                "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex})
            response = conn.getresponse()
            response.read()
            conn.close()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status not in (200, 201):
                    errors[response.status] = errors.get(response.status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((time.perf_counter() - started, latencies, errors))


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of gunicorn's worker processes (children of ``master``)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # field 4 (ppid) after the command name
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get(
        "DISASTER_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    server = make_url(args.server).set(drivername="postgresql+psycopg")
    name = f"bench_intake_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    proc = None
    try:
        t0 = time.perf_counter()
        pairs, n = seed(url)
        print(f"seeded {n} communities in {time.perf_counter() - t0:.1f} s")
        now = dt.datetime.now(dt.UTC).isoformat()
        jobs = []
        for i in range(args.requests):
            token, code = pairs[i % n]
            jobs.append((token, {"community": code, "kind": "initial" if i < n else "update",
                                 "hazard": "rainstorm", "occurred_at": now,
                                 "affected_people": 10 + i % 50, "dead": 0, "evacuated": 3,
                                 "collapsed_households": 1, "collapsed_rooms": 2,
                                 "crop_affected_ha": 1.5}))
        port = free_port()
        home = tempfile.mkdtemp(prefix="bench-intake-")
        env = dict(os.environ, DISASTER_DATABASE_URL=url, DISASTER_HOME=home,
                   DISASTER_SECRET_KEY="bench-" + uuid.uuid4().hex, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "web.app:create_app()"], env=env, cwd=str(ROOT), start_new_session=True)
        wait_ready(port)
        # Warm every worker (imports, connection pools) before measuring.
        warm = mp.Queue()
        mp.Process(target=load, args=(port, jobs[:0], 1, warm)).start()
        warm.get()
        queue: mp.Queue = mp.Queue()
        cpu_before = worker_cpu_seconds(proc.pid)
        loader = mp.Process(target=load, args=(port, jobs, args.concurrency, queue))
        loader.start()
        elapsed, latencies, errors = queue.get()
        loader.join()
        cpu = worker_cpu_seconds(proc.pid) - cpu_before
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        print(f"{len(latencies)} reports via {args.workers} gunicorn workers, "
              f"{args.concurrency} concurrent clients: {len(latencies) / elapsed:.0f} reports/s")
        print(f"latency ms: p50 {p(0.50):.1f}  p95 {p(0.95):.1f}  p99 {p(0.99):.1f}  "
              f"max {latencies[-1] * 1000:.1f}  mean {statistics.mean(latencies) * 1000:.1f}")
        print(f"errors: {errors or 'none'}")
        per = cpu / len(latencies) * 1000
        print(f"web-worker CPU per report: {per:.1f} ms (≈ {1000 / per:.0f} reports/s per "
              f"free core, database excluded); load average during the run: "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        check = sa.create_engine(server.set(database=name))
        with check.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM reports").scalar()
            latest = conn.exec_driver_sql(
                "SELECT count(*) FROM reports WHERE is_latest").scalar()
        check.dispose()
        print(f"stored {stored} reports, {latest} latest (one per community)")
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
