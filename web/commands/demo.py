"""``disaster demo``: initialise, load the 宿州 sample, replay the generated rainstorm through
the scheduler at a pace a person can follow, and serve the console — the main job for a
newcomer.

The storm's 25 simulated hours (12 h of rain, 13 dry) play by default over about 22 minutes
(``--hour-seconds 50``); each hour is printed as it is ingested (Beijing time, warnings
issued/updated/cancelled, the highest level in force) and the end of the storm is announced.
Running the demo again on the same folder replays the storm. The simulated hours are placed
so that the storm ends when the replay ends: the demo's clock never runs ahead of the wall
clock on a first run, and the 2-hour 初报 deadlines of the orange and red communities fall
inside the storm, so the console's overdue-report list fills while it rains.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import sys
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from disaster import jobs
from disaster.access import cli_actor
from disaster.warnings.levels import LEVEL_NAMES_ZH, WarningLevel
from disaster.warnings.models import Alert, AlertStatus
from disaster.weather.models import WeatherSource
from disaster.weather.providers.scenario import DRY_HOURS, RAIN_HOURS
from web.commands.common import CliContext, command_options
from web.runtime import Runtime

SOURCE = "demo-scenario"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = dt.timedelta(hours=1)
STORM_HOURS = RAIN_HOURS + DRY_HOURS
DEFAULT_HOUR_SECONDS = 50.0  # 26 runs (start and each of the 25 hours) ≈ 22 minutes


def storm_window(now: dt.datetime, hour_seconds: float,
                 previous_end: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """``(start, end)`` of the replayed storm in simulated UTC time.

    The storm ends about when its replay ends (``now`` + 26 × ``hour_seconds``), so every
    time the console shows lies in the past. A replay never overlaps the hours of an earlier
    one (``previous_end``): those grids are stored and would be read again as the same hours.
    """
    finish = now + dt.timedelta(seconds=(STORM_HOURS + 1) * hour_seconds)
    end = finish.replace(minute=0, second=0, microsecond=0)
    start = end - STORM_HOURS * HOUR
    if previous_end is not None and start <= previous_end:
        start = previous_end + HOUR
    return start, start + STORM_HOURS * HOUR


def prepare_demo(runtime: Runtime, *, hour_seconds: float = DEFAULT_HOUR_SECONDS,
                 start: dt.datetime | None = None, load: Any = None) -> dict[str, Any]:
    """Migrate, load the sample and (re)start the scenario replay; returns what to show.

    ``load`` replaces :func:`web.sample_loader.load_sample` (tests pass a smaller world).
    ``start`` fixes the first simulated hour (default: see :func:`storm_window`). An earlier
    replay on the same database, finished or interrupted, is replaced by a new one.
    """
    from web.migrate import upgrade

    upgrade(runtime.engine)
    with runtime.sessions() as session:
        if load is None:
            from web.sample_loader import load_sample

            result = load_sample(session, cli_actor())
        else:
            result = load(session)
        src = session.scalar(select(WeatherSource).where(WeatherSource.name == SOURCE))
        previous_end = None
        if src is not None and (src.options or {}).get("end"):
            previous_end = dt.datetime.fromisoformat(src.options["end"])
        if start is None:
            begin, end = storm_window(dt.datetime.now(dt.UTC), hour_seconds, previous_end)
        else:
            begin, end = start, start + STORM_HOURS * HOUR
        src = jobs.add_source(session, cli_actor(), name=SOURCE, provider="scenario",
                              source="suzhou-rainstorm", interval_minutes=hour_seconds / 60,
                              stale_after_minutes=60 * 24,
                              options={"replay": True, "start": begin.isoformat(),
                                       "end": end.isoformat(), "generated": True})
        # A new replay starts from its first hour (add_source keeps an old cursor).
        src.cursor = None
        src.status = "new"
        session.commit()
    users = (result or {}).get("users", {}) if isinstance(result, dict) else {}
    return {"users": users.get("created", []), "kept": users.get("kept", []),
            "start": begin, "end": end, "replay": previous_end is not None}


def local(moment: dt.datetime) -> str:
    """A UTC moment as Beijing time, ``YYYY-MM-DD HH:MM``."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def describe_hour(session: Any, counts: dict[str, int]) -> tuple[str, bool]:
    """The line printed for one replayed hour, and whether the storm has ended with it."""
    src = session.scalar(select(WeatherSource).where(WeatherSource.name == SOURCE))
    if src is None or src.cursor is None:
        return "", False
    levels = {WarningLevel(v) for v in session.scalars(
        select(Alert.level).where(Alert.status == AlertStatus.ACTIVE)).all()}
    top = max(levels, key=lambda lv: lv.rank, default=None)
    highest = f"{LEVEL_NAMES_ZH[top]}预警 ({top.value})" if top else "无预警 (none)"
    line = (f"{local(src.cursor)} 北京时间  warnings issued {counts.get('issued', 0)}, "
            f"updated {counts.get('updated', 0)}, cancelled {counts.get('cancelled', 0)}; "
            f"highest in force: {highest}")
    end = (src.options or {}).get("end")
    return line, bool(end and src.cursor >= dt.datetime.fromisoformat(end))


def hour_printer(runtime: Runtime, source_id: int, echo: Callable[[str], Any],
                 ended: threading.Event) -> Callable[[Any], None]:
    """A scheduler listener printing each replayed hour of source ``source_id`` as it lands."""
    job_id = f"source-{source_id}"

    def on_event(event: Any) -> None:
        if getattr(event, "job_id", None) != job_id or not isinstance(event.retval, dict):
            return
        with runtime.sessions() as session:
            line, over = describe_hour(session, event.retval.get("counts") or {})
        if line:
            echo(line)
        if over and not ended.is_set():
            echo("the storm has ended: the rain stopped and every warning has been lifted "
                 "(run the demo again to replay it)")
            ended.set()

    return on_event


def start_replay(runtime: Runtime, hour_seconds: float,
                 echo: Callable[[str], Any]) -> tuple[Any, threading.Event]:
    """Start the in-process scheduler replaying the storm; returns it and an 'ended' event."""
    from apscheduler.events import EVENT_JOB_EXECUTED

    from web import scheduler

    with runtime.sessions() as session:
        source_id = session.scalar(select(WeatherSource.id).where(WeatherSource.name == SOURCE))
    ended = threading.Event()
    # The fixed jobs (evaluation, escalation, report deadlines) run about ten times per
    # simulated hour, so reminders and overdue reports follow the replayed clock.
    # The first run of an interval job comes one interval after the start: the listener
    # added right after it sees every hour.
    sched = scheduler.start_in_process(runtime, speed=max(1.0, 600.0 / hour_seconds))
    sched.add_listener(hour_printer(runtime, source_id, echo, ended), EVENT_JOB_EXECUTED)
    return sched, ended


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--hour-seconds", default=DEFAULT_HOUR_SECONDS, show_default=True,
              type=click.FloatRange(min=0.05),
              help="Real seconds per simulated hour of the storm (smaller is faster).")
@click.option("--no-serve", is_flag=True,
              help="Replay the storm, print it and exit when it ends, without the web console.")
@command_options
def demo(obj: CliContext, host: str, port: int, hour_seconds: float, no_serve: bool) -> None:
    """Initialise, load the sample, replay the storm through the scheduler, serve."""
    from web.app import create_app
    from web.server import serve

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # At a fast pace the frequent jobs overlap and APScheduler logs every skipped run.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    runtime = obj.runtime
    click.echo("initialising the database and loading the 宿州 sample (generated data)…", err=True)
    info = prepare_demo(runtime, hour_seconds=hour_seconds)
    minutes = math.ceil((STORM_HOURS + 1) * hour_seconds / 60)
    click.echo(f"scenario: generated 宿州 rainstorm, {local(info['start'])} to {local(info['end'])} "
               f"北京时间 ({RAIN_HOURS} h of rain, then {DRY_HOURS} dry hours), one simulated "
               f"hour every {hour_seconds:g} s: about {minutes} min"
               + (" — replaying the storm again" if info["replay"] else ""))
    for u in info["users"]:
        click.echo(f"  account {u['username']:<8} role {u['role']:<14} password {u['password']}")
    if info["kept"]:
        click.echo(f"  existing accounts kept (passwords unchanged): {', '.join(info['kept'])}")
    sched, ended = start_replay(runtime, hour_seconds, lambda line: click.echo(line))
    try:
        if no_serve:
            # Generous: a slow machine may take several seconds per simulated hour.
            ended.wait(timeout=(STORM_HOURS + 1) * max(hour_seconds, 30.0) + 600)
        else:
            app = create_app({"DISASTER_RUNTIME": runtime,
                              "DATABASE_URL": runtime.settings.database_url})
            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
            click.echo(f"demo console: http://{shown}:{port}/")
            serve(app, host=host, port=port)  # until interrupted (Ctrl-C)
    finally:
        sched.shutdown(wait=True)
    if no_serve and not ended.is_set():
        raise click.ClickException("the storm replay did not finish")


def register(group: click.Group) -> None:
    group.add_command(demo)
