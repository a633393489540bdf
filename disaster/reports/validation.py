"""Validation of a submitted report: every broken rule named by its field (HTTP 422).

The consistency rules follow 《自然灾害情况统计调查制度》 (应急〔2020〕19号, DESIGN.md §4.3):
dead + missing, evacuated and needing aid each within affected people; 绝收 ≤ 成灾 ≤ 受灾
crop area; rooms not fewer than households for each house-damage class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pydantic

from disaster.reports.models import CROP_FIELDS, HOUSE_FIELDS, LOSS_FIELDS, PEOPLE_FIELDS
from disaster.reports.schemas import MAX_NOTES, SHANGHAI, ReportIn, parse_time
from gis.messages import Message, msg
from gis.schema import error_fields

__all__ = ["MAX_NOTES", "SHANGHAI", "Errors", "clean_report", "parse_time"]

# Phones' clocks drift; a report a few minutes "in the future" is clock skew, not a lie.
CLOCK_SKEW = dt.timedelta(minutes=5)
INT_FIELDS = PEOPLE_FIELDS + HOUSE_FIELDS
FLOAT_FIELDS = CROP_FIELDS + LOSS_FIELDS
# (rooms, households) pairs: a household's house has at least one room.
ROOM_PAIRS = (("collapsed_rooms", "collapsed_households"),
              ("severely_damaged_rooms", "severely_damaged_households"),
              ("generally_damaged_rooms", "generally_damaged_households"))


class Errors(dict[str, list[Message | str]]):
    """Field → messages, with each field's stable codes in :attr:`codes`."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, list[str]] = {}

    def add(self, field: str, message: Message | str, code: str = "invalid") -> None:
        self.setdefault(field, []).append(message)
        self.codes.setdefault(field, []).append(code)


def clean_report(data: Mapping[str, Any], now: dt.datetime) -> tuple[dict[str, Any], Errors]:
    """Check a report against :class:`ReportIn` and the rules that need no database.

    Returns the values (CONTRACT.md names; ``event`` only when given) and the errors.
    Absent figures count as zero: a report with all figures zero is a valid "zero report"
    (nothing happened), which the statistical system requires as well.
    """
    errors = Errors()
    if not isinstance(data, Mapping):
        errors.add("body", msg("expected a JSON object"), "type")
        return {"community": ""}, errors
    try:
        report = ReportIn.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        fields, codes = error_fields(exc)
        for name, messages in fields.items():
            for message, code in zip(messages, codes[name], strict=True):
                errors.add(name, message, code)
        return {"community": ""}, errors
    out = report.model_dump(exclude={"event"})
    if report.event is not None:
        out["event"] = report.event
    out["notes"] = report.notes or None
    if out["occurred_at"] > now + CLOCK_SKEW:
        errors.add("occurred_at", msg("is in the future"), "future")
    _consistency(out, errors)
    return out, errors


def _consistency(v: dict[str, Any], errors: Errors) -> None:
    affected = v["affected_people"]
    if v["dead"] + v["missing"] > affected:
        message = msg("dead + missing (%(sum)s) exceed affected people (%(affected)s)",
                      sum=v["dead"] + v["missing"], affected=affected)
        errors.add("dead", message, "inconsistent")
        errors.add("missing", message, "inconsistent")
    for name in ("evacuated", "needing_aid"):
        if v[name] > affected:
            errors.add(name, msg("%(value)s exceeds affected people (%(affected)s)",
                                 value=v[name], affected=affected), "inconsistent")
    if v["crop_lost_ha"] > v["crop_damaged_ha"]:
        errors.add("crop_lost_ha", msg("绝收 area exceeds 成灾 area (crop_damaged_ha)"),
                   "inconsistent")
    if v["crop_damaged_ha"] > v["crop_affected_ha"]:
        errors.add("crop_damaged_ha", msg("成灾 area exceeds 受灾 area (crop_affected_ha)"),
                   "inconsistent")
    for rooms, households in ROOM_PAIRS:
        if v[rooms] < v[households]:
            errors.add(rooms, msg("fewer rooms (%(rooms)s) than households (%(households)s)",
                                  rooms=v[rooms], households=v[households]), "inconsistent")
