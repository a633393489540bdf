"""Hazard zones from real terrain and approximate rivers; the terrain window itself."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from disaster.errors import DisasterValidationError
from disaster.sample.hazards import build_hazard_zones
from disaster.sample.records import AreaRecord
from disaster.sample.terrain import Grid, read_csv, write_csv
from gis.geometry import area_km2
from tests.disaster.sample.support import EPS, by_level


def test_hazard_zones_lie_in_the_city_and_cover_flood_and_waterlogging(sample):
    city = by_level(sample, "city")["341300"]["geometry"].buffer(EPS)
    kinds = Counter((z["kind"], z["level"]) for z in sample.hazard_zones)
    assert {k for k, _ in kinds} >= {"flood_prone", "waterlogging"}
    assert {lv for k, lv in kinds if k == "flood_prone"} == {1, 2, 3}
    codes = [z["code"] for z in sample.hazard_zones]
    assert len(set(codes)) == len(codes)
    for z in sample.hazard_zones:
        assert city.contains(z["geometry"]) and z["geometry"].is_valid
        assert z["generated"] and "generated" in z["source"]
        assert area_km2(z["geometry"]) >= 1.0


def test_every_county_seat_has_an_urban_waterlogging_zone(sample):
    urban = [z for z in sample.hazard_zones if z["name"].endswith("城区内涝风险区")]
    assert len(urban) >= 5
    assert {z["name"][:-7] for z in urban} == {"埇桥区", "砀山县", "萧县", "灵璧县", "泗县"}


def test_flood_prone_zones_follow_the_terrain_not_only_the_river():
    # A straight river through a plain at 20 m, with a 60 m ridge on its northern bank east
    # of 117.5 °E: the ridge is next to the river but far above it, so it is not flood-prone.
    lons = np.round(np.arange(116.9, 118.11, 0.2), 5)
    lats = np.round(np.arange(34.1, 32.89, -0.2), 5)
    elevation = np.full((lats.size, lons.size), 20.0)
    elevation[np.ix_(lats > 33.55, lons > 117.5)] = 60.0
    dem = Grid(lons, lats, elevation)
    box = MultiPolygon([Polygon([(117.0, 33.1), (118.0, 33.1), (118.0, 33.9), (117.0, 33.9)])])
    city = AreaRecord("341300", "test", "city", None, 0, box, False, "test")
    params = {"rivers": [{"name": "测试河", "course": [[116.9, 33.5], [118.1, 33.5]]}],
              "hazards": {"grid_deg": 0.01, "min_zone_km2": 1.0, "depression_sigma_km": 8.0,
                          "collapse_min_elevation_m": 500.0, "waterlogging_levels": [],
                          "flood_levels": [{"level": 1, "max_distance_km": 5.0,
                                            "max_height_above_river_m": 5.0}]}}
    zones = build_hazard_zones(city, [], {}, params, dem)
    assert {z.name for z in zones} == {"测试河沿岸洪涝易发区（低）"}
    flood = shapely.union_all([z.geom for z in zones])
    assert flood.contains(Point(117.2, 33.53)) and flood.contains(Point(117.2, 33.47))
    assert flood.contains(Point(117.8, 33.47))  # south bank: low ground
    assert not flood.contains(Point(117.9, 33.57))  # north bank: on the ridge
    assert not flood.contains(Point(117.2, 33.7))  # too far from the river


# rasterio runs in a child process: its bundled GDAL crashes in a process where SpatiaLite
# (loaded by the database tests) has brought in the system's GDAL-related libraries.
_WRITE_DEM = """
import sys
import numpy as np
import rasterio
from affine import Affine

data = (np.arange(12)[:, None] * 100 + np.arange(20)[None, :]).astype("float32")
if sys.argv[2] == "far":
    data = data[:4, :4]
origin = (115.0, 36.0) if sys.argv[2] == "near" else (100.0, 40.0)
with rasterio.open(sys.argv[1], "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                   count=1, dtype="float32", crs="EPSG:4326",
                   transform=Affine(0.2, 0.0, origin[0], 0.0, -0.2, origin[1])) as ds:
    ds.write(data, 1)
"""


def _terrain_command(tmp_path, where: str) -> subprocess.CompletedProcess:
    tif, out = tmp_path / "dem.tif", tmp_path / "dem.csv"
    subprocess.run([sys.executable, "-c", _WRITE_DEM, str(tif), where], check=True)
    script = ("import sys; from disaster.sample import terrain; "
              "terrain.SUZHOU_WINDOW = (116.0, 34.0, 117.0, 35.0); "
              "sys.exit(terrain.main(sys.argv))")
    return subprocess.run([sys.executable, "-c", script, str(tif), str(out)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[3])


def test_terrain_window_is_cut_from_a_raster_into_the_csv_grid(tmp_path):
    # 0.2° cells from 115.0 °E / 36.0 °N, elevation = 100·row + col.
    result = _terrain_command(tmp_path, "near")
    assert result.returncode == 0, result.stderr
    grid = read_csv(tmp_path / "dem.csv")
    assert grid.lons[0] == pytest.approx(116.1) and grid.lats[0] == pytest.approx(34.9)
    assert grid.elevation.shape == (5, 5)
    assert grid.elevation[0, 0] == 100 * 5 + 5
    assert np.all(np.diff(grid.lats) < 0)
    assert grid.sample(np.array([116.1]), np.array([34.9]))[0] == pytest.approx(505)
    assert grid.sample(np.array([116.2]), np.array([34.9]))[0] == pytest.approx(505.5)


def test_a_raster_that_misses_the_window_is_refused(tmp_path):
    result = _terrain_command(tmp_path, "far")
    assert result.returncode != 0 and "does not cover" in result.stderr


def test_the_terrain_grid_round_trips_through_csv(tmp_path):
    grid = Grid(np.array([116.0, 116.2]), np.array([34.2, 34.0]), np.array([[1.0, 2.0],
                                                                            [3.0, 4.5]]))
    write_csv(grid, tmp_path / "dem.csv")
    again = read_csv(tmp_path / "dem.csv")
    np.testing.assert_allclose(again.elevation, grid.elevation)
    np.testing.assert_allclose(again.lats, grid.lats)


def test_a_malformed_terrain_file_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "dem.csv"
    bad.write_text("lat\\lon,116.0,116.2\n34.0,20,abc\n", encoding="utf-8")
    with pytest.raises(DisasterValidationError, match=r"dem\.csv"):
        read_csv(bad)
