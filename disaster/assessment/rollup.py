"""Roll-ups by township, county and city that add up exactly.

Figures are summed as integers: people, households and rooms as they are, hectares and 万元
in hundredths. A county is then exactly the sum of its townships, the city exactly the sum of
its counties, with no floating-point drift, and the 0.01 ha / 0.01 万元 shown is what was summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from disaster.reports.models import CROP_FIELDS, INDICATORS, LOSS_FIELDS

# Hundredths for the decimal indicators (ha, 万元); whole units for counts.
SCALE = {name: (100 if name in CROP_FIELDS + LOSS_FIELDS else 1) for name in INDICATORS}


def to_units(name: str, values: Any) -> np.ndarray:
    """Values of indicator ``name`` as int64 units (hundredths for ha and 万元), rounded half up."""
    arr = np.asarray(values, dtype=float) * SCALE[name]
    return np.floor(arr + 0.5).astype(np.int64)


def from_units(name: str, units: int | np.integer) -> int | float:
    """A unit count back to the indicator's value (int for counts, 2-decimal float otherwise)."""
    scale = SCALE[name]
    if scale == 1:
        return int(units)
    return round(int(units) / scale, 2)


def as_values(units: Mapping[str, Any]) -> dict[str, int | float]:
    """``{indicator: value}`` from ``{indicator: units}``."""
    return {name: from_units(name, u) for name, u in units.items()}


def group_rows(keys: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``[(key, row indices), ...]`` sorted by key."""
    keys = np.asarray(keys).astype(str)
    if keys.size == 0:
        return []
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], keys.size]
    return [(str(sorted_keys[s]), order[s:e]) for s, e in zip(starts, ends, strict=True)]


def sum_units(units: Mapping[str, np.ndarray], idx: np.ndarray | None = None) -> dict[str, int]:
    """Exact integer sums of each indicator over ``idx`` (all rows when ``None``)."""
    return {name: int(arr.sum() if idx is None else arr[idx].sum()) for name, arr in units.items()}


def rollup(keys: np.ndarray, units: Mapping[str, np.ndarray]) -> list[tuple[str, dict[str, int]]]:
    """Per-key exact sums: ``[(key, {indicator: units}), ...]`` sorted by key."""
    return [(key, sum_units(units, idx)) for key, idx in group_rows(keys)]


def add_units(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Sum of unit dicts (for checking that parts add up to the whole)."""
    out: dict[str, int] = {}
    for row in rows:
        for name, value in row.items():
            out[name] = out.get(name, 0) + int(value)
    return out


def loss_share_percent(loss_10k_yuan: float, gdp_10k_yuan: float) -> float | None:
    """Direct loss as a percentage of GDP (专栏1 indicator; target ≤ 1.3 %)."""
    if gdp_10k_yuan <= 0:
        return None
    return round(100.0 * loss_10k_yuan / gdp_10k_yuan, 4)
