"""``disaster officers coverage --format json`` exactly as CONTRACT.md, and the other commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from disaster.access import cli_actor
from disaster.officers import upsert_officers
from gis.db import make_engine, make_session_factory
from tests.disaster.reports.factories import build_region
from web.cli import main
from web.commands import common


def seed(url: str) -> list[str]:
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        region = build_region(s)
        c = region.communities
        upsert_officers(s, cli_actor(), [
            {"code": "A", "name": "甲", "home_community_code": c[1], "primary": [c[1]],
             "backup": [c[0]]},
            {"code": "B", "name": "乙", "home_community_code": c[4], "primary": [c[4]]}])
        s.commit()
    engine.dispose()
    return region.communities


@pytest.fixture(autouse=True)
def _dispose_cli_engines(monkeypatch):  # type: ignore[no-untyped-def]
    """Each command builds its own engine; close them so no connection outlives the test."""
    built = []

    def build(settings):  # type: ignore[no-untyped-def]
        built.append(common.build_runtime.__wrapped__(settings))
        return built[-1]

    build.__wrapped__ = common.build_runtime  # type: ignore[attr-defined]
    monkeypatch.setattr(common, "build_runtime", build)
    yield
    for runtime in built:
        runtime.engine.dispose()


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--database", url, *args], catch_exceptions=False)


def test_coverage_json_then_proposal_approved_covers_everything(database_url):
    c = seed(database_url)
    result = run(database_url, "officers", "coverage", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"code", "primary", "backup"} <= set(data["communities"][0])
    assert data["communities"][0]["code"] == c[0] and data["communities"][0]["backup"]
    assert data["uncovered"] == [c[0], c[2], c[3], c[5]]
    proposal = json.loads(run(database_url, "officers", "propose", "--max-load", "3",
                              "--format", "json").stdout)
    assert len(proposal["items"]) == 4
    approved = run(database_url, "officers", "approve", str(proposal["id"]), "--format", "json")
    assert json.loads(approved.stdout)["skipped"] == []
    after = json.loads(run(database_url, "officers", "coverage", "--format", "json").stdout)
    assert after["uncovered"] == []


def test_handover_refusal_is_one_line_on_stderr(database_url):
    seed(database_url)
    result = CliRunner().invoke(main, ["--database", database_url, "officers", "handover",
                                       "A", "NOPE"])
    assert result.exit_code == 1
    assert "NOPE" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_reports_export_and_thresholds(database_url, tmp_path):
    seed(database_url)
    out = tmp_path / "t.csv"
    assert run(database_url, "reports", "export", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").startswith("township_code,")
    result = run(database_url, "reports", "thresholds", "--profile", "city", "--set", "city",
                 "IV", "dead_missing", "2", "--format", "json")
    assert json.loads(result.stdout)["city"]["IV"]["dead_missing"] == 2
