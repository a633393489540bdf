"""Relief needs per community and per open shelter (people × norms of a needs profile).

People per destination:
- a community with an officer's report: its latest 紧急转移安置 (evacuated) and 需紧急生活救助
  (needing aid) figures (:func:`disaster.reports.latest.latest_figures`);
- otherwise, a warned community: population × the profile's rate for its warning level,
  weighted up by its share of vulnerable people (elderly, children, disabled);
- an open (or full) shelter: its occupancy counts as evacuated people at the shelter, and is
  taken off the evacuated of the community the shelter stands in (served once, at the shelter).

Quantities follow the profile's norms over its ``days``; whole units are rounded up. What is
already on its way or delivered (orders approved, confirmed, shipped or delivered) is
subtracted, so re-planning never sends the same need twice.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.communities import Community
from disaster.event_impact import held_warnings
from disaster.reports.latest import latest_figures
from disaster.warnings.levels import WarningLevel
from disaster.warnings.state import community_max_levels
from gis.messages import msg
from shelters.models import Shelter, ShelterStatus
from stockpile.catalog import get_profile
from stockpile.dispatch_models import NeedsProfile
from stockpile.models import Item
from stockpile.orders_models import DispatchOrder, DispatchOrderLine, OrderStatus

# Priority weight of a destination by its warning level (red is served first).
LEVEL_WEIGHT = {None: 1.0, WarningLevel.BLUE: 1.0, WarningLevel.YELLOW: 2.0,
                WarningLevel.ORANGE: 3.0, WarningLevel.RED: 4.0}
REPORTED_WEIGHT = 2.0  # reported damage without a (current) warning
SHELTER_WEIGHT = 3.0   # displaced people already in a shelter
COMMITTED = (OrderStatus.APPROVED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED,
             OrderStatus.DELIVERED)


@dataclass
class Destination:
    """A place relief goes to, with the people counted there and its priority."""

    code: str
    kind: str  # community | shelter
    name: str
    lon: float
    lat: float
    evacuated: int
    needing_aid: int
    priority: float
    basis: str  # reported | modelled | occupancy
    level: str | None = None
    needs: dict[str, int] = field(default_factory=dict)      # item → still needed
    gross: dict[str, int] = field(default_factory=dict)      # item → before subtraction
    committed: dict[str, int] = field(default_factory=dict)  # item → on its way or delivered

    def as_dict(self) -> dict[str, Any]:
        return {"destination": self.code, "kind": self.kind, "name": self.name,
                "lon": self.lon, "lat": self.lat, "evacuated": self.evacuated,
                "needing_aid": self.needing_aid, "priority": self.priority,
                "basis": self.basis, "level": self.level, "needs": self.needs,
                "gross": self.gross, "committed": self.committed}


def _vulnerable_share(c: Community) -> float:
    if not c.population:
        return 0.0
    return min(1.0, (c.elderly + c.children + c.disabled) / c.population)


def people_quantity(norm: dict[str, Any], evacuated: int, needing_aid: int, days: int,
                    household_size: float) -> float:
    """Quantity of one norm for the people of one destination."""
    applies = norm.get("applies_to", "all")
    people = {"evacuated": evacuated, "needing_aid": needing_aid}.get(
        applies, evacuated + needing_aid)
    per, qty = norm["per"], float(norm["quantity"])
    if per == "person_day":
        return qty * people * days
    if per == "person_week":
        return qty * people * days / 7.0
    if per == "household":
        return qty * math.ceil(people / household_size) if people else 0.0
    return qty * people


def committed_quantities(session: Session) -> dict[tuple[str, str], int]:
    """``{(destination, item): quantity}`` of orders approved, confirmed, shipped or delivered."""
    rows = session.execute(
        select(DispatchOrder.destination, Item.code, DispatchOrderLine.quantity)
        .join(DispatchOrderLine, DispatchOrderLine.order_id == DispatchOrder.id)
        .join(Item, Item.id == DispatchOrderLine.item_id)
        .where(DispatchOrder.status.in_(COMMITTED)))
    out: dict[tuple[str, str], int] = defaultdict(int)
    for dest, item, qty in rows:
        out[(dest, item)] += int(Decimal(qty))
    return dict(out)


SOURCES = ("both", "reports", "model")


def _event_levels(session: Session) -> dict[str, WarningLevel]:
    """Each community's highest current warning level, or the peak its open event holds.

    Estimates belong to the event: a village whose warning lifted while the event is open still
    needs what its peak warning implied until the duty officer closes the event.
    """
    levels = dict(community_max_levels(session))
    for code, _hazard, level, _peak, _metric in held_warnings(session):
        held = WarningLevel(level)
        if code not in levels or held.rank > levels[code].rank:
            levels[code] = held
    return levels


def compute_needs(session: Session, profile: NeedsProfile | str | None = None,
                  source: str = "both") -> list[Destination]:
    """Destinations with their remaining needs under ``profile`` (the active one by default).

    ``source`` chooses whose figures count: ``reports`` (officers' reports and shelter
    occupancy: what was observed), ``model`` (the warning-level estimate for every warned
    community, reports and shelters left aside) or ``both`` (a report where there is one, the
    estimate elsewhere, and the shelters).
    """
    if source not in SOURCES:
        raise ValueError(msg("source must be one of %(choices)s", choices=", ".join(SOURCES)))
    if not isinstance(profile, NeedsProfile):
        profile = get_profile(session, profile)
    model = profile.model or {}
    evac_rate = model.get("evacuated_rate", {})
    aid_rate = model.get("needing_aid_rate", {})
    vweight = float(model.get("vulnerable_weight", 0.5))
    hh_size = float(model.get("household_size", 2.74)) or 2.74
    items = {i.code: i for i in session.scalars(select(Item))}
    norms = [n for n in profile.norms if n["item"] in items]

    levels = _event_levels(session)  # priorities use the level whatever the source
    figures = latest_figures(session) if source != "model" else {}
    shelters = [] if source == "model" else list(session.scalars(select(Shelter).where(
        Shelter.status.in_((ShelterStatus.OPEN, ShelterStatus.FULL)), Shelter.occupancy > 0)))
    sheltered: dict[str, int] = defaultdict(int)
    for s in shelters:
        if s.community_code:
            sheltered[s.community_code] += s.occupancy

    wanted = (set(levels) if source != "reports" else set()) | set(figures) | set(sheltered)
    destinations: list[Destination] = []
    communities = {}
    if wanted:
        codes = sorted(wanted)
        for start in range(0, len(codes), 900):  # stay under SQLite's bound-parameter limit
            for c in session.scalars(select(Community).where(
                    Community.code.in_(codes[start:start + 900]))):
                communities[c.code] = c
    for code in sorted(wanted):
        c = communities.get(code)
        if c is None or (c.point is None and c.geom is None):
            continue
        level = levels.get(code)
        vuln = _vulnerable_share(c)
        report = figures.get(code)
        if report and (report.get("evacuated") or report.get("needing_aid")):
            evacuated, aid, basis = int(report["evacuated"]), int(report["needing_aid"]), "reported"
            weight = max(LEVEL_WEIGHT[level], REPORTED_WEIGHT)
        elif level is not None and source != "reports":
            factor = c.population * (1.0 + vweight * vuln)
            evacuated = round(factor * float(evac_rate.get(level.value, 0.0)))
            aid = round(factor * float(aid_rate.get(level.value, 0.0)))
            basis, weight = "modelled", LEVEL_WEIGHT[level]
        else:
            continue
        evacuated = max(0, evacuated - sheltered.get(code, 0))
        if evacuated == 0 and aid == 0:
            continue
        point = to_shape(c.point) if c.point is not None else to_shape(c.geom).representative_point()
        destinations.append(Destination(
            code=code, kind="community", name=c.name, lon=point.x, lat=point.y,
            evacuated=evacuated, needing_aid=aid, basis=basis,
            level=level.value if level else None,
            priority=round(weight * (1.0 + vweight * vuln), 2)))
    for s in shelters:
        if s.geom is None:
            continue
        point = to_shape(s.geom)
        host = communities.get(s.community_code or "")
        level = levels.get(s.community_code or "")
        vuln = _vulnerable_share(host) if host else 0.0
        weight = max(SHELTER_WEIGHT, LEVEL_WEIGHT[level])
        destinations.append(Destination(
            code=s.code, kind="shelter", name=s.name, lon=point.x, lat=point.y,
            evacuated=s.occupancy, needing_aid=0, basis="occupancy",
            level=level.value if level else None,
            priority=round(weight * (1.0 + vweight * vuln), 2)))

    committed = committed_quantities(session)
    for dest in destinations:
        totals: dict[str, float] = defaultdict(float)
        for norm in norms:
            totals[norm["item"]] += people_quantity(norm, dest.evacuated, dest.needing_aid,
                                                    profile.days, hh_size)
        for item_code, qty in totals.items():
            # Round up (never plan short of a norm); 1e-9 absorbs float noise like 3×0.1.
            gross = math.ceil(qty - 1e-9)
            if gross <= 0:
                continue
            sent = committed.get((dest.code, item_code), 0)
            dest.gross[item_code] = gross
            if sent:
                dest.committed[item_code] = sent
            if gross > sent:
                dest.needs[item_code] = gross - sent
    return destinations
