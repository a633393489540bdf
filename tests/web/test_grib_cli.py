"""``weather ingest grib2`` and ``weather status`` from the command line; the scheduler's sources."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from click.testing import CliRunner

from tests.disaster.warnings import world
from tests.disaster.weather.gribs import Field, write_grib
from tests.web.test_weather_cli import _dispose_cli_engines, _world  # noqa: F401 - fixture
from web.cli import main

RUN = world.START


def test_ingest_grib2_and_status_name_the_run_of_each_hour(database_url, tmp_path):
    _world(database_url)
    h, w = world.GRID_SHAPE
    cum = np.cumsum(np.full((6, h, w), 25.0), axis=0) / 1000
    write_grib(tmp_path / "run00.grib2", [Field(cum[k], RUN, k + 1) for k in range(6)],
               world.GRID_TRANSFORM)
    write_grib(tmp_path / "run03.grib2", [Field(cum[k], RUN + 3 * dt.timedelta(hours=1), 3 * (k + 1))
                                           for k in range(2)], world.GRID_TRANSFORM)
    runner = CliRunner()
    args = ["--database", database_url]
    res = runner.invoke(main, [*args, "weather", "ingest", "grib2", "--source", str(tmp_path),
                               "--now", "2020-08-01T03:00Z", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["issued"] >= 1 and data["ingest"]["errors"] == []
    res = runner.invoke(main, [*args, "weather", "status", "--format", "json"])
    assert res.exit_code == 0, res.output
    (source,) = json.loads(res.stdout)
    assert source["source"] == str(tmp_path) and source["latest_run"] == "2020-08-01T03:00Z"
    runs = {r["run"]: r["steps"] for r in source["runs"]}
    # Hours 01:00–03:00 only the 00Z run covers; 04:00–09:00 the 03Z run's two 3-hour steps.
    assert runs == {"2020-08-01T00:00Z": [1.0, 2.0, 3.0], "2020-08-01T03:00Z": [3.0, 6.0]}
    by_hour = {x["valid_time"]: x["run"] for x in source["hours"]}
    assert by_hour["2020-08-01T03:00Z"] == "2020-08-01T00:00Z"
    assert by_hour["2020-08-01T05:00Z"] == "2020-08-01T03:00Z"
    res = runner.invoke(main, [*args, "weather", "status"])
    assert "latest run 2020-08-01T03:00Z" in res.output


def test_the_scheduler_accepts_a_grib2_source(database_url, tmp_path):
    res = CliRunner().invoke(main, ["--database", database_url, "scheduler", "add-source", "ecmwf",
                                    "--provider", "grib2", "--source", str(tmp_path),
                                    "--interval-minutes", "60", "--option", "cycle_hours=12",
                                    "--option", "steps=0-144/3,150-240/6", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["provider"] == "grib2"
    assert data["options"] == {"cycle_hours": 12, "steps": "0-144/3,150-240/6"}
