"""Modelled impact per community: hazard intensity × exposure × vulnerability curves.

Intensity is the event rain of the community's rain warnings (the warning's own accumulated
rain when its metric is a ``precip_mm_*`` figure, never less than the level's assumed event
rain), raised by the community's susceptibility: a base share plus its level-scored shares in
flood-prone and waterlogging zones. The curves and loss rates are data
(:mod:`disaster.assessment.parameters`, where their sources are given). Non-rain hazards
(gale, snow, cold…) contribute affected people by warning level only.

Results are whole people, households and rooms, and hectares and 万元 in hundredths, so that
roll-ups add up exactly (:mod:`disaster.assessment.rollup`). Deaths and missing people are
not modelled. The outputs keep the consistency rules of the statistical form: evacuated and
needing aid ≤ affected; 绝收 ≤ 成灾 ≤ 受灾 area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from disaster.assessment.inputs import CommunityTable, WarningState
from disaster.assessment.overlay import HazardShares
from disaster.assessment.rollup import to_units
from disaster.reports.models import INDICATORS

# Everything on the statistical form except deaths and missing people.
MODELLED = tuple(name for name in INDICATORS if name not in ("dead", "missing"))
LEVEL_RANK = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
LEVEL_NAMES = (None, "blue", "yellow", "orange", "red")


@dataclass
class ImpactResult:
    """Modelled indicators as int64 units per community, and the intensity behind them."""

    table: CommunityTable
    units: dict[str, np.ndarray]
    rain_mm: np.ndarray
    level_rank: np.ndarray
    hazards: list[list[str]]
    susceptibility: np.ndarray
    curves: dict[str, Any] = field(default_factory=dict)

    def level(self, i: int) -> str | None:
        """The community's highest warning level (any hazard) or ``None``."""
        return LEVEL_NAMES[int(self.level_rank[i])]


def curve(points: Sequence[Sequence[float]], x: np.ndarray) -> np.ndarray:
    """Piecewise-linear curve ``[[x, y], ...]`` at ``x`` (flat beyond the ends)."""
    pts = np.asarray(points, dtype=float)
    return np.interp(x, pts[:, 0], pts[:, 1])


def intensity(table: CommunityTable, warnings: Mapping[str, Sequence[WarningState]],
              curves: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      list[list[str]]]:
    """``(rain_mm, rain_level_rank, other_level_rank, hazards)`` per community.

    Rain hazards give the event rain: the warning's ``precip_mm_*`` peak when present, at least
    the level's assumed rain. Other hazards give only their highest level.
    """
    n = len(table)
    rain = np.zeros(n)
    rain_rank = np.zeros(n, dtype=np.int64)
    other_rank = np.zeros(n, dtype=np.int64)
    hazards: list[list[str]] = [[] for _ in range(n)]
    rain_hazards = set(curves["rain_hazards"])
    level_rain = curves["level_rain_mm"]
    pos = table.index()
    for code, states in warnings.items():
        i = pos.get(code)
        if i is None:
            continue
        for state in states:
            rank = LEVEL_RANK.get(state.level, 0)
            hazards[i].append(state.hazard)
            if state.hazard in rain_hazards:
                mm = float(level_rain.get(state.level, 0.0))
                if state.peak_value is not None and (state.metric or "").startswith("precip_mm"):
                    mm = max(mm, float(state.peak_value))
                rain[i] = max(rain[i], mm)
                rain_rank[i] = max(rain_rank[i], rank)
            else:
                other_rank[i] = max(other_rank[i], rank)
    return rain, rain_rank, other_rank, [sorted(set(h)) for h in hazards]


def model_impact(table: CommunityTable, shares: HazardShares,
                 warnings: Mapping[str, Sequence[WarningState]], curves: Mapping[str, Any],
                 level_scores: Sequence[float] = (0.34, 0.67, 1.0)) -> ImpactResult:
    """Modelled impact of the current warnings on every community.

    Parameters
    ----------
    table, shares
        Communities and their hazard-zone shares.
    warnings
        ``{community code: [WarningState, ...]}`` (:func:`disaster.assessment.inputs.current_warnings`).
    curves
        Effective impact curves (:func:`disaster.assessment.parameters.load_parameters`).
    level_scores
        Score of a zone of level 1, 2, 3 (the risk weights' ``hazard_level_scores``).
    """
    rain, rain_rank, other_rank, hazards = intensity(table, warnings, curves)
    pop = table.population.astype(float)
    hh = table.households.astype(float)
    sus_cfg = curves["susceptibility"]
    flood = shares.scored("flood_prone", level_scores)
    wet = shares.scored("waterlogging", level_scores)
    susceptibility = (float(sus_cfg["base"]) + float(sus_cfg["flood_prone"]) * flood
                      + float(sus_cfg["waterlogging"]) * wet)
    raining = rain_rank > 0
    rain_ratio = np.where(raining, np.clip(curve(curves["affected_ratio"], rain) * susceptibility,
                                           0, 1), 0.0)
    other_table = curves["other_hazard_affected_ratio"]
    other_ratio = np.array([0.0] + [float(other_table.get(lv, 0.0)) for lv in LEVEL_NAMES[1:]])
    affected_ratio = np.maximum(rain_ratio, other_ratio[other_rank])

    with np.errstate(divide="ignore", invalid="ignore"):
        vulnerable = np.where(pop > 0, (table.elderly + table.children + table.disabled) / pop, 0)
    vfac = 1.0 + float(curves["vulnerable_aid_weight"]) * np.clip(vulnerable, 0, 1)

    # A positive expectation is at least one person: a warned, inhabited community always
    # shows some impact rather than rounding to nothing.
    expected = pop * affected_ratio
    affected = np.where(expected > 0, np.maximum(1, np.floor(expected + 0.5)), 0)
    affected = np.minimum(affected, table.population).astype(np.int64)
    evac_ratio = np.where(raining, np.clip(curve(curves["evacuated_ratio"], rain)
                                           * susceptibility * vfac, 0, 1), 0.0)
    evacuated = np.minimum(affected, np.floor(affected * evac_ratio + 0.5)).astype(np.int64)
    aid_ratio = np.clip(curve(curves["needing_aid_ratio"], rain) * vfac, 0, 1)
    needing_aid = (evacuated + np.floor((affected - evacuated) * aid_ratio + 0.5)).astype(np.int64)
    needing_aid = np.minimum(needing_aid, affected)

    units: dict[str, np.ndarray] = {
        "affected_people": affected, "evacuated": evacuated, "needing_aid": needing_aid}
    house_factor = np.where(table.urban, float(curves["urban_house_factor"]), 1.0)
    households_hit = hh * rain_ratio * house_factor
    rooms_per_household = float(curves["rooms_per_household"])
    remaining = table.households.astype(np.int64).copy()
    for kind in ("collapsed", "severely_damaged", "generally_damaged"):
        count = np.floor(households_hit * curve(curves[f"{kind}_ratio"], rain) + 0.5)
        count = np.minimum(count.astype(np.int64), remaining)  # never more homes than exist
        remaining -= count
        units[f"{kind}_households"] = count
        units[f"{kind}_rooms"] = np.floor(count * rooms_per_household + 0.5).astype(np.int64)

    farmland_ha = table.area_km2 * 100.0 * np.clip(table.farmland_share, 0, 1)
    crop_affected = farmland_ha * np.clip(curve(curves["crop_affected_ratio"], rain)
                                          * susceptibility, 0, 1) * raining
    crop_damaged = crop_affected * curve(curves["crop_damaged_ratio"], rain)
    crop_lost = crop_damaged * curve(curves["crop_lost_ratio"], rain)
    units["crop_affected_ha"] = to_units("crop_affected_ha", crop_affected)
    units["crop_damaged_ha"] = np.minimum(to_units("crop_damaged_ha", crop_damaged),
                                          units["crop_affected_ha"])
    units["crop_lost_ha"] = np.minimum(to_units("crop_lost_ha", crop_lost),
                                       units["crop_damaged_ha"])

    loss = curves["loss_10k_yuan"]
    house_loss = (units["collapsed_rooms"] * float(loss["collapsed_room"])
                  + units["severely_damaged_rooms"] * float(loss["severely_damaged_room"])
                  + units["generally_damaged_rooms"] * float(loss["generally_damaged_room"]))
    # Crop loss from the exact (rounded) hectares so the loss matches the areas shown.
    aff_ha = units["crop_affected_ha"] / 100.0
    dmg_ha = units["crop_damaged_ha"] / 100.0
    lost_ha = units["crop_lost_ha"] / 100.0
    crop_loss = float(loss["crop_value_per_ha"]) * (
        (aff_ha - dmg_ha) * float(loss["crop_loss_share_affected"])
        + (dmg_ha - lost_ha) * float(loss["crop_loss_share_damaged"])
        + lost_ha * float(loss["crop_loss_share_lost"]))
    direct = (house_loss + crop_loss) * (1.0 + float(loss["other_multiplier"]))
    units["direct_loss_10k_yuan"] = to_units("direct_loss_10k_yuan", direct)
    ordered = {name: units[name] for name in MODELLED}
    return ImpactResult(table=table, units=ordered, rain_mm=rain,
                        level_rank=np.maximum(rain_rank, other_rank), hazards=hazards,
                        susceptibility=susceptibility, curves=dict(curves))
