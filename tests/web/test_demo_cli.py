"""``disaster demo``: a storm a newcomer can follow, printed hour by hour, replayable."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from disaster.reports import deadlines
from disaster.warnings.models import Alert
from disaster.weather.models import WeatherSource
from gis.db import make_engine, make_session_factory
from tests.disaster.warnings import world
from web.cli import main
from web.commands import demo
from web.runtime import build_runtime

HOUR_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:00) 北京时间  warnings issued (\d+), updated (\d+), "
                       r"cancelled (\d+); highest in force: (\S+)", re.M)


@pytest.fixture(autouse=True)
def _dispose_cli_engines(monkeypatch):
    """Each command builds its own runtime; close their connection pools after the test."""
    import web.commands.common as common

    built = []

    def build(settings):  # type: ignore[no-untyped-def]
        runtime = build_runtime(settings)
        built.append(runtime)
        return runtime

    monkeypatch.setattr(common, "build_runtime", build)
    yield
    for runtime in built:
        runtime.engine.dispose()


@pytest.fixture(autouse=True)
def _small_world(monkeypatch):
    """The demo's sample load replaced by the small warning-test world (same code path)."""
    monkeypatch.setattr("web.sample_loader.load_sample", lambda session, actor: world.build(session))


def _run(url: str) -> str:
    res = CliRunner().invoke(main, ["--database", url, "demo", "--hour-seconds", "0.2",
                                    "--no-serve"])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_by_default_the_storm_lasts_at_least_twenty_minutes_of_wall_clock_time():
    assert (demo.STORM_HOURS + 1) * demo.DEFAULT_HOUR_SECONDS >= 20 * 60
    now = dt.datetime(2026, 7, 10, 8, 20, tzinfo=dt.UTC)
    start, end = demo.storm_window(now, demo.DEFAULT_HOUR_SECONDS)
    # the storm ends about when its replay ends: the demo shows no time in the future
    assert end - start == dt.timedelta(hours=demo.STORM_HOURS)
    finish = now + dt.timedelta(seconds=(demo.STORM_HOURS + 1) * demo.DEFAULT_HOUR_SECONDS)
    assert end <= finish < end + dt.timedelta(hours=1)
    # a replay after an earlier one never reuses its hours
    again, _ = demo.storm_window(now, 50, previous_end=end)
    assert again == end + dt.timedelta(hours=1)


def test_demo_prints_each_hour_and_the_end_of_the_storm_and_replays_on_a_second_run(database_url):
    first = _run(database_url)
    hours = HOUR_LINE.findall(first)
    assert len(hours) == demo.STORM_HOURS + 1, first
    assert sum(int(h[1]) for h in hours) > 0  # warnings issued ...
    assert {h[4] for h in hours} >= {"红色预警", "无预警"}  # ... up to red, then all lifted
    assert hours[-1][4] == "无预警"
    assert "the storm has ended" in first
    times = [dt.datetime.strptime(h[0], "%Y-%m-%d %H:%M") for h in hours]
    assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(times))

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        alerts_after_first = session.scalar(select(func.count(Alert.id)))
        src = session.scalar(select(WeatherSource).where(WeatherSource.name == demo.SOURCE))
        start = dt.datetime.fromisoformat(src.options["start"])
        end = dt.datetime.fromisoformat(src.options["end"])
        # 初报 deadlines (2 h after an orange/red warning) fall inside the storm: overdue
        overdue = deadlines.overdue_reports(session, end)
        assert overdue and all(o["kind"] == "initial" for o in overdue)
        assert all(start < dt.datetime.fromisoformat(o["due_at"]) < end for o in overdue)

    second = _run(database_url)
    assert "replaying the storm again" in second
    again = HOUR_LINE.findall(second)
    assert len(again) == demo.STORM_HOURS + 1 and sum(int(h[1]) for h in again) > 0
    assert again[0][0] > hours[-1][0]  # the replay follows the first storm in the demo's clock
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count(Alert.id))) > alerts_after_first
    engine.dispose()
