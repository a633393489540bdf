"""Compiled evaluation of accumulation ("sum") criteria, reduced per community.

:func:`disaster.warnings.engine.evaluate_grid` uses this for hazards whose rules are all
window sums (暴雨, 暴雪) when numba is installed; otherwise, and for every other rule kind, it
uses the numpy path (:func:`disaster.warnings.engine.cell_levels` + ``reduceat``).

The results are bit-identical to the numpy path, because the kernel performs the same
floating-point operations in the same order:

* a window sum is the left-to-right sum, in the arrays' own dtype, of the hours present in
  the window, newest first (``_Stats.window_sum``: a memoised shorter sum is itself such a
  prefix, so continuing from it changes nothing); a NaN cell makes the sum NaN, which meets
  no threshold and is ignored by the maxima;
* thresholds are compared in the arrays' dtype (numpy 2 casts the Python float to it);
* peaks are ``fmax`` (NaN ignored unless all are NaN) over window ends and cells.

Which (criterion, window end) pairs have data, and so are evaluated, depends only on which
hours exist, not on cell values: that plan is made in Python (:func:`plan`) and the kernel
only runs the arithmetic, in parallel over blocks of whole communities, without the GIL.
``DISASTER_NO_NUMBA=1`` in the environment turns the kernel off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from gis.settings import environment

try:  # optional: without numba the engine keeps its numpy path
    import numba
    from numba import njit, prange
except ImportError:  # pragma: no cover - the fallback test hides numba in a subprocess
    numba = None

AVAILABLE = numba is not None and not environment().no_numba


@dataclass
class Plan:
    """The arithmetic of one hazard's evaluation, cell-value independent.

    ``arrays`` are the hourly compact arrays used (one dtype). A *chain* is a running sum
    over ``chain_hours[chain_ptr[c]:chain_ptr[c+1]]`` (indexes into ``arrays``); ``stat_chain``
    / ``stat_len`` name a window sum as the chain's prefix of that many present hours. An
    *entry* is one (group, window end) with data: its criteria are
    ``crit_stat[entry_ptr[e]:entry_ptr[e+1]]`` with thresholds ``crit_thr`` and
    ``crit_le`` False (``stat >= thr``); all must be met for level ``entry_rank[e]``, and
    the first criterion's statistic feeds that level's peak.
    """

    arrays: tuple[np.ndarray, ...]
    chain_ptr: np.ndarray
    chain_hours: np.ndarray
    stat_chain: np.ndarray
    stat_len: np.ndarray
    entry_ptr: np.ndarray
    entry_rank: np.ndarray
    crit_stat: np.ndarray
    crit_thr: np.ndarray
    metrics: dict[int, str]
    supported: bool = True


def plan(rules, series, now: dt.datetime, levels, eps: float) -> Plan | None:
    """The evaluation of ``rules`` (all kind "sum") as :func:`engine.cell_levels` does it.

    Returns None when no criterion has data (cell_levels returns None). ``supported`` is
    False when the kernel would not reproduce numpy exactly (arrays not of one floating
    dtype and size, a threshold that is not a Python number): use the numpy path then.
    """
    hour = dt.timedelta(hours=1)
    arrays: list[np.ndarray] = []
    array_no: dict[int, int] = {}
    chains: dict[tuple[str, dt.datetime], tuple[int, list[int]]] = {}
    chain_hours: list[list[int]] = []
    stats: dict[tuple[str, dt.datetime, int], int] = {}
    stat_chain: list[int] = []
    stat_len: list[int] = []
    entry_ptr = [0]
    entry_rank: list[int] = []
    crit_stat: list[int] = []
    crit_thr: list[float] = []
    metrics: dict[int, str] = {}

    def stat(var: str, t: dt.datetime, w: int) -> int | None:
        key = (var, t, w)
        if key in stats:
            return stats[key]
        s = series[var]
        present = [v for k in range(w) if (v := s.hours.get(t - k * hour)) is not None]
        if not present:
            return None
        if (var, t) not in chains:
            chains[(var, t)] = (len(chain_hours), [])
            chain_hours.append([])
        c, _ = chains[(var, t)]
        hours = chain_hours[c]
        # the chain runs over the window's present hours, newest first; extend it
        for v in present[len(hours):]:
            if id(v) not in array_no:
                array_no[id(v)] = len(arrays)
                arrays.append(v)
            hours.append(array_no[id(v)])
        stats[key] = len(stat_chain)
        stat_chain.append(c)
        stat_len.append(len(present))
        return stats[key]

    for level in levels:
        groups: dict[int, list] = {}
        for r in rules:
            if r.level == level:
                groups.setdefault(r.group_no, []).append(r)
        for group in groups.values():
            if not all(r.variable in series for r in group):
                continue
            w = max(r.window_hours for r in group)
            horizon = min(series[r.variable].horizon for r in group)
            start = now.replace(minute=0, second=0, microsecond=0)
            t = start
            while t <= start + w * hour and t <= horizon:
                ids = [stat(r.variable, t, r.window_hours) for r in group]
                if all(i is not None for i in ids):
                    crit_stat.extend(ids)  # type: ignore[arg-type]
                    crit_thr.extend(r.threshold - eps for r in group)
                    entry_ptr.append(len(crit_stat))
                    entry_rank.append(level.rank)
                    metrics[level.rank] = group[0].metric
                t += hour
    if not entry_rank:
        return None
    dtypes = {a.dtype for a in arrays}
    supported = (len(dtypes) == 1 and next(iter(dtypes)).kind == "f"
                 and all(a.ndim == 1 and a.flags.c_contiguous for a in arrays)
                 and len({a.size for a in arrays}) == 1
                 and len({a.flags.writeable for a in arrays}) == 1  # one numba array type
                 # a numpy scalar threshold would make numpy compare in float64
                 and all(type(r.threshold) in (float, int) for r in rules))
    dtype = next(iter(dtypes)) if supported else np.dtype(np.float64)
    ptr = np.zeros(len(chain_hours) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(h) for h in chain_hours])
    return Plan(
        tuple(arrays), ptr,
        np.asarray([i for h in chain_hours for i in h], dtype=np.int64),
        np.asarray(stat_chain, dtype=np.int64), np.asarray(stat_len, dtype=np.int64),
        np.asarray(entry_ptr, dtype=np.int64), np.asarray(entry_rank, dtype=np.int64),
        np.asarray(crit_stat, dtype=np.int64),
        # numpy 2 compares a float32 array with a Python float in float32: cast the same way
        np.asarray(crit_thr, dtype=np.float64).astype(dtype), metrics, supported)


BLOCK = 1024  # cells per block: buffers stay in L1/L2, inner loops vectorise


def _fmax(a, b):
    # numpy's fmax: NaN is ignored unless both are NaN
    return a if (a >= b or b != b) else b


def _run_max(x):
    """fmax of ``x`` (NaN unless some value is not NaN), in 8 independent lanes."""
    n = x.size
    t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = -np.inf
    for q in range(n // 8):
        v = x[8 * q:8 * q + 8]
        t0 = v[0] if v[0] > t0 else t0  # NaN never compares greater: ignored
        t1 = v[1] if v[1] > t1 else t1
        t2 = v[2] if v[2] > t2 else t2
        t3 = v[3] if v[3] > t3 else t3
        t4 = v[4] if v[4] > t4 else t4
        t5 = v[5] if v[5] > t5 else t5
        t6 = v[6] if v[6] > t6 else t6
        t7 = v[7] if v[7] > t7 else t7
    for q in range(n // 8 * 8, n):
        t0 = x[q] if x[q] > t0 else t0
    t0 = max(max(max(t0, t1), max(t2, t3)), max(max(t4, t5), max(t6, t7)))
    if t0 == -np.inf:  # all -inf, or all NaN
        for q in range(n):
            if x[q] == x[q]:
                return x[q]
        return np.nan
    return t0


def _sum_kernel(arrays, n_cells, seg_starts, chain_ptr, chain_hours, stat_chain, stat_len,
                entry_ptr, entry_rank, crit_stat, crit_thr, peak_stat, peak_ptr, peak_rank,
                n_parts, seg_rank, seg_peak):
    """Per segment (community in compact order): highest rank met and per-rank peaks.

    ``n_parts`` runs of whole segments are spread over the threads (prange); each writes
    only its own segments of ``seg_rank`` / ``seg_peak``, so no merge step is needed.
    Inner loops index views from 0 (no negative-index handling: they vectorise).
    """
    nseg = seg_starts.size
    nstat = stat_chain.size
    nentry = entry_rank.size
    npeak = peak_stat.size
    like = crit_thr[:1]
    for p in prange(n_parts):
        s_lo = nseg * p // n_parts
        s_hi = nseg * (p + 1) // n_parts
        if s_lo >= s_hi:
            continue
        c_lo = seg_starts[s_lo]
        c_hi = seg_starts[s_hi] if s_hi < nseg else n_cells
        acc_b = np.empty(BLOCK, dtype=like.dtype)
        buf_b = np.empty((nstat, BLOCK), dtype=like.dtype)
        met_b = np.empty(BLOCK, dtype=np.bool_)
        rank_b = np.empty(BLOCK, dtype=np.uint8)
        seg = s_lo
        seg_end = seg_starts[seg + 1] if seg + 1 < nseg else n_cells
        for b_lo in range(c_lo, c_hi, BLOCK):
            m = min(BLOCK, c_hi - b_lo)
            acc = acc_b[:m]
            met = met_b[:m]
            rank = rank_b[:m]
            # window sums: running sums along each chain, kept where a statistic ends
            for c in range(chain_ptr.size - 1):
                h0 = chain_ptr[c]
                for k in range(chain_ptr[c + 1] - h0):
                    a = arrays[chain_hours[h0 + k]][b_lo:b_lo + m]
                    if k == 0:
                        for i in range(m):
                            acc[i] = a[i]
                    else:
                        for i in range(m):
                            acc[i] = acc[i] + a[i]
                    for s in range(nstat):
                        if stat_chain[s] == c and stat_len[s] == k + 1:
                            bs = buf_b[s, :m]
                            for i in range(m):
                                bs[i] = acc[i]
            # each cell's highest level met: all criteria of some entry of that level
            for i in range(m):
                rank[i] = 0
            for e in range(nentry):
                lv = np.uint8(entry_rank[e])
                for i in range(m):
                    met[i] = True
                for j in range(entry_ptr[e], entry_ptr[e + 1]):
                    bs = buf_b[crit_stat[j], :m]
                    thr = crit_thr[j]
                    for i in range(m):
                        met[i] &= bs[i] >= thr
                for i in range(m):
                    rank[i] = max(rank[i], lv if met[i] else np.uint8(0))
            # reduce the block's cells into their communities, one run of cells at a time
            i = 0
            while i < m:
                while b_lo + i >= seg_end:
                    seg += 1
                    seg_end = seg_starts[seg + 1] if seg + 1 < nseg else n_cells
                j = min(m, seg_end - b_lo)
                r = seg_rank[seg]
                run = rank[i:j]
                for q in range(j - i):
                    r = max(r, run[q])
                seg_rank[seg] = r
                for u in range(npeak):
                    top = _run_max(buf_b[peak_stat[u], i:j])
                    for v in range(peak_ptr[u], peak_ptr[u + 1]):
                        lv = peak_rank[v]
                        seg_peak[lv, seg] = _fmax(seg_peak[lv, seg], top)
                i = j


if AVAILABLE:
    try:
        _fmax = njit(inline="always", cache=True)(_fmax)
        _run_max = njit(cache=True)(_run_max)
        # cache=True: compiled once per machine (in __pycache__ or NUMBA_CACHE_DIR), so a
        # process start pays loading, not compiling
        _sum_kernel = njit(parallel=True, nogil=True, cache=True)(_sum_kernel)
    except RuntimeError:  # pragma: no cover - numba: "no locator available" to cache in
        AVAILABLE = False

THREADS = 2


def reduce_sums(p: Plan, seg_starts: np.ndarray, n_cells: int, n_ranks: int = 4,
                threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rank per segment as uint8, peaks per rank × segment in the arrays' dtype)."""
    nseg = int(seg_starts.size)
    dtype = p.crit_thr.dtype
    seg_rank = np.zeros(nseg, dtype=np.uint8)
    seg_peak = np.full((n_ranks + 1, nseg), np.nan, dtype=dtype)
    if nseg == 0:
        return seg_rank, seg_peak
    threads = threads or THREADS
    # several parts per thread balance uneven segments; small grids need one part
    n_parts = 1 if n_cells < 200_000 else min(nseg, 8 * threads)
    # a level's peak is the fmax of its entries' first statistics: each (level, statistic)
    # pair once (fmax does not depend on order)
    levels_of: dict[int, set[int]] = {}
    for e in range(p.entry_rank.size):
        levels_of.setdefault(int(p.crit_stat[p.entry_ptr[e]]), set()).add(int(p.entry_rank[e]))
    peak_stat = np.asarray(sorted(levels_of), dtype=np.int64)
    peak_ptr = np.zeros(peak_stat.size + 1, dtype=np.int64)
    peak_ptr[1:] = np.cumsum([len(levels_of[int(s)]) for s in peak_stat])
    peak_rank = np.asarray([r for s in peak_stat for r in sorted(levels_of[int(s)])],
                           dtype=np.int64)
    # The tuple's length is part of the compiled signature: pad it to a power of two (with
    # an array the chains never index) so a few signatures serve every number of hours.
    arrays = p.arrays + (p.arrays[0],) * (max(8, 1 << (len(p.arrays) - 1).bit_length())
                                          - len(p.arrays))
    # engine.THREADS worker threads (numba's setting is per calling thread)
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    _sum_kernel(arrays, n_cells, seg_starts.astype(np.int64, copy=False), p.chain_ptr,
                p.chain_hours, p.stat_chain, p.stat_len, p.entry_ptr, p.entry_rank,
                p.crit_stat, p.crit_thr, peak_stat, peak_ptr, peak_rank, n_parts, seg_rank,
                seg_peak)
    return seg_rank, seg_peak
