"""``disaster import`` and ``disaster export`` on both backends: exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.communities import Community
from gis.db import make_engine
from tests.web.data_factories import COUNTY, TOWN_B, build_city
from web.cli import main


@pytest.fixture(autouse=True)
def _dispose_cli_engines(cli_engines: list) -> None:
    """Each in-process CLI run builds an engine; close their pooled connections afterwards."""


@pytest.fixture
def city_url(database_url: str) -> str:
    engine = make_engine(database_url)
    with Session(engine) as session:
        build_city(session)
        session.commit()
    engine.dispose()
    return database_url


def _communities(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(Community))
    engine.dispose()
    return n


def _csv(path: Path, *rows: str) -> Path:
    header = "code,name,township_code,county_code,population,households,lon,lat\n"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_succeeds_with_exit_0_and_a_summary(city_url: str, tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", f"{TOWN_B}001,东关村,{TOWN_B},{COUNTY},800,290,117.01,33.65")
    result = CliRunner().invoke(main, ["import", "communities", str(path), "--database", city_url])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.stdout
    again = CliRunner().invoke(main, ["import", "communities", str(path), "--database", city_url,
                                      "--format", "json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout)["unchanged"] == 1


def test_bad_gbk_file_exits_1_with_one_line_naming_the_row(city_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(("code,name,township_code,county_code,population,households,lon,lat\n"
                      f"{TOWN_B}001,东关村,{TOWN_B},{COUNTY},800,290,117.01,33.65\n"
                      f"{TOWN_B}002,西关村,{TOWN_B},{COUNTY},-5,290,117.03,33.65\n").encode("gbk"))
    before = _communities(city_url)
    result = CliRunner().invoke(main, ["import", "communities", str(path), "--database", city_url])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "c.csv" in lines[0] and "row 2: population" in lines[0]
    assert result.stdout == ""
    assert _communities(city_url) == before


def test_missing_file_and_unknown_crs_exit_1(city_url: str, tmp_path: Path) -> None:
    missing = CliRunner().invoke(main, ["import", "depots", str(tmp_path / "none.csv"),
                                        "--database", city_url])
    assert missing.exit_code == 1 and "none.csv" in missing.stderr
    path = tmp_path / "d.csv"
    path.write_text("code,name,level,lon,lat\nDP1,库,county,117,33.6\n", encoding="utf-8")
    crs = CliRunner().invoke(main, ["import", "depots", str(path), "--crs", "EPSG:999999",
                                    "--database", city_url])
    assert crs.exit_code == 1 and "unknown CRS" in crs.stderr
    gcj = CliRunner().invoke(main, ["import", "depots", str(path), "--crs", "GCJ-02",
                                    "--database", city_url])
    assert gcj.exit_code == 1 and "GCJ-02" in gcj.stderr


def test_unknown_kind_is_a_usage_error(city_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import", "volcanoes", str(tmp_path / "x.csv"),
                                       "--database", city_url])
    assert result.exit_code == 2


def test_export_to_stdout_and_to_a_file(city_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "communities", "--database", city_url])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 4
    out = tmp_path / "areas.csv"
    result = CliRunner().invoke(main, ["export", "areas", "--format", "csv", "-o", str(out),
                                       "--database", city_url])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["level"] for r in rows] == ["city", "county", "township", "township"]
    stock = CliRunner().invoke(main, ["export", "stock", "--format", "json",
                                      "--database", city_url])
    assert stock.exit_code == 0 and json.loads(stock.stdout) == []


def test_exported_file_imports_back_unchanged(city_url: str, tmp_path: Path) -> None:
    out = tmp_path / "communities.gpkg"
    exported = CliRunner().invoke(main, ["export", "communities", "--format", "gpkg", "-o",
                                         str(out), "--database", city_url])
    assert exported.exit_code == 0, exported.stderr
    result = CliRunner().invoke(main, ["import", "communities", str(out), "--database", city_url,
                                       "--format", "json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 4)


def test_crs_3857_over_degrees_exits_1_saying_the_coordinates_are_degrees(
        city_url: str, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"code,name,level,county_code,lon,lat\nDP1,库,county,{COUNTY},117,33.6\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "depots", str(path), "--crs", "EPSG:3857",
                                       "--database", city_url])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "d.csv" in line and "degrees" in line and "declares no CRS" not in line


def test_latin1_file_exits_1_asking_for_the_encoding(city_url: str, tmp_path: Path) -> None:
    path = tmp_path / "depots.csv"
    path.write_bytes((f"code,name,level,county_code,lon,lat\n"
                      f"DP1,Müllerstraße,county,{COUNTY},117.0,33.6\n"
                      f"DP2,Bäckerstraße,county,{COUNTY},117.1,33.6\n").encode("latin-1"))
    result = CliRunner().invoke(main, ["import", "depots", str(path), "--database", city_url])
    assert result.exit_code == 1
    assert "depots.csv" in result.stderr and "--encoding" in result.stderr


def test_csv_export_to_stdout_neutralises_formula_cells(city_url: str, tmp_path: Path) -> None:
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.01, 33.65]},
         "properties": {"code": "SH1", "name": "@SUM(1+1)*cmd|' /C calc'!A0",
                        "kind": "emergency", "capacity": 500}}]}), encoding="utf-8")
    imported = CliRunner().invoke(main, ["import", "shelters", str(path), "--database", city_url])
    assert imported.exit_code == 0, imported.stderr
    result = CliRunner().invoke(main, ["export", "shelters", "--format", "csv",
                                       "--database", city_url])
    assert result.exit_code == 0, result.stderr
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["name"].startswith("'@SUM") and row["capacity"] == "500"
