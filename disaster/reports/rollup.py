"""Roll-ups by township, county and city from each community's latest report; the
suggested response level from thresholds held as data; CSV of the standard indicators.

Response levels follow 国家自然灾害救助应急预案 (2024, DESIGN.md §4.4): a level applies when
any of its indicators reaches its threshold; the highest such level is suggested.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from disaster.errors import DisasterValidationError
from disaster.events import DisasterEvent, get_event
from disaster.reports.models import (
    HOUSE_FIELDS,
    INDICATORS,
    PEOPLE_FIELDS,
    RESPONSE_INDICATORS,
    RESPONSE_LEVELS,
    Report,
    ResponseThreshold,
)
from gis.messages import msg
from gis.types import utcnow

INDICATOR_LABELS_ZH = {
    "affected_people": "受灾人口（人）", "dead": "因灾死亡人口（人）",
    "missing": "因灾失踪人口（人）", "evacuated": "紧急转移安置人口（人）",
    "needing_aid": "需紧急生活救助人口（人）", "collapsed_households": "倒塌房屋（户）",
    "collapsed_rooms": "倒塌房屋（间）", "severely_damaged_households": "严重损坏房屋（户）",
    "severely_damaged_rooms": "严重损坏房屋（间）",
    "generally_damaged_households": "一般损坏房屋（户）",
    "generally_damaged_rooms": "一般损坏房屋（间）", "crop_affected_ha": "农作物受灾面积（公顷）",
    "crop_damaged_ha": "农作物成灾面积（公顷）", "crop_lost_ha": "农作物绝收面积（公顷）",
    "direct_loss_10k_yuan": "直接经济损失（万元）",
}
PROFILES = ("national", "city")


def _zero() -> dict[str, float]:
    return dict.fromkeys(INDICATORS, 0)


def rollup(session: Session, event: int | str | None = None,
           profile: str = "city") -> dict[str, Any]:
    """Totals per township, county and for the whole region from the latest reports.

    One grouped query over the latest reports does the summing in the database; counties
    and the region are summed from the township rows in Python (bench/rollup.py).

    Returns
    -------
    dict
        ``{"event", "townships": [row], "counties": [row], "totals": row, "response"}`` where
        a row is ``{"code", "name", "communities_reported", <indicator>: value}``.
    """
    event_id = None
    if event not in (None, ""):
        event_id = get_event(session, event).id  # type: ignore[arg-type]
    # Community codes are township code + 3 digits (GB/T 2260 statistical codes), so the
    # township is a prefix: grouping the reports alone avoids joining 600,000 communities.
    township_of = func.substr(Report.community_code, 1, 9)
    latest = [Report.is_latest.is_(True)]
    if event_id is not None:
        latest.append(Report.event_id == event_id)
    # With one event each community has at most one latest report, so counting rows counts
    # communities; only several events need the (slower) distinct count.
    several = event_id is None and len(session.scalars(
        select(DisasterEvent.id).where(select(Report.id).where(
            Report.event_id == DisasterEvent.id, Report.is_latest.is_(True)).exists())
        .limit(2)).all()) > 1
    counted = (func.count(func.distinct(Report.community_code)) if several
               else func.count(Report.id))
    stmt = (select(township_of, counted,
                   *[func.coalesce(func.sum(getattr(Report, name)), 0) for name in INDICATORS])
            .where(*latest).group_by(township_of))
    # Core (not ORM) results: 50,000 plain rows without per-row ORM bookkeeping.
    conn = session.connection()
    areas = {code: (name, parent) for code, name, parent in conn.execute(
        select(Area.code, Area.name, Area.parent_code).where(
            Area.level.in_([AreaLevel.TOWNSHIP, AreaLevel.COUNTY])))}
    rows = conn.execute(stmt).fetchall()
    codes = [r[0] for r in rows]
    counts = np.array([r[1] for r in rows], dtype=np.int64)
    values = np.array([r[2:] for r in rows], dtype=float).reshape(len(rows), len(INDICATORS))
    county_codes = [(areas.get(code, (None, None))[1] or code[:6]) for code in codes]
    county_list, county_index = np.unique(np.array(county_codes, dtype=object),
                                          return_inverse=True)
    # Sums per county and overall, vectorised: 50,000 townships take milliseconds.
    county_values = np.zeros((len(county_list), len(INDICATORS)))
    np.add.at(county_values, county_index, values)
    county_counts = np.bincount(county_index, weights=counts, minlength=len(county_list))
    city = session.execute(select(Area.code, Area.name).where(
        Area.level == AreaLevel.CITY).order_by(Area.code)).first()
    townships = _rows(codes, [areas.get(c, (None,))[0] for c in codes], counts, values,
                      county_codes)
    counties = _rows([str(c) for c in county_list],
                     [areas.get(str(c), (None,))[0] for c in county_list], county_counts,
                     county_values)
    [totals] = _rows([city[0] if city else None], [city[1] if city else None],
                     np.array([counts.sum()]), values.sum(axis=0, keepdims=True))
    order = sorted(range(len(townships)), key=lambda i: townships[i]["code"])
    return {"event": event_id,
            "townships": [townships[i] for i in order],
            "counties": counties,
            "totals": totals,
            "response": suggest_response_level(session, totals, profile)}


_INT_COUNT = len(PEOPLE_FIELDS) + len(HOUSE_FIELDS)  # people and houses are whole numbers


def _rows(codes: list[Any], names: list[Any], counts: np.ndarray, values: np.ndarray,
          county_codes: list[str] | None = None) -> list[dict[str, Any]]:
    ints = np.rint(values[:, :_INT_COUNT]).astype(np.int64).tolist()
    floats = np.round(values[:, _INT_COUNT:], 2).tolist()
    out = []
    for i, code in enumerate(codes):
        row = {"code": code, "name": names[i]}
        if county_codes is not None:
            row["county_code"] = county_codes[i]
        row["communities_reported"] = int(counts[i])
        row.update(zip(INDICATORS[:_INT_COUNT], ints[i], strict=True))
        row.update(zip(INDICATORS[_INT_COUNT:], floats[i], strict=True))
        out.append(row)
    return out


def thresholds(session: Session, profile: str = "city") -> dict[str, dict[str, float]]:
    """``{level: {indicator: value}}`` of a threshold profile (``national`` or ``city``)."""
    if profile not in PROFILES:
        raise DisasterValidationError(msg("unknown threshold profile %(profile)s",
                                          profile=str(profile)),
                                      fields={"profile": [msg("national or city")]})
    out: dict[str, dict[str, float]] = {level: {} for level in RESPONSE_LEVELS}
    for row in session.scalars(select(ResponseThreshold).where(
            ResponseThreshold.profile == profile)):
        out.setdefault(row.level, {})[row.indicator] = row.value
    return out


def response_indicators(totals: Mapping[str, float]) -> dict[str, float]:
    """The combined figures the plan compares (dead + missing, evacuated + needing aid…)."""
    return {name: float(sum(totals.get(part, 0) or 0 for part in parts))
            for name, parts in RESPONSE_INDICATORS.items()}


def suggest_response_level(session: Session, totals: Mapping[str, float],
                           profile: str = "city") -> dict[str, Any]:
    """The highest response level any indicator reaches, with the reasons.

    ``{"profile", "level": "I"|"II"|"III"|"IV"|None, "reasons": [{"indicator", "value",
    "threshold"}], "indicators": {...}}``.
    """
    table = thresholds(session, profile)
    values = response_indicators(totals)
    for level in RESPONSE_LEVELS:  # I is the most severe: the first level met wins
        reasons = [{"indicator": name, "value": values[name], "threshold": limit}
                   for name, limit in table.get(level, {}).items()
                   if name in values and values[name] >= limit]
        if reasons:
            return {"profile": profile, "level": level, "reasons": reasons,
                    "indicators": values}
    return {"profile": profile, "level": None, "reasons": [], "indicators": values}


def set_threshold(session: Session, actor: Actor, profile: str, level: str, indicator: str,
                  value: float) -> ResponseThreshold:
    """Change one threshold (administrators). Levels must stay ordered: I ≥ II ≥ III ≥ IV."""
    require_role(actor, Role.ADMIN, action="changing response thresholds")
    fields: dict[str, list[str]] = {}
    if profile not in PROFILES:
        fields["profile"] = [msg("national or city")]
    if level not in RESPONSE_LEVELS:
        fields["level"] = [msg("one of %(choices)s", choices="I, II, III, IV")]
    if indicator not in RESPONSE_INDICATORS:
        fields["indicator"] = [msg("one of %(choices)s", choices=", ".join(RESPONSE_INDICATORS))]
    try:
        value = float(value)
        if not value > 0:
            fields["value"] = [msg("must be positive")]
    except (TypeError, ValueError):
        fields["value"] = [msg("must be a number")]
    if fields:
        raise DisasterValidationError(msg("invalid threshold"), fields=fields)
    table = thresholds(session, profile)
    i = RESPONSE_LEVELS.index(level)
    higher = [table[lv].get(indicator) for lv in RESPONSE_LEVELS[:i]]
    lower = [table[lv].get(indicator) for lv in RESPONSE_LEVELS[i + 1:]]
    if any(h is not None and value > h for h in higher) or any(
            lo is not None and value < lo for lo in lower):
        raise DisasterValidationError(
            msg("thresholds must decrease from level I to IV"),
            fields={"value": [msg("level %(level)s must lie between the neighbouring levels",
                                  level=level)]})
    row = session.scalar(select(ResponseThreshold).where(
        ResponseThreshold.profile == profile, ResponseThreshold.level == level,
        ResponseThreshold.indicator == indicator))
    before = None
    if row is None:
        row = ResponseThreshold(profile=profile, level=level, indicator=indicator, value=value)
        session.add(row)
    else:
        before = {"value": row.value}
    row.value = value
    row.updated_at = utcnow()
    row.updated_by = actor.username
    session.flush()
    audit.record(session, actor, "response_threshold.update", "response_threshold",
                 f"{profile}/{level}/{indicator}", before, {"value": value})
    return row


def export_csv(session: Session, event: int | str | None = None) -> str:
    """The standard indicators by township as CSV (one row per township, a total row)."""
    data = rollup(session, event)
    known = {r["code"] for r in data["townships"]}
    # Townships without any report are listed with zeros: "no report" must be visible.
    all_townships = session.execute(
        select(Area.code, Area.name, Area.parent_code).where(
            Area.level == AreaLevel.TOWNSHIP).order_by(Area.code)).all()
    rows = list(data["townships"])
    for code, name, parent in all_townships:
        if code not in known:
            rows.append({"code": code, "name": name, "county_code": parent,
                         "communities_reported": 0, **_zero()})
    rows.sort(key=lambda r: r["code"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["township_code", "township_name", "county_code", "communities_reported",
                     *INDICATORS])
    for r in rows:
        writer.writerow([r["code"], r.get("name") or "", r.get("county_code") or "",
                         r["communities_reported"], *[r[name] for name in INDICATORS]])
    t = data["totals"]
    writer.writerow([t["code"] or "total", t["name"] or "合计", "", t["communities_reported"],
                     *[t[name] for name in INDICATORS]])
    return out.getvalue()

