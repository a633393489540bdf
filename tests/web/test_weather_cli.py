"""``weather ingest``, ``alerts list`` and ``alerts export`` (CONTRACT.md), and the demo replay."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select

from disaster.warnings.models import Alert, AlertStatus, Escalation
from gis.db import make_engine, make_session_factory, unit_of_work
from tests.disaster.warnings import world
from tests.disaster.warnings.test_cap import SCHEMA
from web import scheduler
from web.cli import main
from web.commands.demo import prepare_demo
from web.config import load_settings
from web.runtime import build_runtime


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


def _world(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        world.build(session)
    engine.dispose()


def test_ingest_list_and_export_from_the_command_line(database_url, tmp_path):
    _world(database_url)
    values = np.concatenate([np.full((3, *world.GRID_SHAPE), 20.0, np.float32),
                             np.zeros((12, *world.GRID_SHAPE), np.float32)])
    world.write_series(tmp_path / "g", values)
    runner = CliRunner()
    args = ["--database", database_url]
    res = runner.invoke(main, [*args, "weather", "ingest", "grid-files", "--source", str(tmp_path / "g"),
                               "--now", "2020-08-01T03:00Z", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["issued"], data["updated"], data["cancelled"]) == (2, 0, 0)
    res = runner.invoke(main, [*args, "weather", "ingest", "grid-files", "--source", str(tmp_path / "g"),
                               "--now", "2020-08-01T14:00Z", "--format", "json"])
    data = json.loads(res.stdout)
    assert data["cancelled"] == 2 and data["issued"] == 0
    listed = json.loads(runner.invoke(main, [*args, "alerts", "list", "--format", "json"]).stdout)
    assert [a["msg_type"] for a in listed] == ["Alert", "Alert", "Cancel", "Cancel"]
    active = runner.invoke(main, [*args, "alerts", "list", "--active", "--format", "json"])
    assert json.loads(active.stdout) == []
    res = runner.invoke(main, [*args, "alerts", "export", "--format", "cap", "-o", str(tmp_path / "cap")])
    assert res.exit_code == 0, res.output
    files = sorted((tmp_path / "cap").glob("*.xml"))
    assert len(files) == 4
    assert all(SCHEMA.validate(etree.parse(str(f))) for f in files)


def test_bad_provider_and_time_give_one_line_errors(database_url):
    runner = CliRunner()
    res = runner.invoke(main, ["--database", database_url, "weather", "ingest", "radar", "--source", "x"])
    assert res.exit_code == 1 and "unknown weather provider 'radar'" in res.stderr
    res = runner.invoke(main, ["--database", database_url, "weather", "ingest", "grid-files",
                               "--source", "x", "--now", "yesterday"])
    assert res.exit_code == 1 and "--now" in res.stderr


def test_a_source_that_yields_nothing_readable_fails_the_command(database_url, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["--database", database_url, "weather", "ingest", "scenario",
                               "--source", "no-such-scenario", "--format", "json"])
    assert res.exit_code == 1
    assert "no-such-scenario" in res.stderr and res.stdout == ""
    (tmp_path / "precip_mm_20260701T0100Z.tif").write_bytes(b"not a GeoTIFF")
    res = runner.invoke(main, ["--database", database_url, "weather", "ingest", "grid-files",
                               "--source", str(tmp_path)])
    assert res.exit_code == 1 and "precip_mm_20260701T0100Z.tif" in res.stderr


def test_demo_replays_the_scenario_through_the_scheduler_until_every_warning_ends(database_url):
    runtime = build_runtime(load_settings(database_url))
    start = dt.datetime(2025, 7, 10, 18, tzinfo=dt.UTC)
    prepare_demo(runtime, hour_seconds=0.25, start=start, load=lambda s: world.build(s))
    sched = scheduler.start_in_process(runtime, speed=200)

    def count(*statuses: AlertStatus) -> int:
        with runtime.sessions() as s:
            stmt = select(func.count(Alert.id))
            if statuses:
                stmt = stmt.where(Alert.status.in_(statuses))
            return s.scalar(stmt)

    try:
        assert scheduler.wait_for(lambda: count() > 0, 30)
        assert scheduler.wait_for(lambda: count() > 0 and count(AlertStatus.ACTIVE) == 0, 60)
    finally:
        sched.shutdown(wait=True)
    with runtime.sessions() as s:
        levels = {a.level.value for a in s.scalars(select(Alert))}
        assert {"orange", "red"} <= levels
        assert s.scalar(select(func.count(Escalation.id))) > 0  # nobody acknowledged
    runtime.engine.dispose()
