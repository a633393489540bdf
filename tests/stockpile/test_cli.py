"""``disaster dispatch plan --format json`` and the stock commands (CONTRACT.md)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from shapely.geometry import LineString
from sqlalchemy.orm import Session

from gis.db import make_engine
from tests.stockpile.conftest import seed_relief, seed_stock
from web.cli import main


@pytest.fixture
def db(database_url, tmp_path, monkeypatch, cli_engines):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    engine = make_engine(database_url)
    with Session(engine) as session:
        seed_relief(seed_stock(session))
        session.commit()
    engine.dispose()
    yield database_url


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--database", db])
    return result.exit_code, result.stdout, result.stderr


def test_dispatch_plan_json_is_the_contract_and_orders_are_stored(db):
    code, out, _ = run(db, "dispatch", "plan", "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert {"id", "orders", "unmet", "problem", "objective"} <= set(plan)
    assert plan["orders"] and all(o["status"] == "draft" for o in plan["orders"])
    code, out, _ = run(db, "dispatch", "show", str(plan["id"]), "--format", "json")
    assert json.loads(out)["objective"] == plan["objective"]


def test_stock_commands_and_one_line_errors(db):
    assert run(db, "stock", "receive", "DPB", "TENT12", "3")[0] == 0
    code, out, _ = run(db, "stock", "on-hand", "DPB", "--format", "json")
    assert {r["item"]: r["quantity"] for r in json.loads(out)}["TENT12"] == 3
    code, _, err = run(db, "stock", "issue", "DPB", "TENT12", "4")
    assert code == 1 and "救灾帐篷" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(db, "stock", "transfer", "DPB", "DPB", "TENT12", "1")
    assert code == 1 and "to_depot" in err


def test_imported_roads_give_road_distances(db, tmp_path):
    import geopandas as gpd

    # A road from DPA east along 33.63 °N, then south to the communities' latitude.
    roads = gpd.GeoDataFrame(geometry=[LineString([(116.98, 33.63), (117.3, 33.63)]),
                                       LineString([(117.3, 33.63), (117.3, 33.62)])],
                             crs="EPSG:4326")
    path = tmp_path / "roads.gpkg"
    roads.to_file(path, driver="GPKG")
    before = json.loads(run(db, "dispatch", "plan", "--format", "json")[1])
    code, out, err = run(db, "dispatch", "roads", str(path), "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"segments": 2}
    after = json.loads(run(db, "dispatch", "plan", "--format", "json")[1])
    crow = {(c["depot"], c["destination"]): c["cost"] for c in before["problem"]["costs"]}
    road = {(c["depot"], c["destination"]): c["cost"] for c in after["problem"]["costs"]}
    # DPA to the shelter at 117.2 °E: 29.7 + 1.1 km of road, then 9.3 km back × 1.3.
    assert road[("DPA", "SH1")] == pytest.approx(29.7 + 1.1 + 9.3 * 1.3, abs=0.3)
    assert road[("DPA", "SH1")] > crow[("DPA", "SH1")]


def test_dispatch_plan_from_chosen_depots_items_and_source(db):
    code, out, _ = run(db, "dispatch", "plan", "--source", "reports", "--depot", "DPB",
                       "--item", "QUILT", "--due-hours", "6", "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert {o["depot"] for o in plan["orders"]} == {"DPB"}
    assert {ln["item"] for o in plan["orders"] for ln in o["lines"]} == {"QUILT"}
    code, _, err = run(db, "dispatch", "plan", "--depot", "NOPE")
    assert code == 1 and "NOPE" in err
