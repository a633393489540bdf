"""Import and export of data sets: all-or-nothing imports, every bad row named, round trips."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import Point, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.access import Actor, Role, cli_actor
from disaster.areas import Area
from disaster.audit import AuditEntry
from disaster.communities import Community
from disaster.officers import Officer
from gis.errors import CRSError, PermissionDenied, ValidationError
from gis.geometry import gcj02_to_wgs84
from shelters.models import Shelter
from stockpile.models import Depot, StockLevel
from tests.web.data_factories import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    audit_count,
    build_city,
    movement_count,
)
from web.data_io import export_kind, import_file

ADMIN = cli_actor()
HEADER = "code,name,township_code,county_code,population,households,lon,lat\n"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(geom: object, **props: object) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": mapping(geom) if geom is not None else None}


def test_gbk_csv_with_one_bad_row_is_rejected_naming_that_row(session: Session,
                                                                tmp_path: Path) -> None:
    build_city(session)
    before = (_count(session, Community), audit_count(session))
    path = tmp_path / "新社区.csv"
    path.write_bytes((HEADER
                      + f"{TOWN_B}001,东关村,{TOWN_B},{COUNTY},800,290,117.01,33.65\n"
                      + f"{TOWN_B}002,西关村,{TOWN_B},{COUNTY},-5,290,117.03,33.65\n"
                      + f"{TOWN_B}003,南关村,{TOWN_B},{COUNTY},700,250,117.05,33.65\n"
                      ).encode("gbk"))
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "communities", path)
    assert list(caught.value.fields) == ["row 2: population"]
    assert "新社区.csv" in caught.value.message and "rows 2" in caught.value.message
    assert (_count(session, Community), audit_count(session)) == before


def test_every_bad_row_is_listed_with_field_and_reason(session: Session, tmp_path: Path) -> None:
    build_city(session)
    before = (_count(session, Community), audit_count(session))
    path = tmp_path / "communities.csv"
    path.write_text(HEADER
                    + f"{TOWN_B}001,好村,{TOWN_B},{COUNTY},800,290,117.01,33.65\n"
                    + f"{TOWN_B}002,非数村,{TOWN_B},{COUNTY},many,290,117.03,33.65\n"
                    + f"341302099003,无镇村,341302099,{COUNTY},700,250,117.05,33.65\n"
                    + f"{TOWN_B}001,重复村,{TOWN_B},{COUNTY},700,250,117.05,33.65\n"
                    + f"{TOWN_B}005,坏点村,{TOWN_B},{COUNTY},700,250,east,33.65\n"
                    + f"{TOWN_B}006,负户村,{TOWN_B},{COUNTY},700,-1,117.07,33.65\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "communities", path)
    fields = caught.value.fields
    assert "whole number" in fields["row 2: population"][0]
    assert "unknown township 341302099" in fields["row 3: township_code"][0]
    assert "duplicate code" in fields["row 4: code"][0] and "row 1" in fields["row 4: code"][0]
    assert "row 5: lon/lat" in fields
    assert "at least 0" in fields["row 6: households"][0]
    assert not any(k.startswith("row 1:") for k in fields)
    assert (_count(session, Community), audit_count(session)) == before


def test_unknown_parent_code_is_refused(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = _geojson(tmp_path / "towns.geojson", [
        _feature(Point(117, 33.6).buffer(0.01), code="341302003", name="新镇", level="township",
                 parent_code="341399"),
    ])
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "areas", path)
    assert caught.value.fields == {"row 1: parent_code": ["unknown parent area 341399"]}


def test_bad_geometry_is_refused(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = _geojson(tmp_path / "zones.geojson", [
        _feature(Point(117, 33.6).buffer(0.01), code="HZ1", name="低洼区", kind="flood_prone",
                 level=2),
        {"type": "Feature", "properties": {"code": "HZ2", "name": "线", "kind": "flood_prone",
                                           "level": 2},
         "geometry": {"type": "LineString", "coordinates": [[117, 33.6], [117.1, 33.7]]}},
        _feature(None, code="HZ3", name="无形", kind="waterlogging", level=1),
    ])
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "hazard-zones", path)
    assert "LineString" in caught.value.fields["row 2: geometry"][0]
    assert "geometry is required" in caught.value.fields["row 3: geometry"][0]


def test_unknown_enum_value_is_refused(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "shelters.csv"
    path.write_text("code,name,kind,capacity,lon,lat\nSH1,体育馆,bunker,500,117.0,33.6\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "shelters", path)
    assert "must be one of emergency" in caught.value.fields["row 1: kind"][0]


def test_malformed_geojson_is_refused_naming_the_file(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": ', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad\.geojson"):
        import_file(session, ADMIN, "areas", path)


def test_unknown_crs_is_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "depots.csv"
    path.write_text("code,name,level,lon,lat\nDP1,库,county,117,33.6\n", encoding="utf-8")
    with pytest.raises(CRSError, match="unknown CRS"):
        import_file(session, ADMIN, "depots", path, crs="EPSG:999999")


def test_gcj02_is_refused_unless_converted_explicitly(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "depots.csv"
    path.write_text(f"code,name,level,county_code,lon,lat\nDP9,高德库,county,{COUNTY},117.0065,33.6372\n",
                    encoding="utf-8")
    with pytest.raises(CRSError, match="GCJ-02"):
        import_file(session, ADMIN, "depots", path, crs="GCJ-02")
    assert session.scalar(select(Depot).where(Depot.code == "DP9")) is None
    summary = import_file(session, ADMIN, "depots", path, from_gcj02=True)
    assert summary.created == 1
    stored = session.scalar(select(func.ST_X(Depot.geom)).where(Depot.code == "DP9"))
    assert stored == pytest.approx(gcj02_to_wgs84(117.0065, 33.6372)[0], abs=1e-9)


def test_epsg3857_input_is_transformed(session: Session, tmp_path: Path) -> None:
    build_city(session)
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(117.0, 33.64)
    path = _geojson(tmp_path / "shelters.geojson", [
        _feature(Point(x, y), code="SH9", name="公园固定避难场所", kind="fixed", capacity=2000),
    ], crs="urn:ogc:def:crs:EPSG::3857")
    import_file(session, ADMIN, "shelters", path)
    lon, lat = session.execute(select(func.ST_X(Shelter.geom), func.ST_Y(Shelter.geom))
                               .where(Shelter.code == "SH9")).one()
    assert (lon, lat) == pytest.approx((117.0, 33.64), abs=1e-9)


def test_projected_coordinates_without_crs_are_refused(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "depots.csv"
    path.write_text("code,name,level,lon,lat\nDP1,库,county,500000,3722000\n", encoding="utf-8")
    with pytest.raises(CRSError, match="declares no CRS"):
        import_file(session, ADMIN, "depots", path)


def test_oversized_file_is_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("code,name,level\n" + "DPX,库,county\n" * 50, encoding="utf-8")
    with pytest.raises(ValidationError, match="import limit"):
        import_file(session, ADMIN, "depots", path, max_bytes=100)


def test_reimport_updates_existing_codes_and_says_so(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "c.csv"
    path.write_text(HEADER + f"{TOWN_A}001,第1社区,{TOWN_A},{COUNTY},1500,500,,\n"
                    + f"{TOWN_B}001,新村,{TOWN_B},{COUNTY},900,300,117.05,33.65\n",
                    encoding="utf-8")
    summary = import_file(session, ADMIN, "communities", path)
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 0)
    assert "1 updated (their codes existed already)" in summary.text()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "community.update")
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.entity_id == f"{TOWN_A}001"
    assert entry.before == {"population": 1001, "households": 365}
    assert entry.after == {"population": 1500, "households": 500}
    again = import_file(session, ADMIN, "communities", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize(("kind", "fmt", "suffix"), [
    ("communities", "geojson", "geojson"),
    ("communities", "csv", "csv"),
    ("communities", "gpkg", "gpkg"),
    ("areas", "geojson", "geojson"),
    ("areas", "gpkg", "gpkg"),
    ("depots", "csv", "csv"),
    ("shelters", "geojson", "geojson"),
])
def test_export_then_import_changes_nothing(session: Session, tmp_path: Path, kind: str,
                                            fmt: str, suffix: str) -> None:
    build_city(session)
    shelters = tmp_path / "seed.csv"
    shelters.write_text(f"code,name,kind,capacity,county_code,community_code,lon,lat\n"
                        f"SH1,第1社区应急避难场所,emergency,300,{COUNTY},{TOWN_A}001,"
                        "116.815,33.605\n", encoding="utf-8")
    import_file(session, ADMIN, "shelters", shelters)
    out = tmp_path / f"export.{suffix}"
    rows = export_kind(session, kind, fmt, out)
    assert rows > 0
    before = audit_count(session)
    summary = import_file(session, ADMIN, kind, out)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, rows)
    assert audit_count(session) == before


def test_exported_properties_follow_the_contract(session: Session, tmp_path: Path) -> None:
    build_city(session)
    out = tmp_path / "c.geojson"
    export_kind(session, "communities", "geojson", out)
    feature = json.loads(out.read_text(encoding="utf-8"))["features"][0]
    assert list(feature["properties"]) == ["code", "name", "township_code", "county_code",
                                           "population", "households"]
    export_kind(session, "areas", "csv", tmp_path / "a.csv")
    header = (tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "code,name,level,parent_code,lon,lat"


def test_stock_import_counts_through_the_ledger_and_is_idempotent(session: Session,
                                                                  tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "stock.csv"
    path.write_text("depot,item,quantity,lot,expires_on\n"
                    "DP341302,QUILT,500,,\n"
                    "DP341302,WATER,1200.5,W2026,2027-06-30\n", encoding="utf-8")
    first = import_file(session, ADMIN, "stock", path)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    moves, audits = movement_count(session), audit_count(session)
    again = import_file(session, ADMIN, "stock", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (movement_count(session), audit_count(session)) == (moves, audits)
    path.write_text("depot,item,quantity,lot,expires_on\nDP341302,QUILT,480,,\n",
                    encoding="utf-8")
    counted = import_file(session, ADMIN, "stock", path)
    assert counted.updated == 1 and movement_count(session) == moves + 1
    water = session.scalar(select(StockLevel.expires_on).where(StockLevel.lot == "W2026"))
    assert water == dt.date(2027, 6, 30)


def test_bad_stock_rows_are_all_named(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "stock.csv"
    path.write_text("depot,item,quantity,lot\n"
                    "DP404,QUILT,5,\n"
                    "DP341302,NOPE,5,\n"
                    "DP341302,QUILT,2.5,\n"
                    "DP341302,TENT12,-3,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "stock", path)
    assert set(caught.value.fields) == {"row 1: depot", "row 2: item", "row 3: quantity",
                                        "row 4: quantity"}
    assert movement_count(session) == 0


def test_officers_are_imported_with_their_communities(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "officers.csv"
    path.write_text("code,name,phone,email,home_community_code,primary,backup\n"
                    f"OF1,张伟,13800000001,zw@example.cn,{TOWN_A}001,{TOWN_A}001;{TOWN_A}002,\n"
                    f"OB1,李娜,13800000002,ln@example.cn,{TOWN_A}003,,{TOWN_A}001 {TOWN_A}002\n",
                    encoding="utf-8")
    summary = import_file(session, ADMIN, "officers", path)
    assert summary.created == 2
    assert _count(session, Officer) == 2
    assert import_file(session, ADMIN, "officers", path).unchanged == 2


def test_only_administrators_import(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "depots.csv"
    path.write_text(f"code,name,level,county_code\nDP2,库,county,{COUNTY}\n", encoding="utf-8")
    officer = Actor(user_id=None, username="o", role=Role.INFO_OFFICER, source="test")
    with pytest.raises(PermissionDenied):
        import_file(session, officer, "depots", path)
    assert session.scalar(select(Depot).where(Depot.code == "DP2")) is None


def test_areas_need_a_known_parent_of_the_right_level(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "areas.csv"
    path.write_text("code,name,level,parent_code\n"
                    f"341302003,新镇,township,{TOWN_A}\n"
                    "341303,新区,county,341300\n"
                    "341304001,孤镇,township,341304\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "areas", path)
    fields = caught.value.fields
    assert "is not a county" in fields["row 1: parent_code"][0]
    assert "row 2: parent_code" not in fields
    assert fields["row 3: parent_code"] == ["unknown parent area 341304"]
    assert session.scalar(select(Area).where(Area.code == "341303")) is None


def test_empty_exports_are_valid_documents(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "reports.geojson"
    assert export_kind(session, "reports", "geojson", out) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["features"] == []
    out = tmp_path / "alerts.json"
    assert export_kind(session, "alerts", "json", out) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == []


def test_registry_import_leaves_live_occupancy_alone(session: Session, tmp_path: Path) -> None:
    build_city(session)
    path = tmp_path / "shelters.csv"
    path.write_text("code,name,kind,capacity,occupancy,status,lon,lat\n"
                    "SH1,广场应急避难场所,emergency,300,0,standby,116.9,33.6\n", encoding="utf-8")
    import_file(session, ADMIN, "shelters", path)
    shelter = session.scalar(select(Shelter).where(Shelter.code == "SH1"))
    shelter.occupancy = 120  # people arrived since (the occupancy service's business)
    session.flush()
    summary = import_file(session, ADMIN, "shelters", path)
    assert summary.unchanged == 1
    assert session.scalar(select(Shelter.occupancy).where(Shelter.code == "SH1")) == 120


def test_community_figures_and_point_must_be_consistent(session: Session,
                                                         tmp_path: Path) -> None:
    build_city(session)
    path = _geojson(tmp_path / "c.geojson", [
        _feature(Point(117.05, 33.65).buffer(0.005), code=f"{TOWN_B}001", name="老人村",
                 township_code=TOWN_B, county_code=COUNTY, population=100, elderly=150),
        _feature(Point(117.07, 33.65).buffer(0.005), code=f"{TOWN_A}009", name="错镇村",
                 township_code=TOWN_B, county_code=COUNTY, population=100),
    ])
    with pytest.raises(ValidationError) as caught:
        import_file(session, ADMIN, "communities", path)
    assert "exceeds the population" in caught.value.fields["row 1: elderly"][0]
    assert "does not start with township" in caught.value.fields["row 2: code"][0]


def test_zipped_gbk_shapefile_of_townships_is_imported(session: Session, tmp_path: Path) -> None:
    import zipfile

    import geopandas as gpd

    build_city(session)
    folder = tmp_path / "shp"
    folder.mkdir()
    # dBase field names have at most 10 characters: parent_code arrives as parent_cod.
    gdf = gpd.GeoDataFrame({"code": ["341302003"], "name": ["三八街道"], "level": ["township"],
                            "parent_cod": [COUNTY]},
                           geometry=[Point(117.1, 33.7).buffer(0.02)], crs="EPSG:4490")
    gdf.to_file(folder / "towns.shp", encoding="GBK", engine="pyogrio")
    archive = tmp_path / "towns.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    summary = import_file(session, ADMIN, "areas", archive)
    assert summary.created == 1
    assert session.scalar(select(Area.name).where(Area.code == "341302003")) == "三八街道"


@pytest.fixture(scope="module")
def sample_data() -> object:
    """The 宿州 sample, generated once per test session."""
    from web.sample_loader import generate_sample_data

    return generate_sample_data(as_of=dt.date(2026, 11, 29))


@pytest.mark.slow
def test_sample_load_twice_changes_nothing(session: Session, sample_data: object) -> None:
    from web.sample_loader import load_sample

    first = load_sample(session, ADMIN, data=sample_data)
    assert first["counts"]["communities"]["created"] >= 1300
    assert first["counts"]["stock"]["created"] > 0
    assert {u["role"] for u in first["users"]["created"]} == {
        "admin", "duty_officer", "info_officer", "depot_manager"}
    models = (Area, Community, Shelter, Depot, StockLevel, Officer)
    counts = [_count(session, m) for m in models]
    audits, moves = audit_count(session), movement_count(session)
    second = load_sample(session, ADMIN, data=sample_data)
    assert all(c["created"] == c["updated"] == 0 for c in second["counts"].values())
    assert second["users"]["created"] == []
    assert sorted(second["users"]["kept"]) == sorted(u["username"] for u in first["users"]["created"])
    assert [_count(session, m) for m in models] == counts
    assert (audit_count(session), movement_count(session)) == (audits, moves)
