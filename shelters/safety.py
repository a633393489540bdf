"""Is a shelter safe under the current warnings? Rules are data, evaluated in memory.

A rule says: a shelter is unsafe while ``hazard`` (``"*"`` = any) is at ``min_level`` or
above either in the shelter's own community (``where: "community"``) or in a community that a
hazard zone of ``zone_kinds`` containing the shelter intersects (``where: "hazard_zone"``).
The defaults are the issue's two rules; administrators extend them per hazard through the
``safety_rules`` setting (:func:`set_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely.strtree import STRtree
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.access import Actor
from disaster.communities import Community
from disaster.hazards import HazardKind, HazardZone
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import current_levels
from gis.messages import msg
from shelters.errors import ShelterValidationError
from shelters.models import Shelter
from shelters.services import get_setting, set_setting

SETTING_KEY = "safety_rules"
ANY_HAZARD = "*"

DEFAULT_RULES: list[dict[str, Any]] = [
    # A red warning of any hazard makes every shelter in that community unsafe.
    {"name": "red_warning_community", "hazard": ANY_HAZARD, "min_level": "red",
     "where": "community"},
    # Orange or red rainstorm: flood-prone and waterlogging zones touching a warned community.
    {"name": "rainstorm_flood_zones", "hazard": "rainstorm", "min_level": "orange",
     "where": "hazard_zone", "zone_kinds": ["flood_prone", "waterlogging"]},
]


@dataclass
class Verdict:
    """Safety of one shelter with the reasons it is unsafe (empty when safe)."""

    code: str
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return not self.reasons


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """Check a rule list and return it normalised; errors name the rule index and field."""
    if not isinstance(rules, list):
        raise ShelterValidationError(msg("safety rules must be a list"),
                                     fields={"rules": [msg("expected a list")]})
    errors: dict[str, list[str]] = {}
    out = []
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if not isinstance(rule, dict):
            errors[where] = [msg("expected an object")]
            continue
        hazard = rule.get("hazard")
        if hazard != ANY_HAZARD and hazard not in {h.value for h in Hazard}:
            errors[f"{where}.hazard"] = [msg("unknown hazard %(value)s", value=str(hazard))]
        if rule.get("min_level") not in {lv.value for lv in WarningLevel}:
            errors[f"{where}.min_level"] = [msg("unknown level %(value)s",
                                                value=str(rule.get("min_level")))]
        kind = rule.get("where")
        if kind not in ("community", "hazard_zone"):
            errors[f"{where}.where"] = [msg("must be 'community' or 'hazard_zone'")]
        zones = rule.get("zone_kinds") or []
        if kind == "hazard_zone":
            bad = [z for z in zones if z not in {k.value for k in HazardKind}]
            if not zones or bad:
                errors[f"{where}.zone_kinds"] = [
                    msg("unknown zone kinds %(kinds)s", kinds=", ".join(map(str, bad))) if bad
                    else msg("required")]
        out.append({"name": str(rule.get("name") or f"rule{i + 1}"), "hazard": hazard,
                    "min_level": rule.get("min_level"), "where": kind,
                    "zone_kinds": list(zones)})
    if errors:
        raise ShelterValidationError(msg("invalid safety rules"), fields=errors)
    return out


def rules(session: Session) -> list[dict[str, Any]]:
    """The safety rules in force (stored setting, else :data:`DEFAULT_RULES`)."""
    return validate_rules(get_setting(session, SETTING_KEY, DEFAULT_RULES))


def set_rules(session: Session, actor: Actor, new_rules: Any) -> list[dict[str, Any]]:
    """Replace the safety rules (administrators; audited)."""
    checked = validate_rules(new_rules)
    set_setting(session, actor, SETTING_KEY, checked)
    return checked


def _triggered(rule: dict[str, Any], levels: dict[str, dict[Hazard, WarningLevel]]
               ) -> dict[str, tuple[str, str]]:
    """``{community: (hazard, level)}`` of communities whose warnings trigger ``rule``."""
    threshold = WarningLevel(rule["min_level"]).rank
    out: dict[str, tuple[str, str]] = {}
    for code, by_hazard in levels.items():
        for hazard, level in by_hazard.items():
            if rule["hazard"] not in (ANY_HAZARD, hazard.value) or level.rank < threshold:
                continue
            best = out.get(code)
            if best is None or WarningLevel(best[1]).rank < level.rank:
                out[code] = (hazard.value, level.value)
    return out


def assess(session: Session, shelters: list[Shelter] | None = None) -> dict[str, Verdict]:
    """Judge every shelter (or ``shelters``) against the rules and the current warnings."""
    if shelters is None:
        shelters = list(session.scalars(select(Shelter)))
    verdicts = {s.code: Verdict(s.code) for s in shelters}
    levels = current_levels(session)
    if not levels or not shelters:
        return verdicts
    located = [s for s in shelters if s.geom is not None]
    points = [to_shape(s.geom) for s in located]
    for rule in rules(session):
        triggered = _triggered(rule, levels)
        if not triggered:
            continue
        polygons = _community_polygons(session, list(triggered))
        if rule["where"] == "community":
            _flag_in_communities(rule, triggered, polygons, shelters, located, points, verdicts)
        else:
            _flag_in_zones(session, rule, triggered, polygons, located, points, verdicts)
    return verdicts


def _community_polygons(session: Session, codes: list[str]) -> dict[str, Any]:
    out = {}
    for i in range(0, len(codes), 500):
        for code, geom in session.execute(select(Community.code, Community.geom).where(
                Community.code.in_(codes[i:i + 500]), Community.geom.is_not(None))):
            out[code] = to_shape(geom)
    return out


def _flag_in_communities(rule: dict[str, Any], triggered: dict[str, tuple[str, str]],
                         polygons: dict[str, Any], shelters: list[Shelter],
                         located: list[Shelter], points: list[Any],
                         verdicts: dict[str, Verdict]) -> None:
    hits: dict[str, str] = {}
    # The shelter's recorded community counts, and so does the polygon its point lies in.
    for s in shelters:
        if s.community_code in triggered:
            hits[s.code] = s.community_code
    if polygons and points:
        codes = list(polygons)
        tree = STRtree([polygons[c] for c in codes])
        pt_idx, poly_idx = tree.query(points, predicate="intersects")
        for p, g in zip(pt_idx.tolist(), poly_idx.tolist(), strict=True):
            hits.setdefault(located[p].code, codes[g])
    for code, community in hits.items():
        hazard, level = triggered[community]
        verdicts[code].reasons.append({"rule": rule["name"], "hazard": hazard, "level": level,
                                       "community": community})


def _flag_in_zones(session: Session, rule: dict[str, Any], triggered: dict[str, tuple[str, str]],
                   polygons: dict[str, Any], located: list[Shelter], points: list[Any],
                   verdicts: dict[str, Verdict]) -> None:
    if not polygons or not points:
        return
    zones = [(code, to_shape(geom)) for code, geom in session.execute(
        select(HazardZone.code, HazardZone.geom).where(
            HazardZone.kind.in_([HazardKind(k) for k in rule["zone_kinds"]]),
            HazardZone.geom.is_not(None)))]
    if not zones:
        return
    codes = list(polygons)
    community_tree = STRtree([polygons[c] for c in codes])
    zone_geoms = [z for _, z in zones]
    zone_idx, comm_idx = community_tree.query(zone_geoms, predicate="intersects")
    touching: dict[int, str] = {}  # zone index -> one warned community it touches (highest level)
    for z, c in zip(zone_idx.tolist(), comm_idx.tolist(), strict=True):
        code = codes[c]
        prev = touching.get(z)
        if prev is None or WarningLevel(triggered[prev][1]).rank < WarningLevel(triggered[code][1]).rank:
            touching[z] = code
    if not touching:
        return
    active = sorted(touching)
    zone_tree = STRtree([zone_geoms[z] for z in active])
    pt_idx, hit_idx = zone_tree.query(shapely.points([(p.x, p.y) for p in points]),
                                      predicate="intersects")
    seen: set[tuple[str, str]] = set()
    for p, h in zip(pt_idx.tolist(), hit_idx.tolist(), strict=True):
        z = active[h]
        community = touching[z]
        key = (located[p].code, zones[z][0])
        if key in seen:
            continue
        seen.add(key)
        hazard, level = triggered[community]
        verdicts[located[p].code].reasons.append({
            "rule": rule["name"], "hazard": hazard, "level": level, "community": community,
            "zone": zones[z][0]})


def unsafe_codes(session: Session) -> set[str]:
    """Codes of the shelters that are unsafe right now."""
    return {code for code, v in assess(session).items() if not v.safe}


_RED_ANYWHERE = {"name": "red_warning_community", "hazard": ANY_HAZARD, "min_level": "red",
                 "where": "community", "zone_kinds": []}


def red_warning_shelters(session: Session, shelters: list[Shelter]) -> set[str]:
    """Codes of ``shelters`` in a community under a red warning of any hazard.

    Independent of the configured rules: plans never send anyone there, even if an
    administrator has edited the rules.
    """
    triggered = _triggered(_RED_ANYWHERE, current_levels(session))
    if not triggered or not shelters:
        return set()
    verdicts = {s.code: Verdict(s.code) for s in shelters}
    located = [s for s in shelters if s.geom is not None]
    _flag_in_communities(_RED_ANYWHERE, triggered, _community_polygons(session, list(triggered)),
                         shelters, located, [to_shape(s.geom) for s in located], verdicts)
    return {code for code, v in verdicts.items() if not v.safe}
