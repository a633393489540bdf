"""Benchmark: the alert path, from a rain grid's arrival to every row written, on PostGIS.

Cases: a province (20,000 communities, all warned red) and the nation (600,000 communities,
60,000 warned). Each community has a primary and a backup officer; the primaries of warned
communities are notified (inbox, e-mail, SMS). Timed: ``ingest_and_evaluate`` of the grids
and the commit: alerts, community warning state, events, notifications, delivery rows.
Prints figures; nothing is asserted. ``--profile`` prints the top functions (cProfile).

    .venv/bin/python bench/alert_path.py [--cases province,nation] [--profile]
        [--postgis-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import storm

from disaster.notify.models import Delivery, Notification
from disaster.warnings.models import Alert
from disaster.warnings.service import ingest_and_evaluate
from disaster.warnings.state import CommunityWarning
from gis.db import make_engine, make_session_factory, unit_of_work
from web.models import import_all_models

CASES = {"province": (20_000, 20_000), "nation": (600_000, 60_000)}


def run_case(name: str, server: str, profile: bool) -> None:
    n, warned = CASES[name]
    url, admin = storm.fresh_postgis(server)
    try:
        engine = make_engine(url)
        t0 = time.perf_counter()
        storm.build(engine, n)
        setup = time.perf_counter() - t0
        sessions = make_session_factory(engine)
        with tempfile.TemporaryDirectory() as tmp:
            now = storm.storm(Path(tmp) / "grids", n, warned)
            prof = cProfile.Profile() if profile else None
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            with unit_of_work(sessions) as s:
                _, counts = ingest_and_evaluate(s, "grid-files", str(Path(tmp) / "grids"),
                                                now=now)
            if prof:
                prof.disable()
            took = time.perf_counter() - t0
        with sessions() as s:
            alerts = s.scalar(select(func.count(Alert.id)))
            state = s.scalar(select(func.count(CommunityWarning.id)))
            notes = s.scalar(select(func.count(Notification.id)))
            queued = s.scalar(select(func.count(Delivery.id)).where(Delivery.state == "queued"))
        print(f"[{name}] {n:,} communities, {warned:,} warned red (PostGIS; setup {setup:.0f} s):"
              f" grid arrival → {alerts} alerts, {state:,} community warnings, {notes:,}"
              f" notifications, {queued:,} queued e-mail/SMS written and committed in"
              f" {took:.1f} s ({counts})")
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        engine.dispose()
    finally:
        storm.drop_postgis(admin, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="province,nation")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--postgis-server",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    import_all_models()
    # e-mail and SMS configured, so each notification queues both (nothing is sent here)
    os.environ.setdefault("DISASTER_SMTP_HOST", "127.0.0.1")
    os.environ.setdefault("DISASTER_SMS_URL", "http://127.0.0.1:9/send")
    for name in args.cases.split(","):
        run_case(name.strip(), args.postgis_server, args.profile)


if __name__ == "__main__":
    main()
