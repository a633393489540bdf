"""Validation of a submitted report: every broken rule named by its field (HTTP 422).

The consistency rules follow 《自然灾害情况统计调查制度》 (应急〔2020〕19号, DESIGN.md §4.3):
dead + missing, evacuated and needing aid each within affected people; 绝收 ≤ 成灾 ≤ 受灾
crop area; rooms not fewer than households for each house-damage class.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from disaster.reports.models import (
    CROP_FIELDS,
    HOUSE_FIELDS,
    LOSS_FIELDS,
    PEOPLE_FIELDS,
    ReportKind,
)
from disaster.warnings.levels import Hazard

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Phones' clocks drift; a report a few minutes "in the future" is clock skew, not a lie.
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_NOTES = 4000
INT_FIELDS = PEOPLE_FIELDS + HOUSE_FIELDS
FLOAT_FIELDS = CROP_FIELDS + LOSS_FIELDS
# (rooms, households) pairs: a household's house has at least one room.
ROOM_PAIRS = (("collapsed_rooms", "collapsed_households"),
              ("severely_damaged_rooms", "severely_damaged_households"),
              ("generally_damaged_rooms", "generally_damaged_households"))


class Errors(dict[str, list[str]]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 to aware UTC; a time without offset is taken as Beijing time (phones)."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(dt.UTC)


def _number(value: Any, integer: bool) -> float | int | None:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        num = value
    else:
        try:
            num = float(str(value).strip())
        except ValueError:
            return None
    if not math.isfinite(num):
        return None
    if integer:
        if float(num) != int(num):
            return None
        return int(num)
    return float(num)


def clean_report(data: Mapping[str, Any], now: dt.datetime) -> tuple[dict[str, Any], Errors]:
    """Parse and check the fields that need no database; return values and errors.

    Absent figures count as zero: a report with all figures zero is a valid "zero report"
    (nothing happened), which the statistical system requires as well.
    """
    errors = Errors()
    out: dict[str, Any] = {}
    community = str(data.get("community") or "").strip()
    if not community:
        errors.add("community", "required")
    out["community"] = community
    try:
        out["kind"] = ReportKind(str(data.get("kind") or ""))
    except ValueError:
        errors.add("kind", "one of initial, update, final")
    try:
        out["hazard"] = Hazard(str(data.get("hazard") or ""))
    except ValueError:
        errors.add("hazard", "one of " + ", ".join(h.value for h in Hazard))
    occurred = data.get("occurred_at")
    if occurred in (None, ""):
        errors.add("occurred_at", "required (ISO 8601)")
    else:
        try:
            out["occurred_at"] = parse_time(occurred)
            if out["occurred_at"] > now + CLOCK_SKEW:
                errors.add("occurred_at", "is in the future")
        except (ValueError, TypeError):
            errors.add("occurred_at", f"not an ISO 8601 time: {occurred!r}")
    for name in INT_FIELDS + FLOAT_FIELDS:
        value = _number(data.get(name), integer=name in INT_FIELDS)
        if value is None:
            errors.add(name, "must be a whole number" if name in INT_FIELDS else "must be a number")
        elif value < 0:
            errors.add(name, "must not be negative")
        else:
            out[name] = value
    notes = data.get("notes")
    if notes is not None and not isinstance(notes, str):
        errors.add("notes", "must be text")
    elif notes and len(notes) > MAX_NOTES:
        errors.add("notes", f"at most {MAX_NOTES} characters")
    out["notes"] = (notes or "").strip() or None
    if data.get("event") not in (None, ""):
        out["event"] = data["event"]
    location = data.get("location")
    out["location"] = None
    if location not in (None, "", {}):
        point = _point(location)
        if point is None:
            errors.add("location", 'expected a GeoJSON Point {"type": "Point", '
                                   '"coordinates": [lon, lat]}')
        else:
            out["location"] = point
    _consistency(out, errors)
    return out, errors


def _point(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, Mapping) or value.get("type") != "Point":
        return None
    coords = value.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) < 2:
        return None
    try:
        lon, lat = float(coords[0]), float(coords[1])
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        return None
    return lon, lat


def _consistency(v: dict[str, Any], errors: Errors) -> None:
    if "affected_people" not in v:
        return
    affected = v["affected_people"]
    if "dead" in v and "missing" in v and v["dead"] + v["missing"] > affected:
        msg = f"dead + missing ({v['dead'] + v['missing']}) exceed affected people ({affected})"
        errors.add("dead", msg)
        errors.add("missing", msg)
    for name in ("evacuated", "needing_aid"):
        if name in v and v[name] > affected:
            errors.add(name, f"{v[name]} exceeds affected people ({affected})")
    if {"crop_lost_ha", "crop_damaged_ha"} <= v.keys() and v["crop_lost_ha"] > v["crop_damaged_ha"]:
        errors.add("crop_lost_ha", "绝收 area exceeds 成灾 area (crop_damaged_ha)")
    if ({"crop_damaged_ha", "crop_affected_ha"} <= v.keys()
            and v["crop_damaged_ha"] > v["crop_affected_ha"]):
        errors.add("crop_damaged_ha", "成灾 area exceeds 受灾 area (crop_affected_ha)")
    for rooms, households in ROOM_PAIRS:
        if {rooms, households} <= v.keys() and v[rooms] < v[households]:
            errors.add(rooms, f"fewer rooms ({v[rooms]}) than households ({v[households]})")
