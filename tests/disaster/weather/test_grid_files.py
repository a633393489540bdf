"""grid-files: bad input is logged by file name and nothing is half-ingested."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest
from scipy.io import netcdf_file
from sqlalchemy import func, select

from disaster.warnings.alerts import alert_dicts
from disaster.warnings.service import ingest_and_evaluate
from disaster.warnings.state import current_levels
from disaster.weather.ingest import ingest
from disaster.weather.models import IngestionRecord, WeatherGrid
from tests.disaster.warnings import world

RANK = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
T3 = world.START + dt.timedelta(hours=3)


def _levels(session) -> dict[str, int]:
    return {c: RANK[by_h["rainstorm"].value] for c, by_h in current_levels(session).items()
            if "rainstorm" in by_h}


def test_corrupt_and_truncated_geotiffs_are_named_and_the_rest_is_ingested(session, tmp_path, caplog):
    world.build(session)
    paths = world.write_series(tmp_path, np.full((4, *world.GRID_SHAPE), 5.0, np.float32))
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 3])          # truncated
    paths[2].write_bytes(b"II*\x00" + b"\x17" * 500)      # corrupt
    (tmp_path / "precip_mm_latest.tif").write_bytes(data)  # misnamed
    with caplog.at_level(logging.ERROR, logger="disaster.weather"):
        report = ingest(session, "grid-files", str(tmp_path), now=world.START + dt.timedelta(hours=4))
    assert report.stored == 2
    for bad in (paths[1].name, paths[2].name, "precip_mm_latest.tif"):
        assert any(bad in e for e in report.errors), (bad, report.errors)
        assert bad in caplog.text
    errors = session.scalars(select(IngestionRecord.source_key)
                             .where(IngestionRecord.status == "error")).all()
    assert {p.split("/")[-1] for p in errors} == {paths[1].name, paths[2].name, "precip_mm_latest.tif"}
    assert session.scalar(select(func.count(WeatherGrid.id))) == 2
    assert any("missing hour" in g for g in report.gaps)  # the two bad hours leave a gap


def test_grid_in_web_mercator_is_reprojected_onto_the_communities(session, tmp_path):
    world.build(session)
    from pyproj import Transformer
    tr = Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y1 = tr.transform(116.98, 33.74)
    x1, y0 = tr.transform(117.20, 33.56)
    size = 800.0  # metres
    w, h = int((x1 - x0) // size) + 1, int((y1 - y0) // size) + 1
    transform = (size, 0.0, x0, 0.0, -size, y1)
    rng = np.random.default_rng(3)
    values = np.round(rng.gamma(1.5, 9.0, size=(3, h, w)) * 2).astype(np.float32) / 2
    world.write_series(tmp_path, values, transform=transform, crs="EPSG:3857")
    ingest_and_evaluate(session, "grid-files", str(tmp_path), now=T3)
    expected = {c: v for c, v in world.reference_peak_levels(values, transform, "EPSG:3857").items()
                if c != world.TINY}
    got = _levels(session)
    assert {c: got.get(c, 0) for c in expected} == expected
    assert any(expected.values())


def test_nan_and_nodata_cells_are_ignored_never_zero_or_huge(session, tmp_path):
    world.build(session)
    values = np.full((3, *world.GRID_SHAPE), 10.0, np.float32)   # 30 mm in 3 h: no warning
    values[:, 2:5, 2:5] = -9999.0                                # nodata block (would be huge)
    values[1, 6:9, 4:8] = np.nan
    values[:, 10:13, 14:17] = 40.0                               # red in one community
    values[0, 10, 14] = -9999.0
    world.write_series(tmp_path, values, nodata=-9999.0)
    ingest_and_evaluate(session, "grid-files", str(tmp_path), now=T3)
    reference = np.where(values == -9999.0, np.nan, values)
    expected = world.reference_peak_levels(reference)
    assert _levels(session) == {c: v for c, v in expected.items() if v}
    assert set(_levels(session).values()) == {4}


def test_missing_hour_is_logged_and_the_other_hours_count(session, tmp_path, caplog):
    world.build(session)
    paths = world.write_series(tmp_path, np.full((4, *world.GRID_SHAPE), 20.0, np.float32))
    paths[2].unlink()
    with caplog.at_level(logging.ERROR, logger="disaster.weather"):
        report, _ = ingest_and_evaluate(session, "grid-files", str(tmp_path),
                                        now=world.START + dt.timedelta(hours=4))
    assert report.gaps == ["missing hour 2020-08-01T03:00Z of precip_mm"]
    assert "missing hour 2020-08-01T03:00Z" in caplog.text
    assert session.scalar(select(IngestionRecord.id).where(IngestionRecord.status == "gap"))
    # hours 1, 2 and 4 hold 60 mm within 6 h: yellow, and 40 mm in the last 3 h is no orange
    assert set(_levels(session).values()) == {2}


def test_conflicting_files_for_one_hour_are_refused_identical_ones_kept(session, tmp_path):
    world.build(session)
    paths = world.write_series(tmp_path, np.full((2, *world.GRID_SHAPE), 5.0, np.float32))
    twin = tmp_path / (paths[0].stem + ".tiff")
    twin.write_bytes(paths[0].read_bytes())        # identical: harmless
    other = world.write_series(tmp_path / "x", np.full((1, *world.GRID_SHAPE), 9.0, np.float32),
                               start=world.START + dt.timedelta(hours=1))[0]
    conflict = tmp_path / (paths[1].stem + ".tiff")
    conflict.write_bytes(other.read_bytes())       # same hour, different values
    report = ingest(session, "grid-files", str(tmp_path), now=T3)
    assert report.stored == 1
    assert any(paths[1].name in e and conflict.name in e for e in report.errors)
    stored = session.scalars(select(WeatherGrid.valid_time)).all()
    assert stored == [world.START + dt.timedelta(hours=1)]


def test_a_late_file_for_an_earlier_hour_is_taken_into_account(session, tmp_path):
    world.build(session)
    paths = world.write_series(tmp_path, np.full((3, *world.GRID_SHAPE), 20.0, np.float32))
    early = paths[0].read_bytes()
    paths[0].unlink()
    ingest_and_evaluate(session, "grid-files", str(tmp_path), now=T3)
    assert set(_levels(session).values()) == {0} or not _levels(session)  # 40 mm: nothing yet
    paths[0].write_bytes(early)                    # the first hour arrives out of order
    report, counts = ingest_and_evaluate(session, "grid-files", str(tmp_path), now=T3)
    assert report.stored == 1 and report.unchanged == 2
    assert counts["issued"] == 2 and set(_levels(session).values()) == {3}


def test_netcdf_with_cf_time_axis(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    path = tmp_path / "rain.nc"
    f = netcdf_file(path, "w")
    f.createDimension("time", 3)
    f.createDimension("lat", h)
    f.createDimension("lon", w)
    t = f.createVariable("time", "f8", ("time",))
    t.units = "hours since 2020-08-01 00:00:00"
    t.standard_name = "time"
    t[:] = [1, 2, 3]
    lat = f.createVariable("lat", "f8", ("lat",))
    lat.units = "degrees_north"
    lat[:] = 33.74 - world.CELL * (np.arange(h) + 0.5)
    lon = f.createVariable("lon", "f8", ("lon",))
    lon.units = "degrees_east"
    lon[:] = 116.98 + world.CELL * (np.arange(w) + 0.5)
    rain = f.createVariable("precip_mm", "f4", ("time", "lat", "lon"))
    rain.units = "mm"
    values = np.zeros((3, h, w), np.float32)
    values[:, :, 11:] = 35.0
    rain[:] = values
    f.close()
    report, _counts = ingest_and_evaluate(session, "grid-files", str(path), now=T3)
    assert not report.errors and report.stored == 3
    assert sorted(session.scalars(select(WeatherGrid.valid_time))) == [
        world.START + dt.timedelta(hours=k) for k in (1, 2, 3)]
    levels = _levels(session)
    expected = world.reference_peak_levels(values)
    assert levels == {c: v for c, v in expected.items() if v} and set(levels.values()) == {4}
    assert [a["county"] for a in alert_dicts(session)] == ["341321"]


@pytest.mark.parametrize("name", ["precip_mm_20200801T0130Z.tif", "rain_20200801T0100Z.tif"])
def test_misnamed_files_are_refused_by_name(session, tmp_path, name):
    world.write_series(tmp_path, np.zeros((1, *world.GRID_SHAPE), np.float32))
    src = next(tmp_path.glob("*.tif"))
    src.rename(tmp_path / name)
    report = ingest(session, "grid-files", str(tmp_path), now=T3)
    assert report.stored == 0 and name in report.errors[0]
