"""``disaster evacuation plan`` and the shelter occupancy commands, end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from disaster.access import cli_actor
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from gis.db import make_engine, make_session_factory
from shelters import services
from tests.shelters.conftest import build_city, community_centre, community_code
from web.cli import main


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch, cli_engines):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        build_city(s)
        services.create_shelter(s, cli_actor(), {
            "code": "SH1", "name": "中心学校应急避难场所", "kind": "emergency", "capacity": 150,
            "status": "open", "geometry": Point(*community_centre(2, 1))})
        set_level(s, community_code(1, 1), Hazard.RAINSTORM, WarningLevel.RED)
        s.commit()
    engine.dispose()
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, [*args, "--database", database_url])

    yield run


def test_evacuation_plan_prints_the_contract_json(cli):
    result = cli("evacuation", "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert {"id", "assignments", "unassigned", "problem", "objective"} <= set(plan)
    assert (plan["assignments"][0]["shelter"], plan["assignments"][0]["people"]) == ("SH1", 150)
    assert plan["unassigned"][0]["people"] == 50
    shown = cli("evacuation", "show", str(plan["id"]), "--format", "json")
    assert json.loads(shown.stdout) == plan


def test_arrivals_beyond_capacity_fail_with_one_line_naming_the_field(cli):
    assert cli("shelters", "arrive", "SH1", "100").exit_code == 0
    result = cli("shelters", "arrive", "SH1", "51")
    assert result.exit_code == 1
    assert "exceed the capacity of 150" in result.stderr and "people:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    ok = cli("shelters", "arrive", "SH1", "51", "--override", "--reason", "暴雨加床",
             "--format", "json")
    assert json.loads(ok.stdout)["occupancy"] == 151
    history = json.loads(cli("shelters", "history", "SH1", "--format", "json").stdout)
    assert [h["override"] for h in history] == [False, True]


def test_unknown_shelter_status_is_refused_by_the_command_line(cli):
    assert cli("shelters", "status", "SH1", "flooded").exit_code == 2
    assert cli("shelters", "status", "SH9", "open").exit_code == 1
