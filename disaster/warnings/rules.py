"""Warning thresholds as data: the CMA defaults (中国气象局令第16号, 2007; DESIGN.md §4.1).

The table ``warning_rules`` holds them; the administrator sees and tunes them through
:func:`update_rule`. Wind criteria are Beaufort forces stored as the lower bound of the force
in m/s (GB/T 28591-2012 风力等级), because the grids carry m/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.errors import DisasterNotFound, DisasterValidationError
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.models import AlertPolicy, WarningRule

# Lower bound of each Beaufort force in m/s (GB/T 28591-2012).
BEAUFORT_MS = {5: 8.0, 6: 10.8, 7: 13.9, 8: 17.2, 9: 20.8, 10: 24.5, 11: 28.5, 12: 32.7,
               13: 37.0, 14: 41.5}
VARIABLES = ("precip_mm", "wind_ms", "gust_ms", "t2m_c", "tmin_c", "tmax_c", "visibility_m",
             "snow_mm")
KINDS = ("sum", "max", "min_le", "min_lt", "drop", "days_max")


@dataclass(frozen=True)
class Rule:
    """One criterion (see :class:`disaster.warnings.models.WarningRule`)."""

    hazard: Hazard
    level: WarningLevel
    variable: str
    kind: str
    window_hours: int
    threshold: float
    group_no: int = 0
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    note: str = ""
    enabled: bool = True

    @property
    def metric(self) -> str:
        """Name of the statistic, e.g. ``precip_mm_3h_sum``."""
        return f"{self.variable}_{self.window_hours}h_{self.kind}"


def _r(h: Hazard, lv: WarningLevel, var: str, kind: str, w: int, thr: float, g: int = 0,
       note: str = "", enabled: bool = True, **params: Any) -> Rule:
    return Rule(h, lv, var, kind, w, thr, g, params, note, enabled)


H, L = Hazard, WarningLevel
B = BEAUFORT_MS
DEFAULT_RULES: list[Rule] = [
    # 暴雨: rain accumulated in the window.
    _r(H.RAINSTORM, L.BLUE, "precip_mm", "sum", 12, 50, note="≥50 mm in 12 h"),
    _r(H.RAINSTORM, L.YELLOW, "precip_mm", "sum", 6, 50, note="≥50 mm in 6 h"),
    _r(H.RAINSTORM, L.ORANGE, "precip_mm", "sum", 3, 50, note="≥50 mm in 3 h"),
    _r(H.RAINSTORM, L.RED, "precip_mm", "sum", 3, 100, note="≥100 mm in 3 h"),
    # 暴雪: water equivalent.
    _r(H.SNOWSTORM, L.BLUE, "snow_mm", "sum", 12, 4, note="≥4 mm in 12 h"),
    _r(H.SNOWSTORM, L.YELLOW, "snow_mm", "sum", 12, 6, note="≥6 mm in 12 h"),
    _r(H.SNOWSTORM, L.ORANGE, "snow_mm", "sum", 6, 10, note="≥10 mm in 6 h"),
    _r(H.SNOWSTORM, L.RED, "snow_mm", "sum", 6, 15, note="≥15 mm in 6 h"),
    # 寒潮: Tmin falls by the threshold to at most a value, with wind (same group: AND).
    _r(H.COLD_WAVE, L.BLUE, "tmin_c", "drop", 48, 8, note="falls ≥8 ℃ in 48 h to ≤4 ℃",
       to_at_most=4),
    _r(H.COLD_WAVE, L.BLUE, "wind_ms", "max", 48, B[5], note="wind force ≥5"),
    _r(H.COLD_WAVE, L.YELLOW, "tmin_c", "drop", 24, 10, note="falls ≥10 ℃ in 24 h to ≤4 ℃",
       to_at_most=4),
    _r(H.COLD_WAVE, L.YELLOW, "wind_ms", "max", 24, B[6], note="wind force ≥6"),
    _r(H.COLD_WAVE, L.ORANGE, "tmin_c", "drop", 24, 12, note="falls ≥12 ℃ in 24 h to ≤0 ℃",
       to_at_most=0),
    _r(H.COLD_WAVE, L.ORANGE, "wind_ms", "max", 24, B[6], note="wind force ≥6"),
    _r(H.COLD_WAVE, L.RED, "tmin_c", "drop", 24, 16, note="falls ≥16 ℃ in 24 h to ≤0 ℃",
       to_at_most=0),
    _r(H.COLD_WAVE, L.RED, "wind_ms", "max", 24, B[6], note="wind force ≥6"),
    # 大风: mean wind (group 0) or gust (group 1).
    _r(H.GALE, L.BLUE, "wind_ms", "max", 24, B[6], 0, "mean force ≥6 in 24 h"),
    _r(H.GALE, L.BLUE, "gust_ms", "max", 24, B[7], 1, "gust force ≥7 in 24 h"),
    _r(H.GALE, L.YELLOW, "wind_ms", "max", 12, B[8], 0, "mean force ≥8 in 12 h"),
    _r(H.GALE, L.YELLOW, "gust_ms", "max", 12, B[9], 1, "gust force ≥9 in 12 h"),
    _r(H.GALE, L.ORANGE, "wind_ms", "max", 6, B[10], 0, "mean force ≥10 in 6 h"),
    _r(H.GALE, L.ORANGE, "gust_ms", "max", 6, B[11], 1, "gust force ≥11 in 6 h"),
    _r(H.GALE, L.RED, "wind_ms", "max", 6, B[12], 0, "mean force ≥12 in 6 h"),
    _r(H.GALE, L.RED, "gust_ms", "max", 6, B[13], 1, "gust force ≥13 in 6 h"),
    # 高温
    _r(H.HEAT, L.YELLOW, "tmax_c", "days_max", 72, 35, note="Tmax ≥35 ℃ on 3 consecutive days",
       days=3),
    _r(H.HEAT, L.ORANGE, "tmax_c", "max", 24, 37, note="Tmax ≥37 ℃ in 24 h"),
    _r(H.HEAT, L.RED, "tmax_c", "max", 24, 40, note="Tmax ≥40 ℃ in 24 h"),
    # 霜冻 (ground minimum temperature)
    _r(H.FROST, L.BLUE, "tmin_c", "min_le", 48, 0, note="≤0 ℃ in 48 h"),
    _r(H.FROST, L.YELLOW, "tmin_c", "min_le", 24, -3, note="≤−3 ℃ in 24 h"),
    _r(H.FROST, L.ORANGE, "tmin_c", "min_le", 24, -5, note="≤−5 ℃ in 24 h"),
    # 大雾
    _r(H.FOG, L.YELLOW, "visibility_m", "min_lt", 12, 500, note="<500 m in 12 h"),
    _r(H.FOG, L.ORANGE, "visibility_m", "min_lt", 6, 200, note="<200 m in 6 h"),
    _r(H.FOG, L.RED, "visibility_m", "min_lt", 2, 50, note="<50 m in 2 h"),
    # 台风: the same wind variables as gale, so these only make sense while a typhoon is
    # present; disabled by default, the duty officer enables them for a typhoon.
    _r(H.TYPHOON, L.BLUE, "wind_ms", "max", 24, B[6], 0, "mean force ≥6 in 24 h", False),
    _r(H.TYPHOON, L.BLUE, "gust_ms", "max", 24, B[8], 1, "gust force ≥8 in 24 h", False),
    _r(H.TYPHOON, L.YELLOW, "wind_ms", "max", 24, B[8], 0, "mean force ≥8 in 24 h", False),
    _r(H.TYPHOON, L.YELLOW, "gust_ms", "max", 24, B[10], 1, "gust force ≥10 in 24 h", False),
    _r(H.TYPHOON, L.ORANGE, "wind_ms", "max", 12, B[10], 0, "mean force ≥10 in 12 h", False),
    _r(H.TYPHOON, L.ORANGE, "gust_ms", "max", 12, B[12], 1, "gust force ≥12 in 12 h", False),
    _r(H.TYPHOON, L.RED, "wind_ms", "max", 6, B[12], 0, "mean force ≥12 in 6 h", False),
    _r(H.TYPHOON, L.RED, "gust_ms", "max", 6, B[14], 1, "gust force ≥14 in 6 h", False),
]

# Defaults per level: orange and red escalate after 15 minutes without acknowledgement.
DEFAULT_POLICY = {
    WarningLevel.BLUE: {"escalate_after_minutes": None, "expires_hours": 12.0},
    WarningLevel.YELLOW: {"escalate_after_minutes": None, "expires_hours": 12.0},
    WarningLevel.ORANGE: {"escalate_after_minutes": 15.0, "expires_hours": 12.0},
    WarningLevel.RED: {"escalate_after_minutes": 15.0, "expires_hours": 12.0},
}


def _from_row(row: WarningRule) -> Rule:
    return Rule(row.hazard, row.level, row.variable, row.kind, row.window_hours, row.threshold,
                row.group_no, dict(row.params or {}), row.note or "", row.enabled)


def ensure_defaults(session: Session) -> None:
    """Insert the CMA default rules and policies where the tables are empty (idempotent)."""
    if session.scalar(select(WarningRule.id).limit(1)) is None:
        for r in DEFAULT_RULES:
            session.add(WarningRule(hazard=r.hazard, level=r.level, group_no=r.group_no,
                                    variable=r.variable, kind=r.kind,
                                    window_hours=r.window_hours, threshold=r.threshold,
                                    params=dict(r.params) or None, note=r.note,
                                    enabled=r.enabled))
    have = set(session.scalars(select(AlertPolicy.level)))
    for level, values in DEFAULT_POLICY.items():
        if level not in have:
            session.add(AlertPolicy(level=level, requires_approval=False,
                                    approval_deadline_minutes=10.0, **values))
    session.flush()


def load_rules(session: Session) -> list[Rule]:
    """Enabled rules from the table (the defaults when the table is still empty)."""
    rows = session.scalars(select(WarningRule).order_by(WarningRule.id)).all()
    rules = [_from_row(r) for r in rows] if rows else list(DEFAULT_RULES)
    return [r for r in rules if r.enabled]


def policies(session: Session) -> dict[WarningLevel, AlertPolicy]:
    """The alert policy per level (defaults filled in, not written)."""
    rows = {p.level: p for p in session.scalars(select(AlertPolicy))}
    for level, values in DEFAULT_POLICY.items():
        if level not in rows:
            rows[level] = AlertPolicy(level=level, requires_approval=False,
                                      approval_deadline_minutes=10.0, **values)
    return rows


def rule_dicts(session: Session) -> list[dict[str, Any]]:
    """Every rule as plain data for the admin page and API."""
    ensure_defaults(session)
    return [{"id": r.id, "hazard": r.hazard.value, "level": r.level.value, "group": r.group_no,
             "variable": r.variable, "kind": r.kind, "window_hours": r.window_hours,
             "threshold": r.threshold, "params": r.params or {}, "note": r.note,
             "enabled": r.enabled}
            for r in session.scalars(select(WarningRule).order_by(WarningRule.id))]


def update_rule(session: Session, actor: Actor, rule_id: int, *,
                threshold: float | None = None, window_hours: int | None = None,
                enabled: bool | None = None) -> WarningRule:
    """Change one threshold, window or enabled flag; administrators only, audited."""
    require_role(actor, Role.ADMIN, action="changing warning thresholds")
    row = session.get(WarningRule, rule_id)
    if row is None:
        raise DisasterNotFound(f"no warning rule {rule_id}")
    fields: dict[str, list[str]] = {}
    if threshold is not None and not (threshold == threshold and abs(threshold) < 1e6):
        fields["threshold"] = ["must be a finite number"]
    if window_hours is not None and not (1 <= int(window_hours) <= 168):
        fields["window_hours"] = ["must be between 1 and 168 hours"]
    if fields:
        raise DisasterValidationError("invalid warning rule", fields=fields)
    before = {"threshold": row.threshold, "window_hours": row.window_hours, "enabled": row.enabled}
    if threshold is not None:
        row.threshold = float(threshold)
    if window_hours is not None:
        row.window_hours = int(window_hours)
    if enabled is not None:
        row.enabled = bool(enabled)
    session.flush()
    audit.record(session, actor, "warning_rule.update", "warning_rule", row.id, before,
                 {"threshold": row.threshold, "window_hours": row.window_hours,
                  "enabled": row.enabled})
    return row


def set_policy(session: Session, actor: Actor, level: WarningLevel | str, *,
               requires_approval: bool | None = None,
               approval_deadline_minutes: float | None = None,
               escalate_after_minutes: float | None = None,
               expires_hours: float | None = None) -> AlertPolicy:
    """Change the alert policy of one level; administrators only, audited."""
    require_role(actor, Role.ADMIN, action="changing the alert policy")
    try:
        level = WarningLevel(level)
    except ValueError:
        raise DisasterValidationError("unknown level", fields={"level": [f"unknown {level!r}"]}) from None
    fields: dict[str, list[str]] = {}
    for name, value in (("approval_deadline_minutes", approval_deadline_minutes),
                        ("escalate_after_minutes", escalate_after_minutes),
                        ("expires_hours", expires_hours)):
        if value is not None and not (0 < float(value) <= 10_000):
            fields[name] = ["must be a positive number"]
    if fields:
        raise DisasterValidationError("invalid alert policy", fields=fields)
    ensure_defaults(session)
    row = session.scalar(select(AlertPolicy).where(AlertPolicy.level == level))
    assert row is not None
    before = {"requires_approval": row.requires_approval,
              "approval_deadline_minutes": row.approval_deadline_minutes,
              "escalate_after_minutes": row.escalate_after_minutes,
              "expires_hours": row.expires_hours}
    if requires_approval is not None:
        row.requires_approval = bool(requires_approval)
    if approval_deadline_minutes is not None:
        row.approval_deadline_minutes = float(approval_deadline_minutes)
    if escalate_after_minutes is not None:
        row.escalate_after_minutes = float(escalate_after_minutes)
    if expires_hours is not None:
        row.expires_hours = float(expires_hours)
    session.flush()
    audit.record(session, actor, "alert_policy.update", "alert_policy", level.value, before,
                 {"requires_approval": row.requires_approval,
                  "approval_deadline_minutes": row.approval_deadline_minutes,
                  "escalate_after_minutes": row.escalate_after_minutes,
                  "expires_hours": row.expires_hours})
    return row
