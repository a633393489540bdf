"""The assessment as one read: inputs from the database, model, comparison, roll-ups, JSON.

Read-only: nothing here writes. The coping-capacity arrays that need shelters and depots are
passed in by the caller (``web.assessment_inputs``), keeping ``disaster`` free of those packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from disaster.assessment.compare import ABOVE, BELOW, SILENT, Comparison, compare
from disaster.assessment.impact import MODELLED, ImpactResult, model_impact
from disaster.assessment.inputs import (
    CommunityTable,
    WarningState,
    current_warnings,
    load_communities,
    load_hazard_zones,
    officer_coverage,
    warning_history,
)
from disaster.assessment.overlay import HazardShares, cached_hazard_shares
from disaster.assessment.parameters import load_parameters
from disaster.assessment.risk import CopingInputs, RiskResult, compute_risk
from disaster.assessment.rollup import SCALE, as_values, group_rows, loss_share_percent, sum_units
from disaster.reports.latest import latest_figures
from disaster.reports.models import INDICATORS


@dataclass
class Assessment:
    """Everything one assessment run produced (arrays aligned with ``table``)."""

    table: CommunityTable
    shares: HazardShares
    impact: ImpactResult
    comparison: Comparison
    curves: dict[str, Any]
    weights: dict[str, Any]
    event: dict[str, Any] | None = None


def load_base(session: Session) -> tuple[CommunityTable, HazardShares]:
    """Communities and their hazard-zone shares (the costly overlay, done once per run)."""
    table = load_communities(session)
    zones, kinds, levels = load_hazard_zones(session)
    geoms = table.geometry if table.geometry is not None else np.full(len(table), None, object)
    return table, cached_hazard_shares(geoms, zones, kinds, levels)


def level_scores(weights: dict[str, Any]) -> list[float]:
    return [float(weights["hazard_level_scores"][str(level)]) for level in (1, 2, 3)]


def assess_tables(table: CommunityTable, shares: HazardShares,
                  warnings: dict[str, list[WarningState]],
                  reported: dict[str, dict[str, float]], weights: dict[str, Any],
                  curves: dict[str, Any]) -> Assessment:
    """Model and compare from plain inputs (no database): the benchmark and tests use this."""
    impact = model_impact(table, shares, warnings, curves, level_scores(weights))
    comparison = compare(impact, reported, curves["compare"])
    return Assessment(table, shares, impact, comparison, curves, weights)


def event_warnings(session: Session, event_id: int | None = None) -> dict[str, list[WarningState]]:
    """The current warnings plus the peaks held by open events (``event_id``: that one only).

    A community whose warning lifted while its event is open keeps the event's peak, so its
    modelled impact and its place on the silent list do not fall to nothing
    (:mod:`disaster.event_impact`). The model takes the highest of a community's states.
    """
    from disaster.event_impact import held_warnings

    warnings = current_warnings(session)
    for code, hazard, level, peak, metric in held_warnings(session, event_id):
        warnings.setdefault(code, []).append(WarningState(hazard, level, peak, metric))
    return warnings


def run_assessment(session: Session, *, event_id: int | None = None,
                   base: tuple[CommunityTable, HazardShares] | None = None) -> Assessment:
    """Modelled impact of the current warnings and open events' peaks beside the latest reports.

    Parameters
    ----------
    event_id
        Compare with that event's reports only (default: the latest report of every event).
    base
        Pre-loaded :func:`load_base` result (to reuse the overlay).
    """
    weights, curves = load_parameters(session)
    table, shares = base or load_base(session)
    result = assess_tables(table, shares, event_warnings(session, event_id),
                           latest_figures(session, event_id), weights, curves)
    if event_id is not None:
        from disaster.events import DisasterEvent

        event = session.get(DisasterEvent, event_id)
        if event is not None:
            result.event = {"id": event.id, "code": event.code, "name": event.name,
                            "hazard": str(getattr(event.hazard, "value", event.hazard))}
    return result


def run_risk(session: Session, coping: CopingInputs | None = None,
             base: tuple[CommunityTable, HazardShares] | None = None) -> RiskResult:
    """The risk index of every community; officer coverage is filled in here when absent."""
    weights, _curves = load_parameters(session)
    table, shares = base or load_base(session)
    coping = coping or CopingInputs()
    if coping.has_primary_officer is None and coping.has_backup_officer is None:
        primary, backup = officer_coverage(session, table.code)
        coping = CopingInputs(coping.shelter_places_per_person, coping.stock_people_per_person,
                              primary, backup)
    return compute_risk(table, shares, weights, coping, warning_history(session, table.code))


# --- JSON document (CONTRACT.md ``assess --format json``) ------------------------------------

def _rollup_row(code: str, level: str, a: Assessment, idx: np.ndarray) -> dict[str, Any]:
    c = a.comparison
    return {
        "code": code, "name": a.table.area_names.get(code), "level": level,
        "communities": int(idx.size),
        "reporting_communities": int(c.has_report[idx].sum()),
        "silent_communities": int(sum(SILENT in c.flags[i] for i in idx.tolist())),
        "modelled": as_values(sum_units(a.impact.units, idx)),
        "reported": as_values(sum_units(c.reported_units, idx)),
    }


def _value_lists(units: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, list]:
    """Indicator values of rows ``idx`` as Python lists (ints, or 2-decimal floats)."""
    out = {}
    for name, arr in units.items():
        values = arr[idx]
        out[name] = (values.tolist() if SCALE[name] == 1
                     else np.round(values / SCALE[name], 2).tolist())
    return out


def community_rows(a: Assessment, idx: np.ndarray) -> list[dict[str, Any]]:
    """Rows ``idx``: modelled and reported figures, intensity, flags."""
    t, c, imp = a.table, a.comparison, a.impact
    idx = np.asarray(idx, dtype=np.int64)
    modelled = _value_lists(imp.units, idx)
    reported = _value_lists({name: c.reported_units[name] for name in INDICATORS}, idx)
    code, name = t.code[idx].tolist(), t.name[idx].tolist()
    township, county = t.township_code[idx].tolist(), t.county_code[idx].tolist()
    population = t.population[idx].tolist()
    rain = np.round(imp.rain_mm[idx], 1).tolist()
    susceptibility = np.round(imp.susceptibility[idx], 3).tolist()
    has = c.has_report[idx].tolist()
    rows = []
    for k, i in enumerate(idx.tolist()):
        rows.append({
            "code": code[k], "name": name[k], "township_code": township[k],
            "county_code": county[k], "population": population[k],
            "warning_level": imp.level(i), "hazards": imp.hazards[i],
            "rain_mm": rain[k], "susceptibility": susceptibility[k],
            "modelled": {n: modelled[n][k] for n in MODELLED},
            "reported": {n: reported[n][k] for n in INDICATORS},
            "has_report": has[k], "flags": list(c.flags[i]), "ratio": c.ratios[i],
        })
    return rows


def community_row(a: Assessment, i: int) -> dict[str, Any]:
    """One community: modelled and reported figures, intensity, flags."""
    return community_rows(a, np.array([i]))[0]


def assessment_document(a: Assessment, *, only_affected: bool = False) -> dict[str, Any]:
    """The CONTRACT.md document: communities, ``by_township``, ``by_county``, ``totals``.

    Roll-up rows are shaped like community rows (``code``, ``modelled``, ``reported``) and add
    up exactly: townships to their county, counties to the totals.
    """
    t, c = a.table, a.comparison
    rows = np.arange(len(t))
    if only_affected:
        rows = np.flatnonzero((a.impact.units["affected_people"] > 0) | c.has_report)
    communities = community_rows(a, rows)
    by_township = [_rollup_row(code, "township", a, idx) for code, idx in group_rows(t.township_code)]
    for row in by_township:
        row["county_code"] = row["code"][:6]
    by_county = [_rollup_row(code, "county", a, idx) for code, idx in group_rows(t.county_code)]
    all_idx = np.arange(len(t))
    totals = _rollup_row(_city_code(t), "city", a, all_idx)
    gdp = float(a.curves["gdp_10k_yuan"])
    target = float(a.curves["loss_share_target_percent"])
    modelled_share = loss_share_percent(totals["modelled"]["direct_loss_10k_yuan"], gdp)
    reported_share = loss_share_percent(totals["reported"]["direct_loss_10k_yuan"], gdp)
    totals["loss_share_of_gdp"] = {
        "gdp_10k_yuan": gdp, "target_percent": target,
        "modelled_percent": modelled_share, "reported_percent": reported_share,
        "modelled_within_target": None if modelled_share is None else modelled_share <= target,
        "reported_within_target": None if reported_share is None else reported_share <= target,
    }
    return {
        "event": a.event,
        "communities": communities,
        "by_township": by_township,
        "by_county": by_county,
        "totals": totals,
        "silent": [t.code[i] for i in c.flagged(SILENT).tolist()],
        "far_from_model": [t.code[i] for i in np.union1d(c.flagged(ABOVE), c.flagged(BELOW))
                           .tolist()],
        "modelled_indicators": list(MODELLED),
    }


def _city_code(table: CommunityTable) -> str | None:
    counties = {str(c) for c in table.county_code.tolist()}
    cities = {c[:4] + "00" for c in counties}
    return cities.pop() if len(cities) == 1 else None


def worst_hit(a: Assessment, limit: int = 20) -> list[dict[str, Any]]:
    """Communities with the largest modelled (or reported, when larger) affected people."""
    affected = np.maximum(a.impact.units["affected_people"],
                          a.comparison.reported_units["affected_people"])
    order = np.lexsort((a.table.code.astype(str), -affected))[:limit]
    return community_rows(a, order[affected[order] > 0])
