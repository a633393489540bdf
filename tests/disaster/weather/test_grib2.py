"""grib2: model runs as they arrive — accumulations, steps, runs, analyses, 0–360° grids."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import delete, select

from disaster.warnings.alerts import alert_dicts
from disaster.warnings.service import compute_levels, ingest_and_evaluate
from disaster.weather.grib.runs import GridOrigin, status
from disaster.weather.grids import unpack
from disaster.weather.ingest import ingest
from disaster.weather.models import WeatherGrid
from tests.disaster.warnings import world
from tests.disaster.weather.gribs import CMA_APCP, Field, write_grib

H = dt.timedelta(hours=1)
RUN = world.START


def _levels(session, now):
    desired = compute_levels(session, now)
    return {c: lv.value for c, lv in desired["rainstorm"].levels.items() if lv is not None}


def _cumulative_metres(rain: np.ndarray) -> np.ndarray:
    """ECMWF ``tp``: metres accumulated since the run started."""
    return np.cumsum(rain.astype(np.float64), axis=0) / 1000.0


def _hour(session, when, variable="precip_mm") -> np.ndarray:
    row = session.scalar(select(WeatherGrid).where(WeatherGrid.valid_time == when,
                                                   WeatherGrid.variable == variable))
    return unpack(row.data).reshape(row.height, row.width)


def _crop(session, full: np.ndarray) -> np.ndarray:
    """``full`` (on world.GRID_TRANSFORM) cut to the window the provider kept."""
    row = session.scalars(select(WeatherGrid)).first()
    col0 = round((row.transform[2] - world.GRID_TRANSFORM[2]) / world.CELL)
    row0 = round((world.GRID_TRANSFORM[5] - row.transform[5]) / world.CELL)
    return full[..., row0:row0 + row.height, col0:col0 + row.width]


def test_warnings_from_grib2_equal_those_from_the_same_hourly_geotiffs(session, tmp_path):
    world.build(session)
    rain = world.rain_sequence(12)
    cum = _cumulative_metres(rain)
    write_grib(tmp_path / "ecmwf.grib2", [Field(cum[k], RUN, k + 1) for k in range(12)],
               world.GRID_TRANSFORM)
    report = ingest(session, "grib2", str(tmp_path / "ecmwf.grib2"), now=RUN)
    assert report.errors == [] and report.stored == 12
    from_grib = _levels(session, RUN)
    session.execute(delete(WeatherGrid))
    world.write_series(tmp_path / "tif", rain)
    ingest(session, "grid-files", str(tmp_path / "tif"), now=RUN)
    from_tiff = _levels(session, RUN)
    assert from_grib == from_tiff
    assert {"red", "orange"} & set(from_grib.values())  # the storm does warn


def test_three_hourly_steps_are_spread_evenly_and_never_negative(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    totals = np.stack([np.full((h, w), v, np.float64) for v in (0.006, 0.015, 0.015)])
    totals[2, 0, 0] = 0.0149  # packing noise: the total shrinks a little
    write_grib(tmp_path / "run.grib2", [Field(totals[k], RUN, 3 * (k + 1)) for k in range(3)],
               world.GRID_TRANSFORM)
    report = ingest(session, "grib2", str(tmp_path / "run.grib2"), now=RUN)
    assert report.stored == 9
    for k in range(1, 4):
        np.testing.assert_allclose(_hour(session, RUN + k * H)[5, 5], 2.0, rtol=1e-5)
    for k in range(4, 7):
        np.testing.assert_allclose(_hour(session, RUN + k * H)[5, 5], 3.0, rtol=1e-5)
    assert _hour(session, RUN + 7 * H)[0, 0] == 0.0  # never negative
    assert _hour(session, RUN + 7 * H)[5, 5] == 0.0


def test_cma_interval_apcp_in_millimetres_gives_the_same_hours_as_ecmwf_totals(session, tmp_path):
    world.build(session)
    rain = world.rain_sequence(6)
    three = rain.reshape(2, 3, *world.GRID_SHAPE).sum(axis=1)  # two 3-hour amounts (mm)
    write_grib(tmp_path / "cma.grib2",
               [Field(three[k], RUN, 3 * (k + 1), start_hours=3 * k, param=CMA_APCP)
                for k in range(2)], world.GRID_TRANSFORM)
    ingest(session, "grib2", str(tmp_path / "cma.grib2"), now=RUN)
    for k in range(6):
        np.testing.assert_allclose(_hour(session, RUN + (k + 1) * H), _crop(session, three[k // 3] / 3),
                                   rtol=1e-6)


def test_a_0_360_grid_gives_the_same_warnings_and_only_the_window_is_kept(session, tmp_path):
    world.build(session)
    cell = 0.25
    lats = 32  # 33.75 … 25.75: the communities lie in the first rows
    rng = np.random.default_rng(5)
    east = np.round(rng.gamma(2.0, 12.0, size=(3, lats, 1440)) * 2) / 2  # columns from 0°
    west_first = np.roll(east, 720, axis=2)                              # columns from −180°
    write_grib(tmp_path / "a360.grib2",
               [Field(_cumulative_metres(east)[k], RUN, k + 1) for k in range(3)],
               (cell, 0, 0.0, 0, -cell, 33.75 + 2 * cell))
    ingest(session, "grib2", str(tmp_path / "a360.grib2"), now=RUN)
    held = session.scalars(select(WeatherGrid)).all()
    assert all(r.width * r.height < 40 for r in held)  # a window, not the globe
    assert all(-180 <= r.transform[2] <= 180 for r in held)
    levels_360 = _levels(session, RUN)
    session.execute(delete(WeatherGrid))
    session.execute(delete(GridOrigin))
    write_grib(tmp_path / "a180.grib2",
               [Field(_cumulative_metres(west_first)[k], RUN, k + 1) for k in range(3)],
               (cell, 0, -180.0, 0, -cell, 33.75 + 2 * cell))
    ingest(session, "grib2", str(tmp_path / "a180.grib2"), now=RUN)
    assert _levels(session, RUN) == levels_360 and levels_360


def test_a_newer_run_replaces_the_older_runs_hours_with_update_then_cancel(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    heavy = np.cumsum(np.full((6, h, w), 35.0), axis=0) / 1000   # 105 mm in 3 h: red
    # with the old run's first hour (35 mm): 45 mm in 3 h, 60 mm in 6 h: yellow
    moderate = np.cumsum(np.full((6, h, w), 5.0), axis=0) / 1000
    write_grib(tmp_path / "r00.grib2", [Field(heavy[k], RUN, k + 1) for k in range(6)],
               world.GRID_TRANSFORM)
    run2 = RUN + H
    write_grib(tmp_path / "r01.grib2", [Field(moderate[k], run2, k + 1) for k in range(6)],
               world.GRID_TRANSFORM)
    run3 = RUN + 2 * H
    write_grib(tmp_path / "r02.grib2", [Field(np.zeros((h, w)), run3, k + 1) for k in range(6)],
               world.GRID_TRANSFORM)
    ingest_and_evaluate(session, "grib2", str(tmp_path / "r00.grib2"), now=RUN)
    assert {a["level"] for a in alert_dicts(session, active_only=True)} == {"red"}
    _rep, counts = ingest_and_evaluate(session, "grib2", str(tmp_path / "r01.grib2"), now=run2)
    assert counts["updated"] >= 1
    assert {a["level"] for a in alert_dicts(session, active_only=True)} == {"yellow"}
    origin = {o.valid_time: o.run_time for o in session.scalars(select(GridOrigin))}
    assert origin[RUN + 2 * H] == run2 and origin[RUN + 7 * H] == run2
    assert origin[RUN + H] == RUN  # an hour the newer run does not cover stays
    _rep, counts = ingest_and_evaluate(session, "grib2", str(tmp_path / "r02.grib2"), now=run3)
    assert counts["cancelled"] >= 1 and alert_dicts(session, active_only=True) == []
    msg_types = [a["msg_type"] for a in alert_dicts(session)]
    assert {"Alert", "Update", "Cancel"} <= set(msg_types)


def test_an_older_run_arriving_late_does_not_replace_a_newer_one(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    write_grib(tmp_path / "new.grib2", [Field(np.full((h, w), 0.001 * (k + 1)), RUN + H, k + 1)
                                         for k in range(3)], world.GRID_TRANSFORM)
    write_grib(tmp_path / "old.grib2", [Field(np.full((h, w), 0.02 * (k + 1)), RUN, k + 1)
                                         for k in range(3)], world.GRID_TRANSFORM)
    ingest(session, "grib2", str(tmp_path / "new.grib2"), now=RUN + H)
    ingest(session, "grib2", str(tmp_path / "old.grib2"), now=RUN + H)
    np.testing.assert_allclose(_hour(session, RUN + 2 * H)[0, 0], 1.0, rtol=1e-5)
    assert _hour(session, RUN + H)[0, 0] == 20.0  # the hour only the old run covers


def test_an_observed_hour_beats_any_forecast(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    analysis = Field(np.full((h, w), 2.5), RUN, 1, param=CMA_APCP, process=0)  # CMPAS-like
    write_grib(tmp_path / "obs.grib2", [analysis], world.GRID_TRANSFORM)
    later = RUN + 6 * H
    write_grib(tmp_path / "fc.grib2", [Field(np.full((h, w), 0.05), RUN - 6 * H, 7),
                                        Field(np.full((h, w), 0.05), later - 6 * H, 7)],
               world.GRID_TRANSFORM)
    ingest(session, "grib2", str(tmp_path / "obs.grib2"), now=RUN + H)
    ingest(session, "grib2", str(tmp_path / "fc.grib2"), now=later)
    assert _hour(session, RUN + H)[3, 3] == 2.5
    origin = session.scalar(select(GridOrigin).where(GridOrigin.valid_time == RUN + H))
    assert origin.observed
    by_source = {s["source"]: s for s in status(session)}
    hours = {x["valid_time"]: x["run"] for x in by_source[str(tmp_path / "obs.grib2")]["hours"]}
    assert hours == {f"{RUN + H:%Y-%m-%dT%H:%MZ}": "observed"}


def test_truncated_and_corrupt_messages_are_named_and_the_good_ones_used(session, tmp_path):
    world.build(session)
    rain = world.rain_sequence(4)
    cum = _cumulative_metres(rain)
    path = write_grib(tmp_path / "run.grib2", [Field(cum[k], RUN, k + 1) for k in range(4)],
                      world.GRID_TRANSFORM)
    data = path.read_bytes()
    size = len(data) // 4
    broken = bytearray(data)
    broken[2 * size - 4: 2 * size] = b"XXXX"     # message 2 loses its end marker
    path.write_bytes(bytes(broken[: len(data) - size // 2]))  # message 4 cut short
    report = ingest(session, "grib2", str(path), now=RUN)
    assert any("message 2" in e and "corrupt" in e for e in report.errors), report.errors
    assert any("message 4" in e and "truncated" in e for e in report.errors), report.errors
    # Messages 1 and 3 are used: hour 1 from step 1, hours 2–3 from the step 1 → 3 difference.
    np.testing.assert_allclose(_hour(session, RUN + H), _crop(session, rain[0]), rtol=1e-5)
    np.testing.assert_allclose(_hour(session, RUN + 3 * H), _crop(session, (rain[1] + rain[2]) / 2),
                               rtol=1e-4,
                               atol=1e-4)


def test_a_url_template_fetches_each_step_of_the_newest_published_run(session, tmp_path):
    world.build(session)
    h, w = world.GRID_SHAPE
    for step in (3, 6):
        write_grib(tmp_path / f"{RUN:%Y%m%d%H}-{step}h.grib2",
                   [Field(np.full((h, w), 0.004 * step), RUN, step)], world.GRID_TRANSFORM)
    template = f"file://{tmp_path}/{{run:%Y%m%d%H}}-{{step}}h.grib2"
    report = ingest(session, "grib2", template, now=RUN + 2 * H,
                    options={"cycle_hours": 12, "delay_hours": 1, "steps": "3-9/3", "runs": 1})
    assert report.stored == 6 and report.errors == []  # hours 1–6 from steps 3 and 6
    np.testing.assert_allclose(_hour(session, RUN + 5 * H)[0, 0], 4.0, rtol=1e-5)
    (source,) = status(session)
    assert source["source"] == template and source["latest_run"] == "2020-08-01T00:00Z"
    # The next poll fetches only the step still missing, which is now published.
    (tmp_path / f"{RUN:%Y%m%d%H}-3h.grib2").unlink()  # would fail if fetched again
    write_grib(tmp_path / f"{RUN:%Y%m%d%H}-9h.grib2", [Field(np.full((h, w), 0.036), RUN, 9)],
               world.GRID_TRANSFORM)
    from disaster.weather.ingest import fetch
    batch = fetch(session, "grib2", template, RUN + 3 * H,
                  {"cycle_hours": 12, "delay_hours": 1, "steps": "3-9/3", "runs": 1})
    assert batch.errors == [] and not any("-3h" in n for n in batch.notes)
    new = {g.valid_time: float(g.values[0]) for g in batch.grids}
    # step 6 is fetched again only as the total step 9 is differenced against
    assert sorted(new) == [RUN + k * H for k in (7, 8, 9)]
    assert new[RUN + 8 * H] == pytest.approx(4.0, rel=1e-5)    # (36 − 24 mm) / 3 h


def test_a_grid_scanned_south_to_north_is_read_the_right_way_up(session, tmp_path):
    world.build(session)
    rain = world.rain_sequence(3)
    cum = _cumulative_metres(rain)
    a, _, c, _, e, f = world.GRID_TRANSFORM
    south_up = (a, 0.0, c, 0.0, -e, f + e * world.GRID_SHAPE[0])  # first row is the southmost
    write_grib(tmp_path / "s2n.grib2", [Field(np.flipud(cum[k]), RUN, k + 1) for k in range(3)],
               south_up)
    ingest(session, "grib2", str(tmp_path / "s2n.grib2"), now=RUN)
    row = session.scalars(select(WeatherGrid)).first()
    assert row.transform[4] < 0  # stored north-up
    np.testing.assert_allclose(_hour(session, RUN + 2 * H), _crop(session, rain[1]), rtol=1e-5,
                               atol=1e-5)
