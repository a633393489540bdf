"""Community risk index before an event: hazard × exposure × vulnerability ÷ coping capacity.

Follows the structure of the plan's 自然灾害综合风险评价 and of INFORM (hazard and exposure,
vulnerability, lack of coping capacity): every sub-indicator is scaled to 0..1, combined by
weights held as data (:mod:`disaster.assessment.parameters`), and kept in the output so that a
duty officer can see why a community ranks where it does.

- Hazard H: level-scored shares in flood-prone, waterlogging and other (geo)hazard zones, the
  low-lying share (inside any flood-prone or waterlogging zone), and the count of warnings
  received so far scaled by the largest count.
- Exposure E: population and households scaled by the largest community assessed.
- Vulnerability V: shares of elderly, children and disabled residents, each scaled by its
  reference share (capped at 1).
- Coping capacity C: free shelter places and relief stock within reach per resident (2SFCA,
  :mod:`disaster.assessment.access`) against their targets, and officer coverage.

risk = 100 × floor × H × E × V ÷ (floor + (1 − floor) × C), in 0..100.
A component whose input is missing (``None``) is left out and its weight shared by the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from disaster.assessment.inputs import CommunityTable
from disaster.assessment.overlay import HazardShares
from disaster.assessment.rollup import group_rows

CLASSES = ("very_low", "low", "medium", "high", "very_high")


@dataclass
class CopingInputs:
    """Coping-capacity inputs aligned with the community table (``None``: not available).

    ``shelter_places_per_person`` and ``stock_people_per_person`` come from
    :func:`disaster.assessment.access.supply_per_person`, computed by the caller that knows
    shelters and depots.
    """

    shelter_places_per_person: np.ndarray | None = None
    stock_people_per_person: np.ndarray | None = None
    has_primary_officer: np.ndarray | None = None
    has_backup_officer: np.ndarray | None = None


@dataclass
class RiskResult:
    """Component arrays (0..1) and the index; ``parts`` holds every sub-indicator used."""

    table: CommunityTable
    hazard: np.ndarray
    exposure: np.ndarray
    vulnerability: np.ndarray
    coping: np.ndarray
    risk: np.ndarray
    rank: np.ndarray
    risk_class: np.ndarray
    parts: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    weights: dict[str, Any] = field(default_factory=dict)

    def order(self) -> np.ndarray:
        """Row indices from the highest risk down (ties by code)."""
        return np.lexsort((self.table.code.astype(str), -self.risk))


def _weighted(parts: dict[str, np.ndarray | None], weights: dict[str, float],
              n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Weighted mean of the available parts (weights renormalised over them)."""
    used = {k: v for k, v in parts.items() if v is not None and float(weights.get(k, 0)) > 0}
    total = sum(float(weights[k]) for k in used)
    if total <= 0:
        return np.zeros(n), {k: v for k, v in parts.items() if v is not None}
    value = sum(float(weights[k]) * v for k, v in used.items()) / total
    return np.clip(value, 0.0, 1.0), {k: v for k, v in parts.items() if v is not None}


def _scaled_by_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values, dtype=float)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.maximum(whole, 1), 0.0)


def compute_risk(table: CommunityTable, shares: HazardShares, weights: dict[str, Any],
                 coping: CopingInputs | None = None,
                 warning_history: np.ndarray | None = None) -> RiskResult:
    """The risk index of every community with all its components.

    Parameters
    ----------
    table
        The communities.
    shares
        Their shares in hazard zones (:func:`disaster.assessment.overlay.hazard_shares`).
    weights
        Effective risk weights (:func:`disaster.assessment.parameters.load_parameters`).
    coping
        Coping-capacity inputs; missing parts are left out of C.
    warning_history
        Warnings received per community so far, or ``None`` when unknown.
    """
    n = len(table)
    coping = coping or CopingInputs()
    scores = [float(weights["hazard_level_scores"][str(level)]) for level in (1, 2, 3)]
    geo_kinds = shares.geohazard_kinds()
    geohazard = (np.max(np.column_stack([shares.scored(k, scores) for k in geo_kinds]), axis=1)
                 if geo_kinds else np.zeros(n))
    history = None if warning_history is None else _scaled_by_max(np.asarray(warning_history, float))
    hazard, hazard_parts = _weighted({
        "flood_prone": shares.scored("flood_prone", scores),
        "waterlogging": shares.scored("waterlogging", scores),
        "geohazard": geohazard,
        "low_lying": shares.low_lying if shares.low_lying is not None else np.zeros(n),
        "history": history,
    }, weights["hazard"], n)

    exposure, exposure_parts = _weighted({
        "population": _scaled_by_max(table.population.astype(float)),
        "households": _scaled_by_max(table.households.astype(float)),
    }, weights["exposure"], n)

    refs = weights["vulnerability_reference_share"]
    vuln_parts_in = {}
    for name in ("elderly", "children", "disabled"):
        ref = float(refs.get(name, 1.0)) or 1.0
        vuln_parts_in[name] = np.clip(_share(getattr(table, name), table.population) / ref, 0, 1)
    vulnerability, vuln_parts = _weighted(vuln_parts_in, weights["vulnerability"], n)

    targets = weights["coping_targets"]
    roles = weights["officer_roles"]
    officers = None
    if coping.has_primary_officer is not None or coping.has_backup_officer is not None:
        primary = (coping.has_primary_officer if coping.has_primary_officer is not None
                   else np.zeros(n, bool))
        backup = (coping.has_backup_officer if coping.has_backup_officer is not None
                  else np.zeros(n, bool))
        role_total = float(roles["primary"]) + float(roles["backup"]) or 1.0
        officers = (float(roles["primary"]) * primary + float(roles["backup"]) * backup) / role_total
    shelter = stock = None
    if coping.shelter_places_per_person is not None:
        target = float(targets["shelter_places_per_person"]) or 1.0
        shelter = np.clip(np.asarray(coping.shelter_places_per_person, float) / target, 0, 1)
    if coping.stock_people_per_person is not None:
        target = float(targets["stock_people_per_person"]) or 1.0
        stock = np.clip(np.asarray(coping.stock_people_per_person, float) / target, 0, 1)
    capacity, coping_parts = _weighted({"shelter": shelter, "officers": officers, "stock": stock},
                                       weights["coping"], n)

    floor = float(weights["coping_floor"])
    risk = 100.0 * floor * hazard * exposure * vulnerability / (floor + (1.0 - floor) * capacity)
    risk = np.round(risk, 6)  # stable ordering across platforms for equal inputs
    order = np.lexsort((table.code.astype(str), -risk))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    risk_class = _classes(rank, n, weights.get("class_quantiles", [0.2, 0.4, 0.6, 0.8]), risk)
    return RiskResult(table=table, hazard=hazard, exposure=exposure, vulnerability=vulnerability,
                      coping=capacity, risk=risk, rank=rank, risk_class=risk_class,
                      parts={"hazard": hazard_parts, "exposure": exposure_parts,
                             "vulnerability": vuln_parts, "coping": coping_parts},
                      weights=weights)


def _classes(rank: np.ndarray, n: int, quantiles: list[float], risk: np.ndarray) -> np.ndarray:
    """Risk class by rank: the top 20 % ``very_high`` … with the default quintiles.

    A community with zero risk is always ``very_low``.
    """
    if n == 0:
        return np.zeros(0, dtype=object)
    position = 1.0 - (rank - 0.5) / n  # 1 for the highest risk, near 0 for the lowest
    idx = np.searchsorted(np.asarray(quantiles, float), position, side="right")
    idx = np.where(risk > 0, idx, 0)
    return np.asarray(CLASSES, dtype=object)[np.clip(idx, 0, len(CLASSES) - 1)]


def _r(value: float) -> float:
    return round(float(value), 4)


def community_rows(result: RiskResult, limit: int | None = None) -> list[dict[str, Any]]:
    """Ranked rows (highest risk first) with every component and sub-indicator."""
    t = result.table
    order = result.order()
    if limit is not None:
        order = order[:limit]
    # Python lists once: indexing numpy scalars row by row would dominate for 20,000 rows.
    col = {name: np.round(values[order], 4).tolist() for name, values in (
        ("risk", result.risk), ("hazard", result.hazard), ("exposure", result.exposure),
        ("vulnerability", result.vulnerability), ("coping", result.coping))}
    parts = {group: {name: np.round(values[order], 4).tolist() for name, values in p.items()}
             for group, p in result.parts.items()}
    lon = np.where(np.isnan(t.lon[order]), np.nan, np.round(t.lon[order], 6)).tolist()
    lat = np.where(np.isnan(t.lat[order]), np.nan, np.round(t.lat[order], 6)).tolist()
    code, name = t.code[order].tolist(), t.name[order].tolist()
    township, county = t.township_code[order].tolist(), t.county_code[order].tolist()
    rank, cls = result.rank[order].tolist(), result.risk_class[order].tolist()
    population, households = t.population[order].tolist(), t.households[order].tolist()
    names = t.area_names
    rows = []
    for k in range(order.size):
        rows.append({
            "code": code[k], "name": name[k], "township_code": township[k],
            "township": names.get(township[k]), "county_code": county[k],
            "county": names.get(county[k]), "rank": rank[k], "risk": col["risk"][k],
            "risk_class": cls[k], "hazard": col["hazard"][k], "exposure": col["exposure"][k],
            "vulnerability": col["vulnerability"][k], "coping": col["coping"][k],
            "components": {group: {n: v[k] for n, v in p.items()} for group, p in parts.items()},
            "population": population[k], "households": households[k],
            "lon": None if lon[k] != lon[k] else lon[k],  # NaN → null
            "lat": None if lat[k] != lat[k] else lat[k],
        })
    return rows


def area_rows(result: RiskResult, level: str) -> list[dict[str, Any]]:
    """Township or county roll-up: population-weighted mean risk and components, maximum,
    and the number of communities in the two highest classes; highest mean first."""
    t = result.table
    keys = t.township_code if level == "township" else t.county_code
    weight = t.population.astype(float)
    rows = []
    for code, idx in group_rows(keys):
        w = weight[idx]
        total = float(w.sum())

        def mean(values: np.ndarray, idx: np.ndarray = idx, w: np.ndarray = w,
                 total: float = total) -> float:
            return _r((values[idx] * w).sum() / total if total > 0 else values[idx].mean())

        rows.append({
            "code": code, "name": t.area_names.get(code), "level": level,
            "communities": int(idx.size), "population": int(t.population[idx].sum()),
            "risk": mean(result.risk), "risk_max": _r(result.risk[idx].max()),
            "hazard": mean(result.hazard), "exposure": mean(result.exposure),
            "vulnerability": mean(result.vulnerability), "coping": mean(result.coping),
            "high_risk_communities": int(np.isin(result.risk_class[idx],
                                                 ("high", "very_high")).sum()),
        })
    rows.sort(key=lambda r: (-r["risk"], r["code"]))
    return rows


def risk_document(result: RiskResult, limit: int | None = None) -> dict[str, Any]:
    """The JSON document of ``GET /api/v1/risk`` and ``disaster assess --risk``."""
    return {
        "communities": community_rows(result, limit),
        "by_township": area_rows(result, "township"),
        "by_county": area_rows(result, "county"),
        "weights": result.weights,
        "formula": "risk = 100 × floor × H × E × V ÷ (floor + (1 − floor) × C)",
    }
