"""Evacuation plans: who is at risk under the current warnings, and which safe shelter takes them.

People at risk per community = rate(hazard, level) × population, vulnerable groups (elderly,
children, disabled) counted first, minus those already evacuated per the latest reports. They
are assigned exactly (:mod:`shelters.assignment`) to safe open or standby shelters with free
places, minimising travel plus a penalty per person left unplaced. The plan document is
CONTRACT.md's ``evacuation plan --format json``; ``problem`` holds exactly the inputs solved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import column, inspect, select
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, role_word
from disaster.communities import Community
from disaster.reports.latest import latest_figures
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import current_levels
from gis.messages import msg
from gis.types import utcnow
from shelters import safety
from shelters.assignment import RoadDistance, solve_assignment
from shelters.errors import ShelterNotFound, ShelterPermissionDenied, ShelterValidationError
from shelters.models import EvacuationPlan, Shelter, ShelterStatus
from shelters.services import get_setting, set_setting

RATES_KEY = "evacuation_rates"
PENALTY_KEY = "unassigned_penalty_km"
#: Share of a community's population to move, per hazard ("*": any) and warning level.
DEFAULT_RATES: dict[str, dict[str, float]] = {
    "*": {"blue": 0.0, "yellow": 0.0, "orange": 0.05, "red": 0.2},
}
#: Leaving one person unplaced costs as much as moving them this far (km).
DEFAULT_PENALTY_KM = 50.0
ELIGIBLE = (ShelterStatus.OPEN, ShelterStatus.STANDBY)
PLANNERS = (Role.ADMIN, Role.DUTY_OFFICER)


@dataclass
class Group:
    """People of one community still to be moved."""

    community: str
    people: int
    vulnerable: int
    lon: float
    lat: float
    hazard: str
    level: str


# --- settings ----------------------------------------------------------------------------

def validate_rates(rates: Any) -> dict[str, dict[str, float]]:
    """Check ``{hazard or "*": {level: share 0..1}}``; errors name the hazard and level."""
    if not isinstance(rates, dict) or not rates:
        raise ShelterValidationError(msg("evacuation rates must be a non-empty object"),
                                     fields={"rates": [msg("expected {hazard: {level: share}}")]})
    errors: dict[str, list[str]] = {}
    out: dict[str, dict[str, float]] = {}
    for hazard, by_level in rates.items():
        if hazard != "*" and hazard not in {h.value for h in Hazard}:
            errors[f"rates.{hazard}"] = [msg("unknown hazard")]
            continue
        if not isinstance(by_level, dict):
            errors[f"rates.{hazard}"] = [msg("expected {level: share}")]
            continue
        out[hazard] = {}
        for level, share in by_level.items():
            if level not in {lv.value for lv in WarningLevel}:
                errors[f"rates.{hazard}.{level}"] = [msg("unknown level")]
            elif isinstance(share, bool) or not isinstance(share, int | float) or not (
                    0.0 <= share <= 1.0):
                errors[f"rates.{hazard}.{level}"] = [
                    msg("must be a share between 0 and 1, not %(value)s", value=str(share))]
            else:
                out[hazard][level] = float(share)
    if errors:
        raise ShelterValidationError(msg("invalid evacuation rates"), fields=errors)
    return out


def rates(session: Session) -> dict[str, dict[str, float]]:
    """Evacuation rates in force (stored setting, else :data:`DEFAULT_RATES`)."""
    return validate_rates(get_setting(session, RATES_KEY, DEFAULT_RATES))


def set_rates(session: Session, actor: Actor, new: Any) -> dict[str, dict[str, float]]:
    """Replace the evacuation rates (administrators; audited)."""
    checked = validate_rates(new)
    set_setting(session, actor, RATES_KEY, checked)
    return checked


def set_penalty(session: Session, actor: Actor, km: Any) -> float:
    """Set the default cost of one unplaced person in km (administrators; audited)."""
    checked = _penalty_km(km)
    set_setting(session, actor, PENALTY_KEY, checked)
    return checked


def _penalty_km(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value > 0):
        raise ShelterValidationError(
            msg("the penalty for an unplaced person must be a positive number of km, not "
                "%(value)s", value=str(value)),
            fields={"unassigned_penalty": [msg("a positive number (km)")]})
    return round(float(value), 3)


def _rate(table: dict[str, dict[str, float]], hazard: Hazard, level: WarningLevel) -> float:
    by_level = table.get(hazard.value, table.get("*", {}))
    return by_level.get(level.value, table.get("*", {}).get(level.value, 0.0))


# --- people at risk ----------------------------------------------------------------------

def people_at_risk(session: Session, rate_table: dict[str, dict[str, float]] | None = None
                   ) -> list[Group]:
    """Communities with people still to move, largest hazard share first per community.

    The vulnerable are counted first: of ``n`` people at risk, ``min(n, vulnerable)`` are
    elderly, children or disabled; people already evacuated are taken off in the same order.
    """
    table = rate_table if rate_table is not None else rates(session)
    levels = current_levels(session)
    if not levels:
        return []
    evacuated = {code: int(fig.get("evacuated", 0) or 0)
                 for code, fig in latest_figures(session).items()}
    groups = []
    codes = sorted(levels)
    for i in range(0, len(codes), 500):
        rows = session.execute(select(Community).where(Community.code.in_(codes[i:i + 500])))
        for (community,) in rows:
            share, hazard, level = max(
                ((_rate(table, h, lv), h, lv) for h, lv in levels[community.code].items()),
                key=lambda t: (t[0], t[2].rank))
            population = max(0, community.population or 0)
            at_risk = min(population, math.floor(share * population + 0.5))
            vulnerable = min(population, (community.elderly or 0) + (community.children or 0)
                             + (community.disabled or 0))
            vulnerable_at_risk = min(at_risk, vulnerable)
            gone = evacuated.get(community.code, 0)
            people = max(0, at_risk - gone)
            if people == 0:
                continue
            point = community.point if community.point is not None else community.geom
            if point is None:
                continue
            geom = to_shape(point)
            if geom.geom_type != "Point":
                geom = geom.representative_point()
            groups.append(Group(community.code, people, max(0, vulnerable_at_risk - gone),
                                geom.x, geom.y, hazard.value, level.value))
    groups.sort(key=lambda g: g.community)
    return groups


# --- shelters offered to the plan --------------------------------------------------------

def safe_shelters(session: Session, period: str | None = None
                  ) -> tuple[list[tuple[Shelter, int]], dict[str, safety.Verdict]]:
    """Open or standby shelters that are safe now, with their free places (> 0).

    Never offers a shelter in a community under a red warning, whatever the configured rules.
    """
    shelters = list(session.scalars(select(Shelter).where(Shelter.status.in_(ELIGIBLE),
                                                          Shelter.geom.is_not(None))
                                    .order_by(Shelter.code)))
    verdicts = safety.assess(session, shelters)
    red = safety.red_warning_shelters(session, shelters)
    out = []
    for shelter in shelters:
        if not verdicts[shelter.code].safe or shelter.code in red:
            continue
        free = _capacity(shelter, period) - shelter.occupancy
        if free > 0:
            out.append((shelter, free))
    return out, verdicts


def _capacity(shelter: Shelter, period: str | None) -> int:
    if period == "day" and shelter.capacity_day is not None:
        return min(shelter.capacity, shelter.capacity_day)
    if period == "night" and shelter.capacity_night is not None:
        return min(shelter.capacity, shelter.capacity_night)
    return shelter.capacity


# --- the plan ----------------------------------------------------------------------------

def build_plan(groups: list[Group], shelters: list[tuple[str, float, float, int]],
               penalty_km: float, *, road: RoadDistance | None = None, k: int = 8
               ) -> dict[str, Any]:
    """Solve and build the plan document (without ``id``) from plain inputs.

    ``shelters`` holds ``(code, lon, lat, free places)``.
    """
    penalty_m = round(penalty_km * 1000)
    people = np.array([g.people for g in groups], dtype=np.int64)
    c_lon = np.array([g.lon for g in groups], dtype=float)
    c_lat = np.array([g.lat for g in groups], dtype=float)
    s_lon = np.array([s[1] for s in shelters], dtype=float)
    s_lat = np.array([s[2] for s in shelters], dtype=float)
    free = np.array([s[3] for s in shelters], dtype=np.int64)
    sol = solve_assignment(people, c_lon, c_lat, s_lon, s_lat, free, penalty_m, road=road, k=k)

    ccode = [g.community for g in groups]
    scode = [s[0] for s in shelters]
    order = np.lexsort((sol.arc_cost_m, sol.arc_community))
    assignments: list[dict[str, Any]] = []
    placed_vulnerable = dict.fromkeys(ccode, 0)
    vulnerable_left = {g.community: g.vulnerable for g in groups}
    for a in order[sol.arc_flow[order] > 0].tolist():
        community = ccode[int(sol.arc_community[a])]
        n = int(sol.arc_flow[a])
        # The vulnerable go to the community's nearest shelters first.
        vul = min(n, vulnerable_left[community])
        vulnerable_left[community] -= vul
        placed_vulnerable[community] += vul
        assignments.append({"community": community, "shelter": scode[int(sol.arc_shelter[a])],
                            "people": n, "distance_km": int(sol.arc_cost_m[a]) / 1000,
                            "vulnerable": vul})
    unassigned = [{"community": ccode[i], "people": int(sol.unassigned[i]),
                   "vulnerable": vulnerable_left[ccode[i]]}
                  for i in np.flatnonzero(sol.unassigned > 0).tolist()]
    costs_order = np.lexsort((sol.arc_shelter, sol.arc_community))
    problem = {
        "groups": [{"community": g.community, "people": g.people} for g in groups],
        "shelters": [{"shelter": s[0], "available": int(s[3])} for s in shelters],
        "costs": [{"community": ccode[int(sol.arc_community[a])],
                   "shelter": scode[int(sol.arc_shelter[a])],
                   "cost": int(sol.arc_cost_m[a]) / 1000} for a in costs_order.tolist()],
        "unassigned_penalty": penalty_m / 1000,
    }
    total = int(people.sum())
    left = int(sol.unassigned.sum())
    return {
        "assignments": assignments,
        "unassigned": unassigned,
        "problem": problem,
        # Exact: the solver's integer objective in metre·people, shown in km·people.
        "objective": sol.objective_m / 1000,
        "distance_mode": "road" if road is not None else "great_circle",
        "summary": {"people": total, "assigned": total - left, "unassigned": left,
                    "vulnerable": int(sum(g.vulnerable for g in groups)),
                    "vulnerable_unassigned": int(sum(u["vulnerable"] for u in unassigned)),
                    "communities": len(groups), "shelters": len(shelters)},
        "certificate": {"rounds": sol.rounds, "arcs": len(sol.arc_community),
                        "optimal_over_all_shelters": sol.certified},
    }


def plan_evacuation(session: Session, actor: Actor, *, penalty_km: float | None = None,
                    period: str | None = None, road: RoadDistance | None = None,
                    k: int = 8) -> dict[str, Any]:
    """Compute, store and return an evacuation plan for the current warnings.

    Parameters
    ----------
    penalty_km
        Cost of one unplaced person in km of travel (default: the ``unassigned_penalty_km``
        setting, else :data:`DEFAULT_PENALTY_KM`).
    period
        ``"day"`` or ``"night"`` to plan with that capacity where it differs.
    road
        Road distance function; default: the loaded road network if any, else great-circle.
    """
    if actor.role not in PLANNERS:
        raise ShelterPermissionDenied(msg("the %(role)s role may not %(action)s",
                                          role=role_word(actor.role),
                                          action=msg("compute evacuation plans")))
    if period not in (None, "day", "night"):
        raise ShelterValidationError(msg("unknown period %(period)s", period=str(period)),
                                     fields={"period": [msg("day or night")]})
    penalty = _penalty_km(penalty_km if penalty_km is not None
                          else get_setting(session, PENALTY_KEY, DEFAULT_PENALTY_KM))
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ShelterValidationError(msg("k must be a positive whole number"),
                                     fields={"k": [msg("must be ≥ 1")]})
    if road is None:
        road = road_network_distance(session)
    groups = people_at_risk(session)
    offered, verdicts = safe_shelters(session, period)
    shelters = []
    for shelter, free in offered:
        point = to_shape(shelter.geom)
        shelters.append((shelter.code, point.x, point.y, free))
    document = build_plan(groups, shelters, penalty, road=road, k=k)
    document["excluded_unsafe"] = sorted(code for code, v in verdicts.items() if not v.safe)
    now = utcnow()
    document["created_at"] = now.isoformat()
    summary = document["summary"]
    plan = EvacuationPlan(created_at=now, created_by=actor.user_id, actor_name=actor.username,
                          distance_mode=document["distance_mode"], people=summary["people"],
                          assigned=summary["assigned"], unassigned=summary["unassigned"],
                          objective=document["objective"], document={})
    session.add(plan)
    session.flush()
    document = {"id": plan.id} | document
    plan.document = document
    audit.record(session, actor, "evacuation.plan", "evacuation_plan", plan.id, None,
                 {"people": summary["people"], "assigned": summary["assigned"],
                  "unassigned": summary["unassigned"], "objective": document["objective"]})
    session.flush()
    return document


def road_network_distance(session: Session) -> RoadDistance | None:
    """Road distances over the imported road network, or ``None`` (great-circle then).

    The network is the ``road_segments`` table (imported for dispatch planning), read here
    as a plain table so that shelters need not import the stockpile package.
    """
    if not inspect(session.connection()).has_table("road_segments"):
        return None
    roads = sa_table("road_segments", column("geom", Geometry(srid=4326)))
    geoms = [g for g in session.scalars(select(roads.c.geom)) if g is not None]
    if not geoms:
        return None
    from gis.routing import RoadNetwork

    network = RoadNetwork([to_shape(g) for g in geoms])

    def road(c_lon: np.ndarray, c_lat: np.ndarray, s_lon: np.ndarray,
             s_lat: np.ndarray) -> np.ndarray:
        out = np.empty(len(c_lon), dtype=float)
        if not len(out):
            return out
        # One shortest-path tree per distinct shelter (fewer than communities; undirected).
        sources, which = np.unique(np.column_stack([s_lon, s_lat]), axis=0, return_inverse=True)
        for k, (lon, lat) in enumerate(sources.tolist()):
            mask = which.reshape(-1) == k
            out[mask] = network.distances_km([(lon, lat)],
                                             np.column_stack([c_lon[mask], c_lat[mask]]))[0]
        return out

    return road


def get_plan(session: Session, plan_id: int) -> dict[str, Any]:
    """A stored plan's document."""
    plan = session.get(EvacuationPlan, plan_id)
    if plan is None:
        raise ShelterNotFound(msg("evacuation plan %(id)s does not exist", id=plan_id),
                              fields={"id": [msg("unknown")]})
    return plan.document


def latest_plan_id(session: Session) -> int | None:
    """Id of the most recent plan, if any."""
    return session.scalar(select(EvacuationPlan.id).order_by(EvacuationPlan.id.desc()).limit(1))


def community_destinations(document: dict[str, Any], community: str) -> dict[str, Any]:
    """Where one community's people go in a plan: shelters, people, distance; and who is left."""
    go = [a for a in document["assignments"] if a["community"] == community]
    left = next((u for u in document["unassigned"] if u["community"] == community), None)
    return {"plan": document.get("id"), "community": community,
            "destinations": sorted(go, key=lambda a: a["distance_km"]),
            "unassigned": left["people"] if left else 0,
            "unassigned_vulnerable": left.get("vulnerable", 0) if left else 0}
