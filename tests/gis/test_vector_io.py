"""Vector files in and out: formats, UTF-8/GBK, CRS handling, malformed input (no database)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box, shape

from gis.errors import CRSError
from gis.geometry import gcj02_to_wgs84
from gis.vector_io import VectorFileError, detect_encoding, read_vector, write_vector

SUZHOU = (117.0, 33.64)


def _feature_collection(features: list[dict], crs: str | None = None) -> dict:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def _point_feature(x: float, y: float, **props: object) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [x, y]}}


def test_gbk_csv_is_detected_and_decoded(tmp_path: Path) -> None:
    path = tmp_path / "depots.csv"
    path.write_bytes("code,name,lon,lat\nDP1,宿州市救灾物资储备库,117.0,33.6\n".encode("gbk"))
    data = read_vector(path)
    assert data.encoding == "gbk"
    assert data.rows == [{"code": "DP1", "name": "宿州市救灾物资储备库"}]
    assert data.geometries[0].equals(Point(117.0, 33.6))


def test_utf8_csv_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "depots.csv"
    path.write_bytes("\ufeffcode,name,lon,lat\nDP1,萧县储备库,116.9,34.2\n".encode())
    data = read_vector(path)
    assert data.encoding == "utf-8"
    assert data.rows[0]["code"] == "DP1"


def test_given_encoding_wins_and_wrong_one_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_bytes("code,name\nA,灵璧县\n".encode("gbk"))
    assert read_vector(path, encoding="gbk").rows[0]["name"] == "灵璧县"
    with pytest.raises(VectorFileError, match=r"names\.csv: not valid utf-8"):
        read_vector(path, encoding="utf-8")


def test_detect_encoding_tells_utf8_from_gbk() -> None:
    text = "砀山县砀城镇东关社区居民委员会"
    assert detect_encoding(text.encode()) == "utf-8"
    assert detect_encoding(text.encode("gbk")) == "gbk"


def test_csv_row_with_bad_coordinates_is_reported_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code,lon,lat\nA,117,33.6\nB,east,33.6\n\nC,117.1,33.7\n", encoding="utf-8")
    data = read_vector(path)
    assert len(data.rows) == 3  # the blank line is not a row
    assert list(data.row_errors) == ["row 2: lon/lat"]
    assert data.geometries[1] is None


def test_malformed_geojson_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [ {"type": "Feat', encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"broken\.geojson"):
        read_vector(path)


def test_missing_and_unsupported_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VectorFileError, match=r"nothere\.geojson: no such file"):
        read_vector(tmp_path / "nothere.geojson")
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(VectorFileError, match="unsupported file type"):
        read_vector(other)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("code\n" + "A\n" * 100, encoding="utf-8")
    with pytest.raises(VectorFileError, match="import limit"):
        read_vector(path, max_bytes=50)


def test_geojson_without_crs_is_lonlat(tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(_feature_collection([_point_feature(*SUZHOU, code="A")])),
                    encoding="utf-8")
    data = read_vector(path)
    assert data.crs is None
    assert data.geometries[0].equals(Point(*SUZHOU))


def test_epsg3857_input_is_transformed_to_lonlat(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(*SUZHOU)
    path = tmp_path / "mercator.geojson"
    path.write_text(json.dumps(_feature_collection([_point_feature(x, y, code="A")],
                                                   crs="urn:ogc:def:crs:EPSG::3857")),
                    encoding="utf-8")
    geom = read_vector(path).geometries[0]
    assert geom.x == pytest.approx(SUZHOU[0], abs=1e-9)
    assert geom.y == pytest.approx(SUZHOU[1], abs=1e-9)


def test_crs_option_applies_to_csv_coordinates(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 32650, always_xy=True).transform(*SUZHOU)
    path = tmp_path / "utm.csv"
    path.write_text(f"code,lon,lat\nA,{x},{y}\n", encoding="utf-8")
    geom = read_vector(path, crs="EPSG:32650").geometries[0]
    assert (geom.x, geom.y) == pytest.approx(SUZHOU, abs=1e-7)


def test_cgcs2000_is_taken_as_lonlat(tmp_path: Path) -> None:
    path = tmp_path / "cgcs.csv"
    path.write_text("code,lon,lat\nA,117.0,33.64\n", encoding="utf-8")
    data = read_vector(path, crs="EPSG:4490")
    assert data.geometries[0].equals(Point(*SUZHOU))


def test_projected_coordinates_without_crs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noprj.csv"
    path.write_text("code,lon,lat\nA,500000,3722000\n", encoding="utf-8")
    with pytest.raises(CRSError, match="declares no CRS"):
        read_vector(path)


def test_lonlat_crs_with_projected_numbers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wrong.geojson"
    path.write_text(json.dumps(_feature_collection([_point_feature(500000, 3722000)],
                                                   crs="EPSG:4326")), encoding="utf-8")
    with pytest.raises(CRSError, match="not lon/lat in China"):
        read_vector(path)


def test_unknown_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("code,lon,lat\nA,117,33.6\n", encoding="utf-8")
    with pytest.raises(CRSError, match="unknown CRS"):
        read_vector(path, crs="EPSG:999999")


def test_declared_crs_conflicting_with_option_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps(_feature_collection([_point_feature(*SUZHOU)], crs="EPSG:4326")),
                    encoding="utf-8")
    with pytest.raises(CRSError, match="--crs says"):
        read_vector(path, crs="EPSG:3857")


def test_gcj02_is_refused_unless_converted_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "amap.csv"
    path.write_text("code,lon,lat\nA,117.0065,33.6372\n", encoding="utf-8")
    with pytest.raises(CRSError, match="GCJ-02"):
        read_vector(path, crs="GCJ-02")
    geojson = tmp_path / "amap.geojson"
    geojson.write_text(json.dumps(_feature_collection([_point_feature(117.0065, 33.6372)],
                                                      crs="GCJ-02")), encoding="utf-8")
    with pytest.raises(CRSError, match="--from-gcj02"):
        read_vector(geojson)
    converted = read_vector(path, from_gcj02=True).geometries[0]
    expected = gcj02_to_wgs84(117.0065, 33.6372)
    assert (converted.x, converted.y) == pytest.approx(expected, abs=1e-9)
    # The offset is hundreds of metres: the conversion really moved the point.
    assert abs(converted.x - 117.0065) + abs(converted.y - 33.6372) > 1e-3


def test_zipped_gbk_shapefile_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"code": ["341302001"], "name": ["埇桥街道"]},
                           geometry=[box(116.9, 33.6, 117.0, 33.7)], crs="EPSG:4326")
    gdf.to_file(folder / "towns.shp", encoding="GBK", engine="pyogrio")
    (folder / "towns.cpg").unlink(missing_ok=True)  # no code page file: detection decides
    archive = tmp_path / "towns.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    data = read_vector(archive)
    assert data.encoding == "gbk"
    assert data.rows[0]["name"] == "埇桥街道"
    assert data.geometries[0].equals(box(116.9, 33.6, 117.0, 33.7))
    direct = read_vector(folder / "towns.shp")
    assert direct.rows[0]["name"] == "埇桥街道"


def test_zip_without_one_shapefile_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(VectorFileError, match=r"empty\.zip: a zipped shapefile needs exactly one"):
        read_vector(archive)


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "json"])
def test_written_files_read_back(tmp_path: Path, fmt: str) -> None:
    rows = [{"code": "A", "name": "东关社区", "population": 120},
            {"code": "B", "name": "西关社区", "population": None}]
    geoms = [box(117.0, 33.6, 117.01, 33.61), box(117.01, 33.6, 117.02, 33.61)]
    suffix = {"geojson": "geojson", "gpkg": "gpkg", "csv": "csv", "json": "json"}[fmt]
    path = tmp_path / f"out.{suffix}"
    write_vector(path, fmt, rows, geoms, layer="communities")
    if fmt == "json":
        records = json.loads(path.read_text(encoding="utf-8"))
        assert records[0]["name"] == "东关社区"
        assert Point(records[0]["lon"], records[0]["lat"]).within(geoms[0])
        return
    data = read_vector(path)
    assert [r["code"] for r in data.rows] == ["A", "B"]
    assert data.rows[0]["name"] == "东关社区"
    if fmt == "csv":
        assert data.geometries[0].within(geoms[0])  # representative point
    else:
        assert data.geometries[0].equals(geoms[0])


def test_geojson_to_a_stream_is_rfc7946() -> None:
    buffer = io.BytesIO()
    write_vector(buffer, "geojson", [{"code": "A"}], [Point(*SUZHOU)])
    doc = json.loads(buffer.getvalue())
    assert "crs" not in doc
    assert shape(doc["features"][0]["geometry"]).equals(Point(*SUZHOU))


# --- hardening: encodings, CRS messages, rows outside China, formula cells -----------------

LATIN1_CSV = "code,name,lon,lat\nSH1,Müllerstraße,117.0,33.6\nSH2,Bäckerstraße,117.1,33.6\n"


def test_latin1_file_that_happens_to_decode_as_gbk_is_refused_naming_the_file(
        tmp_path: Path) -> None:
    raw = LATIN1_CSV.encode("latin-1")
    raw.decode("gb18030")  # the trap: it decodes without error, as garbage
    path = tmp_path / "depots_latin1.csv"
    path.write_bytes(raw)
    with pytest.raises(VectorFileError) as caught:
        read_vector(path)
    assert "depots_latin1.csv" in caught.value.message
    assert "--encoding" in caught.value.message


def test_gbk_place_names_with_gbk_only_characters_are_still_gbk(tmp_path: Path) -> None:
    # 埇 is outside GB2312: a file of 埇桥区 names is real GBK all the same.
    path = tmp_path / "towns.csv"
    path.write_bytes("code,name,county\n341302001,埇桥街道,埇桥区\n341302100,埇东镇,埇桥区\n"
                     .encode("gbk"))
    data = read_vector(path)
    assert data.encoding == "gbk" and data.rows[0]["county"] == "埇桥区"


def test_degrees_under_crs_3857_are_named_as_degrees(tmp_path: Path) -> None:
    path = tmp_path / "degrees.csv"
    path.write_text("code,lon,lat\nA,117.0,33.64\nB,117.2,33.7\n", encoding="utf-8")
    with pytest.raises(CRSError) as caught:
        read_vector(path, crs="EPSG:3857")
    message = caught.value.message
    assert "declares no CRS" not in message
    assert "degrees" in message and "EPSG:3857" in message and "--crs" in message


def test_mercator_metres_without_a_crs_are_named_as_metres(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(*SUZHOU)
    path = tmp_path / "mercator.csv"
    path.write_text(f"code,lon,lat\nA,{x},{y}\n", encoding="utf-8")
    with pytest.raises(CRSError) as caught:
        read_vector(path)
    assert "metres" in caught.value.message and "EPSG:3857" in caught.value.message


def test_every_row_outside_china_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("code,lon,lat\nA,117.0,33.6\nB,2.35,48.85\nC,117.1,33.6\nD,-74.0,40.7\n",
                    encoding="utf-8")
    data = read_vector(path)
    assert set(data.row_errors) == {"row 2: lon/lat", "row 4: lon/lat"}


def test_formula_cells_are_neutralised_and_negative_numbers_kept(tmp_path: Path) -> None:
    rows = [{"name": '=HYPERLINK("http://evil.example","点我")', "delta": -5, "text": "-12.5",
             "note": "@SUM(A1)", "plus": "+1+cmd|' /C calc'!A0", "tab": "\tx", "dash": "-x"}]
    path = tmp_path / "out.csv"
    write_vector(path, "csv", rows, [None])
    written = next(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    assert written["name"] == "'" + rows[0]["name"]
    assert written["delta"] == "-5" and written["text"] == "-12.5"
    assert written["note"] == "'@SUM(A1)" and written["plus"].startswith("'+")
    assert written["tab"] == "'\tx" and written["dash"] == "'-x"
    # Read back, the names are what was stored.
    assert read_vector(path).rows[0]["name"] == rows[0]["name"]
