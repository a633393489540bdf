"""Reported beside modelled: silent communities and reports far from the model either way.

- ``silent``: severe modelled impact (modelled affected people ≥ ``silent_min_affected``, or a
  warning at one of ``silent_levels``) and no report at all. These are where the duty officer
  phones first: a community hit hard that says nothing may have lost its officer or its link.
- ``reported_above_model`` / ``reported_below_model``: reported affected people or direct loss
  beyond ``far_ratio`` times the model either way, where the larger side is big enough to
  matter (``far_min_people`` / ``far_min_loss``). Either the model needs tuning or the report a
  second look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from disaster.assessment.impact import LEVEL_RANK, ImpactResult
from disaster.assessment.rollup import to_units
from disaster.reports.models import INDICATORS

SILENT = "silent"
ABOVE = "reported_above_model"
BELOW = "reported_below_model"
# Indicator compared → the threshold key that says the larger side matters.
COMPARED = {"affected_people": "far_min_people", "direct_loss_10k_yuan": "far_min_loss"}


@dataclass
class Comparison:
    """Reported units aligned with the impact table, which communities reported, and flags."""

    reported_units: dict[str, np.ndarray]
    has_report: np.ndarray
    flags: list[list[str]]
    ratios: list[dict[str, float | None]]

    def flagged(self, flag: str) -> np.ndarray:
        """Row indices carrying ``flag``."""
        return np.array([i for i, f in enumerate(self.flags) if flag in f], dtype=np.int64)


def reported_units(impact: ImpactResult,
                   reported: Mapping[str, Mapping[str, float]]) -> tuple[dict[str, np.ndarray],
                                                                        np.ndarray]:
    """The latest reported figures as units aligned with the community table."""
    pos = impact.table.index()
    n = len(impact.table)
    raw = {name: np.zeros(n) for name in INDICATORS}
    has = np.zeros(n, dtype=bool)
    for code, figures in reported.items():
        i = pos.get(code)
        if i is None:
            continue
        has[i] = True
        for name in INDICATORS:
            raw[name][i] = float(figures.get(name) or 0)
    return {name: to_units(name, values) for name, values in raw.items()}, has


def compare(impact: ImpactResult, reported: Mapping[str, Mapping[str, float]],
            settings: Mapping[str, Any]) -> Comparison:
    """Flag silent communities and reports far from the model.

    Parameters
    ----------
    impact
        The modelled impact.
    reported
        ``{community code: {indicator: value}}`` (:func:`disaster.reports.latest.latest_figures`).
    settings
        The impact curves' ``compare`` block.
    """
    units, has = reported_units(impact, reported)
    n = len(impact.table)
    silent_ranks = {LEVEL_RANK[lv] for lv in settings.get("silent_levels", []) if lv in LEVEL_RANK}
    severe = ((impact.units["affected_people"] >= int(settings["silent_min_affected"]))
              | np.isin(impact.level_rank, list(silent_ranks)))
    silent = severe & ~has
    far = float(settings["far_ratio"])
    flags: list[list[str]] = [[SILENT] if silent[i] else [] for i in range(n)]
    ratios: list[dict[str, float | None]] = [{} for _ in range(n)]
    for name, min_key in COMPARED.items():
        modelled = impact.units[name].astype(float)
        got = units[name].astype(float)
        minimum = to_units(name, float(settings[min_key]))
        big_enough = np.maximum(modelled, got) >= minimum
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(modelled > 0, got / modelled, np.inf)
        above = has & big_enough & (ratio > far)
        below = has & big_enough & (ratio < 1.0 / far)
        for i in np.flatnonzero(has):
            r = ratio[i]
            ratios[i][name] = None if not np.isfinite(r) else round(float(r), 3)
        for i in np.flatnonzero(above):
            if ABOVE not in flags[i]:
                flags[i].append(ABOVE)
        for i in np.flatnonzero(below):
            if BELOW not in flags[i]:
                flags[i].append(BELOW)
    return Comparison(reported_units=units, has_report=has, flags=flags, ratios=ratios)
