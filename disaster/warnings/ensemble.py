"""Ensemble members: per community the share of members meeting each level's criterion.

Members arrive from the ``grib2`` provider as variables ``VARIABLE@N`` (N the perturbation
number; the control forecast is member 0). Each member is evaluated exactly like a
deterministic forecast (:func:`disaster.warnings.engine.evaluate_grid`); the probability of
level L for a community is the share of members whose level there is L or higher. Without
a deterministic forecast on the grid the level is the highest one whose probability reaches
:data:`MIN_PROBABILITY` (documented in the README).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from disaster.warnings import engine
from disaster.warnings.levels import Hazard
from disaster.warnings.rules import Rule

SEP = "@"
# A level forecast by members alone is issued when at least this share of them meet it.
MIN_PROBABILITY = 0.3


def split(series: dict[str, engine.Series]) -> tuple[dict[str, engine.Series],
                                                      dict[int, dict[str, engine.Series]]]:
    """Deterministic series, and per member its series under the plain variable names."""
    plain: dict[str, engine.Series] = {}
    members: dict[int, dict[str, engine.Series]] = {}
    for var, ser in series.items():
        base, sep, member = var.partition(SEP)
        if sep and member.isdigit():
            members.setdefault(int(member), {})[base] = ser
        else:
            plain[var] = ser
    return plain, members


def member_ranks(by_hazard: dict[Hazard, list[Rule]], members: dict[int, dict[str, engine.Series]],
                 index: engine.LabelIndex, now: dt.datetime) -> dict[Hazard, np.ndarray]:
    """Per hazard an array (members × communities) of level ranks (-1 not covered)."""
    out: dict[Hazard, list[np.ndarray]] = {}
    for m in sorted(members):
        for res in engine.evaluate_grid(by_hazard, members[m], index, now):
            out.setdefault(res.hazard, []).append(res.ranks)
    return {h: np.vstack(v) for h, v in out.items()}


def probability_of(stack: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Per community the share of members at ``ranks`` or higher (NaN where rank ≤ 0)."""
    covered = stack >= 0
    counts = covered.sum(axis=0)
    meet = ((stack >= ranks[None, :]) & covered).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = meet / counts
    share[(ranks <= 0) | (counts == 0)] = np.nan
    return share


def level_from_members(stack: np.ndarray, n_levels: int = 4) -> np.ndarray:
    """Highest level rank whose share of members reaches :data:`MIN_PROBABILITY`."""
    covered = stack >= 0
    counts = covered.sum(axis=0)
    ranks = np.where(counts > 0, 0, -1).astype(np.int16)
    for r in range(1, n_levels + 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            share = ((stack >= r) & covered).sum(axis=0) / counts
        ranks[(counts > 0) & (share >= MIN_PROBABILITY - 1e-9)] = r
    return ranks


def observed_only(series: dict[str, engine.Series], now: dt.datetime) -> dict[str, engine.Series]:
    """The series cut at ``now``: hours up to the evaluation time are the observed ones."""
    out = {}
    for v, s in series.items():
        hours = {t: a for t, a in s.hours.items() if t <= now}
        if hours:
            out[v] = engine.Series(hours, s.size)
    return out
