"""The compiled accumulation kernel gives bit-identical results to the numpy path."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disaster.warnings import engine, kernel
from disaster.warnings.levels import Hazard
from disaster.warnings.levels import WarningLevel as L
from disaster.warnings.rules import DEFAULT_RULES, Rule

needs_numba = pytest.mark.skipif(not kernel.AVAILABLE, reason="numba not installed")

T = dt.datetime(2020, 8, 1, 12, tzinfo=dt.UTC)
H = engine.HOUR
ROOT = Path(__file__).resolve().parents[3]


def _default(*hazards: Hazard) -> dict[Hazard, list[Rule]]:
    return {h: [r for r in DEFAULT_RULES if r.hazard == h] for h in hazards}


def _index(rng: np.random.Generator, n_comm: int, max_cells: int, uncovered: int = 3
           ) -> engine.LabelIndex:
    """Segments of random sizes; some communities uncovered, a few reuse one cell."""
    sizes = rng.integers(1, max_cells + 1, size=n_comm)
    size = int(sizes.sum())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    comm = np.sort(rng.permutation(n_comm + uncovered)[:n_comm]).astype(np.int64)
    return engine.LabelIndex(n_comm + uncovered, np.arange(size, dtype=np.int64), starts, comm)


def _field(rng: np.random.Generator, size: int, nan_frac: float, dtype=np.float32,
           scale: float = 12.0) -> np.ndarray:
    a = rng.gamma(0.8, scale, size=size).astype(dtype)
    # tenths of mm that add up to a threshold, give or take the float rounding
    edge = rng.random(size) < 0.15
    a[edge] = rng.choice([0.1, 1.2, 2.5, 4.1, 8.3, 12.5, 16.6, 16.7, 25.0, 33.3, 50.0],
                         size=int(edge.sum()))
    a[rng.random(size) < nan_frac] = np.nan
    return a


def _both(rules: dict[Hazard, list[Rule]], series: dict[str, engine.Series],
          index: engine.LabelIndex, now: dt.datetime, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(engine, "USE_KERNEL", False)
    ref = engine.evaluate_grid(rules, series, index, now)
    monkeypatch.setattr(engine, "USE_KERNEL", True)
    got = engine.evaluate_grid(rules, series, index, now)
    return ref, got


def _assert_identical(ref: list[engine.HazardResult], got: list[engine.HazardResult]) -> None:
    assert [r.hazard for r in ref] == [g.hazard for g in got]
    for r, g in zip(ref, got, strict=True):
        assert r.ranks.dtype == g.ranks.dtype and r.peaks.dtype == g.peaks.dtype
        assert np.array_equal(r.ranks, g.ranks)
        # bit for bit, NaN included
        assert np.array_equal(r.peaks.view(np.uint64), g.peaks.view(np.uint64))
        assert r.metrics == g.metrics


def _series(hours: dict[dt.datetime, np.ndarray]) -> engine.Series:
    size = next(iter(hours.values())).size
    return engine.Series(hours, size)


@needs_numba
@pytest.mark.parametrize("seed", range(6))
def test_kernel_matches_numpy_on_random_grids_with_nans(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    index = _index(rng, 300, 40)
    now = T + dt.timedelta(minutes=int(rng.integers(0, 60)))
    # observed hours back to T-13 and forecast hours to T+6, some missing
    offsets = [k for k in range(-13, 7) if rng.random() > 0.15]
    nan_frac = [0.0, 0.02, 0.3, 0.9][seed % 4]
    hours = {T + k * H: _field(rng, index.size, nan_frac) for k in offsets}
    snow = {T + k * H: _field(rng, index.size, nan_frac, scale=2.0) for k in offsets[::2]}
    series = {"precip_mm": _series(hours), "snow_mm": _series(snow)}
    ref, got = _both(_default(Hazard.RAINSTORM, Hazard.SNOWSTORM), series, index, now,
                     monkeypatch)
    assert ref and {r.hazard for r in ref} == {Hazard.RAINSTORM, Hazard.SNOWSTORM}
    _assert_identical(ref, got)
    if nan_frac < 0.5:
        assert (ref[0].ranks > 0).any()


@needs_numba
def test_kernel_matches_numpy_in_parallel_parts(monkeypatch):
    """Above the small-grid limit the segments are split over threads."""
    rng = np.random.default_rng(7)
    index = _index(rng, 3000, 200)
    assert index.size >= 200_000
    hours = {T - k * H: _field(rng, index.size, 0.05) for k in range(12)}
    series = {"precip_mm": _series(hours)}
    ref, got = _both(_default(Hazard.RAINSTORM), series, index, T, monkeypatch)
    _assert_identical(ref, got)
    assert len(set(ref[0].ranks.tolist())) >= 4


@needs_numba
def test_groups_several_variables_and_float64(monkeypatch):
    """AND-groups over two variables, float64 hours, a level with two groups."""
    rng = np.random.default_rng(11)
    index = _index(rng, 200, 30)
    rules = {Hazard.RAINSTORM: [
        Rule(Hazard.RAINSTORM, L.BLUE, "precip_mm", "sum", 6, 30.0, 1),
        Rule(Hazard.RAINSTORM, L.BLUE, "snow_mm", "sum", 3, 5.0, 1),
        Rule(Hazard.RAINSTORM, L.BLUE, "precip_mm", "sum", 2, 25.0, 2),
        Rule(Hazard.RAINSTORM, L.ORANGE, "snow_mm", "sum", 4, 12.0, 0),
        Rule(Hazard.RAINSTORM, L.RED, "precip_mm", "sum", 1, 25, 0),
    ]}
    for dtype in (np.float64, np.float32):
        hours = {T + k * H: _field(rng, index.size, 0.1, dtype) for k in range(-8, 5)}
        snow = {T + k * H: _field(rng, index.size, 0.1, dtype, 3.0) for k in range(-8, 3)}
        series = {"precip_mm": _series(hours), "snow_mm": _series(snow)}
        ref, got = _both(rules, series, index, T, monkeypatch)
        _assert_identical(ref, got)


def test_cases_the_kernel_does_not_take_use_numpy(monkeypatch):
    """Other rule kinds, mixed dtypes, numpy-scalar thresholds: the numpy path answers."""
    rng = np.random.default_rng(3)
    index = _index(rng, 100, 20)
    calls = []
    real = kernel.reduce_sums
    monkeypatch.setattr(kernel, "reduce_sums", lambda *a, **k: calls.append(1) or real(*a, **k))
    hours = {T - k * H: _field(rng, index.size, 0.1) for k in range(12)}
    hours[T - 2 * H] = hours[T - 2 * H].astype(np.float64)
    series = {"precip_mm": _series(hours)}
    heat = {Hazard.HEAT: [Rule(Hazard.HEAT, L.BLUE, "precip_mm", "max", 3, 20.0)]}
    scalar = {Hazard.RAINSTORM: [Rule(Hazard.RAINSTORM, L.BLUE, "precip_mm", "sum", 3,
                                      np.float64(40.0))]}
    for rules in (_default(Hazard.RAINSTORM), heat, scalar):
        ref, got = _both(rules, series, index, T, monkeypatch)
        _assert_identical(ref, got)
    assert calls == []


def test_no_data_and_no_cells(monkeypatch):
    rng = np.random.default_rng(5)
    index = _index(rng, 50, 10)
    later = {T + 30 * H: _field(rng, index.size, 0.0)}  # beyond every window end
    for series in ({}, {"precip_mm": _series(later)}):
        ref, got = _both(_default(Hazard.RAINSTORM), series, index, T, monkeypatch)
        assert ref == got == []
    empty = engine.LabelIndex(4, np.zeros(0, np.int64), np.zeros(0, np.int64),
                              np.zeros(0, np.int64))
    series = {"precip_mm": engine.Series({T: np.zeros(0, np.float32)}, 0)}
    ref, got = _both(_default(Hazard.RAINSTORM), series, empty, T, monkeypatch)
    assert ref == got == []


_finite = st.floats(0.0, 120.0, width=32, allow_subnormal=False)
_cell = st.one_of(_finite, st.just(float("nan")), st.sampled_from(
    [0.0, 16.666666, 16.667, 49.999, 50.0, 24.9995, 25.0, 33.333, 99.999, 100.0]))


@needs_numba
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), n_hours=st.integers(1, 14), present=st.lists(st.booleans(), min_size=14,
                                                                      max_size=14))
def test_hypothesis_kernel_is_bit_identical(data, n_hours, present, monkeypatch):
    sizes = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=8), label="segments")
    size = sum(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    index = engine.LabelIndex(len(sizes) + 1, np.arange(size, dtype=np.int64), starts,
                              np.arange(len(sizes), dtype=np.int64))
    hours = {}
    for k in range(n_hours):
        if present[k] or k == 0:
            vals = data.draw(st.lists(_cell, min_size=size, max_size=size), label=f"h{k}")
            hours[T + 2 * H - k * H] = np.asarray(vals, dtype=np.float32)
    series = {"precip_mm": _series(hours)}
    ref, got = _both(_default(Hazard.RAINSTORM), series, index, T, monkeypatch)
    _assert_identical(ref, got)


def test_numpy_fallback_without_numba(tmp_path):
    """With numba unimportable the engine still evaluates, on the numpy path."""
    code = textwrap.dedent("""
        import sys
        sys.modules["numba"] = None  # import numba -> ImportError
        import datetime as dt
        import numpy as np
        from disaster.warnings import engine, kernel
        from disaster.warnings.levels import Hazard
        from disaster.warnings.rules import DEFAULT_RULES
        assert not kernel.AVAILABLE and not engine.USE_KERNEL
        T = dt.datetime(2020, 8, 1, 12, tzinfo=dt.UTC)
        idx = engine.LabelIndex(3, np.arange(4), np.array([0, 1]), np.array([0, 2]))
        vals = np.array([30, np.nan, 20, 10], np.float32)
        s = {"precip_mm": engine.Series({T - k * engine.HOUR: vals for k in range(3)}, 4)}
        rules = {Hazard.RAINSTORM: [r for r in DEFAULT_RULES if r.hazard == Hazard.RAINSTORM]}
        (res,) = engine.evaluate_grid(rules, s, idx, T)
        assert res.ranks.tolist() == [3, -1, 3], res.ranks
        assert res.peaks[0] == 90 and res.peaks[2] == 60, res.peaks
        print("ok")
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
