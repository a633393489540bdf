"""Risk weights and impact curves: documented defaults, administrator overrides, validation.

Both parameter sets are plain JSON-able dicts. The defaults below are starting points, not
calibrated truths: each says where its number comes from, and the administrator tunes them to
the city's own disaster history (``disaster assess params set`` or the API).

Sources of the defaults
-----------------------
- Crop thresholds: 《自然灾害情况统计调查制度》 (应急〔2020〕19号) defines 受灾 as a yield loss of
  at least 10 %, 成灾 30 %, 绝收 80 %; the loss shares per class are the mid-points of those
  bands (20 %, 55 %, 90 %).
- Warning-level rain: DESIGN.md §4.1 (CMA signals) gives only the minimum per window (blue
  ≥50 mm/12 h … red ≥100 mm/3 h); the event totals assumed per level (60/80/120/180 mm) are an
  assumption of this system for communities whose warning carries no rain figure.
- Damage-ratio curves: shaped after the JRC global flood depth-damage functions for Asia
  (Huizinga, de Moel & Szewczyk 2017, EUR 28552 EN: residential damage 0.33 at 0.5 m, 0.49 at
  1 m, 0.72 at 2 m), with rain totals standing in for depth through the susceptibility of the
  community (share in flood-prone and waterlogging zones). The rain→ratio breakpoints are an
  assumption to calibrate against local 核报.
- Minimum needs per displaced person per week (DESIGN.md §4.5, InaSAFE/BNPB): rice 2.8 kg,
  drinking water 17.5 L, family kits 0.2; Sphere: 3.5 m² covered space (a 12 m² tent covers
  3.4 people, 0.29 tents per person); one quilt per person.
- Housing: about 3 rooms per rural household and 2.5万元 to rebuild a room (18 m² at about
  1,400 yuan/m², rural Anhui brick-concrete) are assumptions; a severely damaged room costs 40 %
  and a generally damaged one 10 % of a rebuild.
- Crop value: about 1.5万元 per hectare and season (wheat ≈7 t/ha at ≈2,300 yuan/t), an
  assumption for 宿州's wheat–maize rotation.
- Other losses (infrastructure, enterprises, household property) are taken as equal to housing
  plus crop losses (``other_multiplier`` 1.0), an assumption.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.assessment.models import AssessmentParameter
from disaster.errors import DisasterValidationError
from gis.messages import msg
from gis.types import utcnow

RISK_WEIGHTS = "risk_weights"
IMPACT_CURVES = "impact_curves"

DEFAULT_RISK_WEIGHTS: dict[str, Any] = {
    # Hazard sub-indicators (weights; renormalised to sum 1 over those available).
    "hazard": {"flood_prone": 0.35, "waterlogging": 0.25, "geohazard": 0.10, "low_lying": 0.20,
               "history": 0.10},
    # Score of the share of a community in a zone of level 1 (low), 2, 3 (high).
    "hazard_level_scores": {"1": 0.34, "2": 0.67, "3": 1.0},
    # Exposure: people and homes, each scaled by the largest community assessed.
    "exposure": {"population": 0.6, "households": 0.4},
    # Vulnerability: shares of elderly (60+), children (0–14) and disabled residents, each
    # scaled by the reference share at which it counts as fully vulnerable.
    "vulnerability": {"elderly": 0.4, "children": 0.3, "disabled": 0.3},
    "vulnerability_reference_share": {"elderly": 0.40, "children": 0.40, "disabled": 0.15},
    # Coping capacity: free shelter places and relief stock within reach (two-step floating
    # catchment, per resident) and officer coverage.
    "coping": {"shelter": 0.4, "officers": 0.3, "stock": 0.3},
    "coping_targets": {"shelter_places_per_person": 0.05, "stock_people_per_person": 0.02},
    "officer_roles": {"primary": 0.7, "backup": 0.3},
    # Risk = H × E × V ÷ (floor + (1 − floor) × C), scaled so that it lies in 0..100: a
    # community without any coping capacity counts 1/floor times one with full capacity.
    "coping_floor": 0.5,
    "shelter_reach_km": 10.0,
    "depot_reach_km": 50.0,
    # Relief items counted as coping stock, in units per person (see module docstring).
    "stock_norms_per_person": {"QUILT": 1.0, "TENT12": 0.29, "RICE": 2.8, "WATER": 17.5,
                               "KIT": 0.2},
    # Risk classes by rank: the share of communities below each class boundary.
    "class_quantiles": [0.2, 0.4, 0.6, 0.8],
}

DEFAULT_IMPACT_CURVES: dict[str, Any] = {
    # Hazards whose intensity is accumulated rain; others use ``other_hazard_affected_ratio``.
    "rain_hazards": ["rainstorm", "typhoon"],
    # Assumed event rain (mm) when a warning carries no rain figure (see module docstring).
    "level_rain_mm": {"blue": 60.0, "yellow": 80.0, "orange": 120.0, "red": 180.0},
    # Susceptibility multiplier: base for the whole community plus level-scored zone shares.
    "susceptibility": {"base": 0.3, "flood_prone": 1.0, "waterlogging": 0.7},
    # Curves: [[rain_mm, ratio], ...] with rain strictly increasing, interpolated linearly and
    # flat beyond the ends.
    "affected_ratio": [[0, 0], [25, 0], [50, 0.05], [100, 0.2], [150, 0.4], [250, 0.7], [400, 0.9]],
    # Share of the affected who are evacuated (紧急转移安置).
    "evacuated_ratio": [[0, 0], [50, 0.02], [100, 0.08], [150, 0.15], [250, 0.35], [400, 0.6]],
    # Share of the affected not evacuated who still need emergency aid (需紧急生活救助).
    "needing_aid_ratio": [[0, 0], [50, 0.01], [100, 0.05], [150, 0.1], [250, 0.2], [400, 0.35]],
    # Evacuation and aid rise with the share of elderly, children and disabled residents.
    "vulnerable_aid_weight": 0.5,
    # House damage: share of affected households, rural; urban buildings × urban_house_factor.
    "collapsed_ratio": [[0, 0], [100, 0.001], [150, 0.004], [250, 0.015], [400, 0.04]],
    "severely_damaged_ratio": [[0, 0], [100, 0.005], [150, 0.015], [250, 0.04], [400, 0.08]],
    "generally_damaged_ratio": [[0, 0], [50, 0.01], [100, 0.04], [150, 0.08], [250, 0.15],
                                [400, 0.25]],
    "urban_house_factor": 0.3,
    "rooms_per_household": 3.0,
    # Crops: share of farmland affected (≥10 % loss), of that damaged (≥30 %), of that lost (≥80 %).
    "crop_affected_ratio": [[0, 0], [25, 0], [50, 0.1], [100, 0.35], [150, 0.6], [250, 0.85],
                            [400, 1.0]],
    "crop_damaged_ratio": [[0, 0], [50, 0.1], [100, 0.3], [150, 0.45], [250, 0.6], [400, 0.75]],
    "crop_lost_ratio": [[0, 0], [100, 0.1], [150, 0.2], [250, 0.35], [400, 0.5]],
    # Direct loss in 万元 (10,000 yuan).
    "loss_10k_yuan": {"collapsed_room": 2.5, "severely_damaged_room": 1.0,
                      "generally_damaged_room": 0.25, "crop_value_per_ha": 1.5,
                      "crop_loss_share_affected": 0.2, "crop_loss_share_damaged": 0.55,
                      "crop_loss_share_lost": 0.9, "other_multiplier": 1.0},
    # Share of residents affected by non-rain hazards (gale, snow, cold…) by warning level;
    # they are not modelled to damage houses or crops.
    "other_hazard_affected_ratio": {"blue": 0.0, "yellow": 0.005, "orange": 0.02, "red": 0.05},
    # Comparison with reports: a community is silent when its modelled affected people reach
    # ``silent_min_affected`` (or its warning is orange or red) and it has filed no report;
    # a report is far from the model when the ratio is beyond ``far_ratio`` either way and the
    # larger side reaches ``far_min_people`` (people) or ``far_min_loss`` (万元).
    "compare": {"silent_min_affected": 100, "silent_levels": ["orange", "red"], "far_ratio": 3.0,
                "far_min_people": 50, "far_min_loss": 10.0},
    # Direct loss as a share of GDP (专栏1 target ≤ 1.3 %). 宿州 2020 GDP 204.5 billion yuan.
    "gdp_10k_yuan": 20_450_000.0,
    "loss_share_target_percent": 1.3,
}

DEFAULTS = {RISK_WEIGHTS: DEFAULT_RISK_WEIGHTS, IMPACT_CURVES: DEFAULT_IMPACT_CURVES}


def merged(defaults: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """``defaults`` with ``override`` laid over it key by key (nested dicts merged, lists replaced)."""
    out = copy.deepcopy(defaults)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_parameters(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(risk_weights, impact_curves)``: the defaults with the stored overrides applied."""
    stored = {p.name: p.value for p in session.scalars(select(AssessmentParameter))}
    return (merged(DEFAULT_RISK_WEIGHTS, stored.get(RISK_WEIGHTS)),
            merged(DEFAULT_IMPACT_CURVES, stored.get(IMPACT_CURVES)))


def set_parameters(session: Session, actor: Actor, name: str,
                   value: dict[str, Any]) -> dict[str, Any]:
    """Store an override of parameter set ``name``; administrators only; audited.

    ``value`` holds only the keys to change. Returns the effective (merged) set.

    Raises
    ------
    DisasterValidationError
        Unknown set, unknown key or a value of the wrong shape (named by its dotted path).
    """
    require_role(actor, Role.ADMIN, action="changing assessment parameters")
    if name not in DEFAULTS:
        raise DisasterValidationError(msg("unknown parameter set %(name)s", name=str(name)),
                                      fields={"name": [msg("one of %(choices)s",
                                                           choices=", ".join(DEFAULTS))]})
    if not isinstance(value, dict):
        raise DisasterValidationError(msg("parameters must be a JSON object"),
                                      fields={"value": [msg("expected an object")]})
    row = session.scalar(select(AssessmentParameter).where(AssessmentParameter.name == name))
    before = copy.deepcopy(row.value) if row is not None else None
    combined_override = merged(before or {}, value)
    effective = merged(DEFAULTS[name], combined_override)
    validate(name, effective, combined_override)
    if row is None:
        row = AssessmentParameter(name=name, value=combined_override)
        session.add(row)
    else:
        row.value = combined_override
    row.updated_at = utcnow()
    row.updated_by = actor.user_id
    session.flush()
    audit.record(session, actor, "assessment_parameters.update", "assessment_parameters", name,
                 before, combined_override)
    return effective


def reset_parameters(session: Session, actor: Actor, name: str) -> None:
    """Drop the stored override of ``name`` so the defaults apply again; audited."""
    require_role(actor, Role.ADMIN, action="changing assessment parameters")
    row = session.scalar(select(AssessmentParameter).where(AssessmentParameter.name == name))
    if row is None:
        return
    before = row.value
    session.delete(row)
    session.flush()
    audit.record(session, actor, "assessment_parameters.reset", "assessment_parameters", name,
                 before, None)


def validate(name: str, effective: dict[str, Any], override: dict[str, Any] | None = None) -> None:
    """Check a parameter set against the shape of its defaults; errors name the dotted key."""
    errors: dict[str, list[str]] = {}
    _check(DEFAULTS[name], effective, name, errors)
    if override:
        _unknown_keys(DEFAULTS[name], override, name, errors)
    if errors:
        first = next(iter(errors))
        raise DisasterValidationError(msg("invalid parameter %(key)s: %(problem)s", key=first,
                                          problem=errors[first][0]), fields=errors)


# Maps whose values are shares or scores in 0..1.
_SHARES = {"vulnerability_reference_share", "hazard_level_scores"}


def _unknown_keys(default: Any, given: Any, path: str, errors: dict[str, list[str]]) -> None:
    if not isinstance(default, dict) or not isinstance(given, dict):
        return
    # Open-ended maps (item codes, levels) accept new keys of the same value type.
    open_maps = {"stock_norms_per_person"}
    for key, value in given.items():
        sub = f"{path}.{key}"
        if key not in default:
            if path.rsplit(".", 1)[-1] not in open_maps:
                errors.setdefault(sub, []).append(msg("unknown key"))
            continue
        _unknown_keys(default[key], value, sub, errors)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _check(default: Any, value: Any, path: str, errors: dict[str, list[str]]) -> None:
    key = path.rsplit(".", 1)[-1]
    if isinstance(default, dict):
        if not isinstance(value, dict):
            errors.setdefault(path, []).append(msg("expected an object"))
            return
        for sub_key, sub_value in value.items():
            template = default.get(sub_key, next(iter(default.values()), None))
            _check(template, sub_value, f"{path}.{sub_key}", errors)
        if key in ("hazard", "exposure", "vulnerability", "coping", "officer_roles") and not any(
                _is_number(v) and v > 0 for v in value.values()):
            errors.setdefault(path, []).append(msg("at least one weight must be positive"))
        return
    if isinstance(default, list) and default and isinstance(default[0], list):
        _check_curve(value, path, errors)
        return
    if isinstance(default, list):
        if not isinstance(value, list):
            errors.setdefault(path, []).append(msg("expected a list"))
        elif key == "class_quantiles" and (
                not all(_is_number(v) and 0 < v < 1 for v in value)
                or any(b <= a for a, b in itertools.pairwise(value))):
            errors.setdefault(path, []).append(msg("increasing numbers between 0 and 1"))
        return
    if _is_number(default):
        parent = path.rsplit(".", 2)[-2] if path.count(".") >= 2 else ""
        if not _is_number(value) or value < 0:
            errors.setdefault(path, []).append(msg("expected a non-negative number"))
        elif key == "coping_floor" and not 0 < value <= 1:
            errors.setdefault(path, []).append(msg("must be in (0, 1]"))
        elif value > 1 and key != "far_ratio" and (
                key.endswith("_ratio") or parent.endswith("_ratio")
                or key.startswith("crop_loss_share") or parent in _SHARES):
            errors.setdefault(path, []).append(msg("a ratio or share must not exceed 1"))


def _check_curve(value: Any, path: str, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, list) or len(value) < 2:
        errors.setdefault(path, []).append(msg("expected at least two [rain_mm, ratio] points"))
        return
    xs: list[float] = []
    for i, point in enumerate(value):
        if (not isinstance(point, list) or len(point) != 2
                or not all(_is_number(v) for v in point)):
            errors.setdefault(f"{path}[{i}]", []).append(msg("expected [rain_mm, ratio]"))
            return
        if not 0 <= point[1] <= 1:
            errors.setdefault(f"{path}[{i}]", []).append(msg("ratio must be between 0 and 1"))
        xs.append(float(point[0]))
    if any(b <= a for a, b in itertools.pairwise(xs)):
        errors.setdefault(path, []).append(msg("rain values must increase strictly"))
