"""``disaster demo``: initialise, load the 宿州 sample, replay the generated rainstorm through
the scheduler at accelerated time, and serve the console — the main job for a newcomer."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

import click
from sqlalchemy import select

from disaster import jobs
from disaster.access import cli_actor
from disaster.weather.models import WeatherSource
from disaster.weather.providers.scenario import DRY_HOURS, RAIN_HOURS
from web.commands.common import CliContext, command_options
from web.runtime import Runtime

SOURCE = "demo-scenario"


def prepare_demo(runtime: Runtime, *, hour_seconds: float = 10.0,
                 start: dt.datetime | None = None, load: Any = None) -> dict[str, Any]:
    """Migrate, load the sample and register the scenario replay; returns what to show.

    ``load`` replaces :func:`web.sample_loader.load_sample` (tests pass a smaller world).
    The replay starts one simulated hour before the current hour, so alerts carry
    plausible times, and advances one simulated hour every ``hour_seconds``.
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
        if src is None or src.cursor is None:
            begin = start or (dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
                              - dt.timedelta(hours=1))
            end = begin + dt.timedelta(hours=RAIN_HOURS + DRY_HOURS)
            jobs.add_source(session, cli_actor(), name=SOURCE, provider="scenario",
                            source="suzhou-rainstorm", interval_minutes=hour_seconds / 60,
                            stale_after_minutes=60 * 24,
                            options={"replay": True, "start": begin.isoformat(),
                                     "end": end.isoformat(), "generated": True})
        else:
            src.interval_minutes = hour_seconds / 60
        session.commit()
    users = (result or {}).get("users", {}) if isinstance(result, dict) else {}
    return {"users": users.get("created", []), "kept": users.get("kept", [])}


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--hour-seconds", default=10.0, show_default=True, type=float,
              help="Real seconds per simulated hour of the scenario.")
@command_options
def demo(obj: CliContext, host: str, port: int, hour_seconds: float) -> None:
    """Initialise, load the sample, replay the scenario through the scheduler, serve."""
    from web import scheduler
    from web.app import create_app
    from web.server import serve

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = obj.runtime
    click.echo("initialising the database and loading the 宿州 sample (generated data)…", err=True)
    info = prepare_demo(runtime, hour_seconds=hour_seconds)
    scheduler.start_in_process(runtime, speed=max(1.0, 60.0 / hour_seconds))
    app = create_app({"DISASTER_RUNTIME": runtime, "DATABASE_URL": runtime.settings.database_url})
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison
    click.echo(f"demo console: http://{shown}:{port}/")
    click.echo(f"scenario: generated 宿州 rainstorm, one simulated hour every {hour_seconds:g} s "
               f"({RAIN_HOURS} h of rain, then {DRY_HOURS} dry hours)")
    for u in info["users"]:
        click.echo(f"  account {u['username']:<8} role {u['role']:<14} password {u['password']}")
    if info["kept"]:
        click.echo(f"  existing accounts kept (passwords unchanged): {', '.join(info['kept'])}")
    serve(app, host=host, port=port)


def register(group: click.Group) -> None:
    group.add_command(demo)
