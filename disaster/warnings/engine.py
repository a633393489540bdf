"""The warning engine: CMA criteria evaluated per grid cell, reduced per community.

Semantics (CONTRACT.md, warning semantics): at evaluation time T a community meets a
criterion (window w, threshold) when some grid cell whose centre lies inside the community
(the cell under its representative point if none does) has the window statistic ending at
some t with T ≤ t ≤ T + w at or beyond the threshold. Its level is the highest level met.

How it is fast: the communities are rasterised once per grid geometry into a label raster
(cell centre rule, exactly the semantics above) and cached; per evaluation the criteria are
computed on whole arrays, each cell gets the highest level it meets, and one
``np.maximum.reduceat`` over the cells sorted by label gives every community's level.
No per-polygon loop. Hazards whose criteria are all accumulations (暴雨, 暴雪) run instead
in a compiled two-thread kernel (:mod:`disaster.warnings.kernel`, numba) that reads each
hourly array once and gives bit-identical results; without numba the numpy path serves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS, Transformer
from rasterio import features
from shapely.geometry.base import BaseGeometry

from disaster.warnings import kernel
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.rules import Rule
from disaster.weather.grids import GridSpec
from gis.geometry import is_geographic_equivalent

log = logging.getLogger(__name__)
HOUR = dt.timedelta(hours=1)
LEVELS = [WarningLevel.BLUE, WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED]
# Float32 sums of tenths of millimetres are not exact: 50.0 may come out 49.99999.
EPS = 1e-3


@dataclass
class LabelIndex:
    """Which grid cells belong to which community, for one grid geometry.

    ``cells`` lists the flat grid indices of the cells any community uses, grouped by
    community: first the cells whose centre lies inside (sorted by community), then one
    cell per community that contains no cell centre (the cell under its representative
    point). Hourly grids are gathered into this order once (:meth:`compact`); evaluation
    then runs on contiguous arrays and ``np.maximum.reduceat`` over ``seg_starts`` gives
    each community in ``seg_comm`` its value without any further gather.
    """

    n: int
    cells: np.ndarray
    seg_starts: np.ndarray
    seg_comm: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        mask[self.seg_comm] = True
        return mask

    @property
    def size(self) -> int:
        return int(self.cells.size)

    def compact(self, grid_values: np.ndarray) -> np.ndarray:
        """A flat grid (row-major) gathered into community order."""
        return grid_values[self.cells]

    def reduce_max(self, values: np.ndarray, fill: float = -1) -> np.ndarray:
        """Per community, the maximum of compact ``values`` over its cells.

        NaN is ignored (``fmax``); communities not covered get ``fill``.
        """
        dtype = values.dtype if values.dtype.kind == "f" else np.int16
        out = np.full(self.n, fill, dtype=dtype)
        if self.seg_starts.size:
            ufunc = np.fmax if values.dtype.kind == "f" else np.maximum
            out[self.seg_comm] = ufunc.reduceat(values, self.seg_starts)
        return out


def build_label_index(spec: GridSpec, polygons: Sequence[BaseGeometry],
                      points: Sequence[BaseGeometry], codes: Sequence[str] | None = None
                      ) -> LabelIndex:
    """Rasterise ``polygons`` (EPSG:4326) on the grid ``spec`` with the cell-centre rule.

    ``points`` are the representative points used for communities that contain no cell
    centre. For point grids (``spec.codes``) the cell of each community is looked up by code.
    """
    n = len(polygons)
    if spec.codes is not None:
        where = {c: i for i, c in enumerate(spec.codes)}
        cell = np.array([where.get(c, -1) for c in (codes or [])], dtype=np.int64)
        ok = np.flatnonzero(cell >= 0)
        return LabelIndex(n, cell[ok], np.arange(ok.size, dtype=np.int64), ok)
    crs = CRS.from_user_input(spec.crs)
    geoms = np.asarray(polygons, dtype=object)
    pts = np.asarray(points, dtype=object)
    if not is_geographic_equivalent(crs):
        tr = Transformer.from_crs(4326, crs, always_xy=True)

        def fwd(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

        geoms = shapely.transform(geoms, fwd)
        pts = shapely.transform(pts, fwd)
    labels = features.rasterize(
        ((g, i) for i, g in enumerate(geoms) if g is not None and not g.is_empty),
        out_shape=(spec.height, spec.width), transform=spec.affine, fill=-1, dtype="int32",
        all_touched=False)  # GDAL burns a cell when its centre is inside: the CONTRACT rule
    flat = labels.ravel()
    idx = np.flatnonzero(flat >= 0)
    order = idx[np.argsort(flat[idx], kind="stable")]
    sorted_labels = flat[order]
    with_cells, starts = np.unique(sorted_labels, return_index=True)
    missing = np.setdiff1d(np.arange(n), with_cells)
    fallback_cell = np.full(missing.size, -1, dtype=np.int64)
    if missing.size:
        inv = ~spec.affine
        xs = shapely.get_x(pts[missing])
        ys = shapely.get_y(pts[missing])
        cols = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.int64)
        rows = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.int64)
        inside = (cols >= 0) & (cols < spec.width) & (rows >= 0) & (rows < spec.height)
        fallback_cell[inside] = rows[inside] * spec.width + cols[inside]
    ok = fallback_cell >= 0
    cells = np.concatenate([order, fallback_cell[ok]]).astype(np.int64)
    seg_starts = np.concatenate([starts, order.size + np.arange(int(ok.sum()))]).astype(np.int64)
    seg_comm = np.concatenate([with_cells, missing[ok]]).astype(np.int64)
    return LabelIndex(n, cells, seg_starts, seg_comm)


class LabelCache:
    """Label indexes keyed by grid geometry and the communities' fingerprint (LRU)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], LabelIndex] = OrderedDict()

    def get(self, spec: GridSpec, fingerprint: str, polygons: Sequence[BaseGeometry],
            points: Sequence[BaseGeometry], codes: Sequence[str]) -> LabelIndex:
        key = (spec.key, fingerprint)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        index = build_label_index(spec, polygons, points, codes)
        self._items[key] = index
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return index

    def clear(self) -> None:
        self._items.clear()


LABELS = LabelCache()


def fingerprint(rows: Iterable[tuple[str, bytes | None, bytes | None]]) -> str:
    """Hash of the communities' codes and geometries: a changed boundary rebuilds the labels."""
    h = hashlib.sha256()
    for code, geom, point in rows:
        h.update(code.encode())
        h.update(bytes(geom or b""))
        h.update(bytes(point or b""))
    return h.hexdigest()


@dataclass
class Series:
    """Hourly values of one variable on one grid: ``{valid_time: flat float32 array}``."""

    hours: dict[dt.datetime, np.ndarray]
    size: int

    @property
    def horizon(self) -> dt.datetime | None:
        return max(self.hours, default=None)


@dataclass
class _Stats:
    """Memo of window statistics shared between criteria of one evaluation."""

    series: dict[str, Series]
    sums: dict[tuple[str, dt.datetime, int], np.ndarray] = field(default_factory=dict)

    def window_hours(self, t: dt.datetime, w: int) -> list[dt.datetime]:
        return [t - k * HOUR for k in range(w)]

    def window_sum(self, var: str, t: dt.datetime, w: int) -> np.ndarray | None:
        """Accumulation over the w hours ending at t; a missing hour adds nothing (it is
        logged at ingestion), a NaN cell makes that cell's window unknown (ignored)."""
        key = (var, t, w)
        if key in self.sums:
            return self.sums[key]
        s = self.series[var]
        shorter = [k for k in self.sums if k[0] == var and k[1] == t and k[2] < w]
        acc: np.ndarray | None = None
        start = 0
        if shorter:
            start = max(k[2] for k in shorter)
            acc = self.sums[(var, t, start)]
        present = [v for k in range(start, w) if (v := s.hours.get(t - k * HOUR)) is not None]
        if acc is None and not present:
            return None
        # Few passes over memory: the first addition allocates, the rest add in place; the
        # memoised shorter sum is never modified (it may be shared).
        if acc is None:
            acc = present[0].copy() if len(present) == 1 else np.add(present[0], present[1])
            present = present[2:] if len(present) > 1 else []
        elif present:
            acc = np.add(acc, present[0])
            present = present[1:]
        for v in present:
            np.add(acc, v, out=acc)
        self.sums[key] = acc
        return acc

    def window_reduce(self, var: str, hours: list[dt.datetime], fn: np.ufunc) -> np.ndarray | None:
        s = self.series[var]
        vals = [s.hours[h] for h in hours if h in s.hours]
        if not vals:
            return None
        out = vals[0].copy()
        for v in vals[1:]:
            fn(out, v, out=out)
        return out


def _criterion(stats: _Stats, rule: Rule, t: dt.datetime) -> tuple[np.ndarray, np.ndarray] | None:
    """(met mask, statistic) per cell for the window ending at ``t``, or None without data."""
    var, w, thr = rule.variable, rule.window_hours, rule.threshold
    if rule.kind == "sum":
        stat = stats.window_sum(var, t, w)
        return None if stat is None else (stat >= thr - EPS, stat)
    hours = stats.window_hours(t, w)
    if rule.kind == "max":
        stat = stats.window_reduce(var, hours, np.fmax)
        return None if stat is None else (stat >= thr - EPS, stat)
    if rule.kind in ("min_le", "min_lt"):
        stat = stats.window_reduce(var, hours, np.fmin)
        if stat is None:
            return None
        met = stat <= thr + EPS if rule.kind == "min_le" else stat < thr
        return met, stat
    if rule.kind == "drop":
        end = stats.series[var].hours.get(t)
        top = stats.window_reduce(var, hours, np.fmax)
        if end is None or top is None:
            return None
        drop = top - end
        met = (drop >= thr - EPS) & (end <= float(rule.params.get("to_at_most", np.inf)) + EPS)
        return met, drop
    if rule.kind == "days_max":
        days = int(rule.params.get("days", 3))
        met = None
        low = None
        for d in range(days):
            block = [t - (24 * d + k) * HOUR for k in range(24)]
            top = stats.window_reduce(var, block, np.fmax)
            if top is None:
                return None
            met = (top >= thr - EPS) if met is None else met & (top >= thr - EPS)
            low = top if low is None else np.fmin(low, top)
        assert met is not None and low is not None
        return met, low
    raise ValueError(f"unknown rule kind {rule.kind!r}")


@dataclass
class HazardResult:
    """Per community: level rank (0 none, 1 blue … 4 red, -1 not covered) and peak value."""

    hazard: Hazard
    ranks: np.ndarray
    peaks: np.ndarray
    metrics: dict[int, str]


def hazard_rules(rules: Iterable[Rule]) -> dict[Hazard, list[Rule]]:
    out: dict[Hazard, list[Rule]] = {}
    for r in rules:
        out.setdefault(r.hazard, []).append(r)
    return out


def cell_levels(rules: list[Rule], series: dict[str, Series], now: dt.datetime,
                size: int) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, str]] | None:
    """Highest level rank met per cell, and per level the statistic of its first criterion.

    Window ends run from ``now`` to ``now + w`` but never past the last hour with data: a
    window reaching beyond the data holds a subset of the hours of one that does not, so it
    cannot meet more (sums of non-negative values, maxima, minima).
    Returns None when none of the hazard's variables has data.
    """
    if not any(r.variable in series for r in rules):
        return None
    stats = _Stats(series)
    ranks = np.zeros(size, dtype=np.uint8)
    peak_stats: dict[int, np.ndarray] = {}
    metrics: dict[int, str] = {}
    any_data = False
    for level in LEVELS:
        groups: dict[int, list[Rule]] = {}
        for r in rules:
            if r.level == level:
                groups.setdefault(r.group_no, []).append(r)
        if not groups:
            continue
        level_met = np.zeros(size, dtype=bool)
        for group in groups.values():
            if not all(r.variable in series for r in group):
                continue
            w = max(r.window_hours for r in group)
            horizon = min(series[r.variable].horizon for r in group)  # type: ignore[type-var]
            # Window ends are hour ends: between two of them the hour in progress has no data
            # yet, so the last complete hour is the first window end.
            start = now.replace(minute=0, second=0, microsecond=0)
            t = start
            while t <= start + w * HOUR and t <= horizon:
                results = [_criterion(stats, r, t) for r in group]
                if all(x is not None for x in results):
                    any_data = True
                    met = results[0][0]  # type: ignore[index]
                    for x in results[1:]:
                        met = met & x[0]  # type: ignore[index]
                    level_met |= met
                    first = results[0][1]  # type: ignore[index]
                    prev = peak_stats.get(level.rank)
                    # statistics are never modified after they are made: no copy needed
                    peak_stats[level.rank] = first if prev is None else np.fmax(prev, first)
                    metrics[level.rank] = group[0].metric
                t += HOUR
        # levels ascend, so a higher level overwrites
        np.maximum(ranks, level_met.view(np.uint8) * np.uint8(level.rank), out=ranks)
    if not any_data:
        return None
    return ranks, peak_stats, metrics


def _chunks(index: LabelIndex, parts: int) -> list[tuple[int, int, int, int]]:
    """Split the compact cells at community boundaries: (cell_lo, cell_hi, seg_lo, seg_hi)."""
    nseg = int(index.seg_starts.size)
    bounds = [0]
    for p in range(1, parts):
        k = int(np.searchsorted(index.seg_starts, index.size * p // parts))
        if bounds[-1] < k < nseg:
            bounds.append(k)
    bounds.append(nseg)
    out = []
    for lo, hi in itertools.pairwise(bounds):
        cell_lo = int(index.seg_starts[lo]) if lo < nseg else index.size
        cell_hi = int(index.seg_starts[hi]) if hi < nseg else index.size
        out.append((cell_lo, cell_hi, lo, hi))
    return out


# Grids above this many used cells are evaluated in two threads (numpy releases the GIL).
PARALLEL_CELLS = 2_000_000
THREADS = 2
# Accumulation-only hazards run in the compiled kernel when numba is importable
# (bit-identical results, see disaster.warnings.kernel); set False to force numpy.
USE_KERNEL = kernel.AVAILABLE


def _evaluate_kernel(hazard: Hazard, rules: list[Rule], series: dict[str, Series],
                     index: LabelIndex, now: dt.datetime, covered: np.ndarray
                     ) -> HazardResult | bool | None:
    """The hazard through the compiled kernel; False when it cannot run it exactly."""
    if not all(r.kind == "sum" for r in rules):
        return False
    if not any(r.variable in series for r in rules):
        return None
    p = kernel.plan(rules, series, now, LEVELS, EPS)
    if p is None:
        return None
    if not p.supported or p.arrays[0].size != index.size:
        return False
    seg_rank, seg_peak = kernel.reduce_sums(p, index.seg_starts, index.size,
                                            n_ranks=len(LEVELS), threads=THREADS)
    ranks = np.full(index.n, -1, dtype=np.int16)
    peaks = np.full(index.n, np.nan, dtype=np.float64)
    ranks[index.seg_comm] = seg_rank
    met = seg_rank > 0
    peaks[index.seg_comm[met]] = seg_peak[seg_rank[met], np.flatnonzero(met)]
    ranks[~covered] = -1
    return HazardResult(hazard, ranks, peaks, p.metrics)


def evaluate_grid(rules_by_hazard: dict[Hazard, list[Rule]], series: dict[str, Series],
                  index: LabelIndex, now: dt.datetime) -> list[HazardResult]:
    """Every hazard with data on one grid: community level ranks and peak statistics.

    ``series`` holds compact arrays (:meth:`LabelIndex.compact`). Large grids are split at
    community boundaries and the parts evaluated in parallel threads.
    """
    parts = THREADS if index.size >= PARALLEL_CELLS else 1
    chunks = _chunks(index, parts) if index.seg_starts.size else []
    covered = index.covered
    out = []
    for hazard, rules in rules_by_hazard.items():
        if USE_KERNEL and index.seg_starts.size:
            fast = _evaluate_kernel(hazard, rules, series, index, now, covered)
            if fast is not False:
                if fast is not None:
                    out.append(fast)
                continue

        def run(chunk: tuple[int, int, int, int], rules: list[Rule] = rules):
            lo, hi, _slo, _shi = chunk
            sub = {v: Series({t: a[lo:hi] for t, a in ser.hours.items()}, hi - lo)
                   for v, ser in series.items()}
            return chunk, cell_levels(rules, sub, now, hi - lo)

        if len(chunks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(chunks)) as pool:
                results = list(pool.map(run, chunks))
        else:
            results = [run(c) for c in chunks]
        if not results or all(r is None for _, r in results):
            continue
        ranks = np.full(index.n, -1, dtype=np.int16)
        peaks = np.full(index.n, np.nan, dtype=np.float64)
        metrics: dict[int, str] = {}
        for (lo, _hi, slo, shi), res in results:
            if res is None:
                continue
            ranks_cells, peak_stats, m = res
            metrics.update(m)
            starts = index.seg_starts[slo:shi] - lo
            comm = index.seg_comm[slo:shi]
            local = np.maximum.reduceat(ranks_cells, starts).astype(np.int16)
            ranks[comm] = local
            for rank in np.unique(local[local > 0]):
                per = np.fmax.reduceat(peak_stats[int(rank)], starts)
                sel = local == rank
                peaks[comm[sel]] = per[sel]
        ranks[~covered] = -1
        out.append(HazardResult(hazard, ranks, peaks, metrics))
    return out
