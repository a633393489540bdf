"""Progress against the plan's own targets (应急体系规划 indicators).

- An information officer in every community (灾害信息员 全覆盖): target 100 %.
- Emergency shelters by level (专栏4): at least 5 provincial and 20 municipal.
- Share of nursing-type beds (护理型床位) where beds are recorded: target 55 % (the 14th
  five-year plan for ageing and elderly care, 《"十四五"国家老龄事业发展和养老服务体系规划》).
- Direct economic loss as a share of GDP (专栏1): at most 1.3 %.

Targets are data (``DEFAULT_TARGETS``, overridable by the caller). Shelter figures come from
the caller (``disaster`` does not read the shelter registry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_TARGETS: dict[str, Any] = {
    "officer_coverage_percent": 100.0,
    "shelters_provincial": 5,
    "shelters_municipal": 20,
    "nursing_bed_share_percent": 55.0,
    "loss_share_of_gdp_percent": 1.3,
}


def _indicator(key: str, title: str, value: float | int | None, target: float | int,
               unit: str, *, at_most: bool = False, detail: str = "") -> dict[str, Any]:
    met = None if value is None else (value <= target if at_most else value >= target)
    return {"key": key, "title": title, "value": value, "target": target, "unit": unit,
            "comparison": "<=" if at_most else ">=", "met": met, "detail": detail}


def plan_indicators(*, communities: int, communities_with_officer: int,
                    shelters_by_level: Mapping[str, int] | None,
                    beds: int | None = None, nursing_beds: int | None = None,
                    loss_share_percent: float | None = None,
                    loss_basis: str = "reported",
                    targets: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The plan indicators with value, target and whether the target is met (``None``: no data).

    Parameters
    ----------
    communities, communities_with_officer
        All communities and those with an active primary officer.
    shelters_by_level
        ``{level: count}`` of shelters in service (``None``: no shelter registry).
    beds, nursing_beds
        Beds recorded and how many are nursing-type (``None``: not recorded).
    loss_share_percent
        Direct loss as % of GDP (reported, or modelled when no report is in).
    """
    t = dict(DEFAULT_TARGETS) | dict(targets or {})
    coverage = (round(100.0 * communities_with_officer / communities, 2)
                if communities else None)
    out = [_indicator("officer_coverage", "Communities with an information officer", coverage,
                      t["officer_coverage_percent"], "%",
                      detail=f"{communities_with_officer} / {communities}")]
    if shelters_by_level is None:
        out.append(_indicator("shelters_provincial", "Provincial-level shelters", None,
                              t["shelters_provincial"], "", detail="no shelter registry"))
        out.append(_indicator("shelters_municipal", "Municipal-level shelters", None,
                              t["shelters_municipal"], "", detail="no shelter registry"))
    else:
        out.append(_indicator("shelters_provincial", "Provincial-level shelters",
                              int(shelters_by_level.get("provincial", 0)),
                              t["shelters_provincial"], ""))
        out.append(_indicator("shelters_municipal", "Municipal-level shelters",
                              int(shelters_by_level.get("municipal", 0)),
                              t["shelters_municipal"], ""))
    share = (round(100.0 * nursing_beds / beds, 2)
             if beds and nursing_beds is not None else None)
    out.append(_indicator("nursing_bed_share", "Share of nursing-type beds", share,
                          t["nursing_bed_share_percent"], "%",
                          detail=f"{nursing_beds} / {beds}" if share is not None
                          else "not recorded"))
    out.append(_indicator("loss_share_of_gdp", "Direct economic loss as share of GDP",
                          loss_share_percent, t["loss_share_of_gdp_percent"], "%", at_most=True,
                          detail=loss_basis))
    return out
