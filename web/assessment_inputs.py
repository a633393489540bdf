"""The web-side gatherer of the assessment: shelters and depots → coping-capacity arrays.

``disaster`` never imports ``shelters`` or ``stockpile``; this module reads them, turns free
shelter places and relief stock into "per resident within reach" arrays (2SFCA) and hands those
to :mod:`disaster.assessment`. The API, the situation report and the CLI all call it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.assessment.access import supply_per_person
from disaster.assessment.indicators import plan_indicators
from disaster.assessment.inputs import CommunityTable, officer_coverage
from disaster.assessment.overlay import HazardShares
from disaster.assessment.parameters import load_parameters
from disaster.assessment.risk import CopingInputs, RiskResult
from disaster.assessment.service import (
    Assessment,
    assessment_document,
    load_base,
    run_assessment,
    run_risk,
)
from shelters.models import Shelter, ShelterStatus
from stockpile.models import Depot, Item, StockLevel

# Shelters that can still take people.
_TAKING = (ShelterStatus.STANDBY, ShelterStatus.OPEN)


def shelter_points(session: Session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lon, lat, free places)`` of shelters that can take people (standby or open)."""
    rows = session.execute(
        select(func.ST_X(Shelter.geom), func.ST_Y(Shelter.geom), Shelter.capacity,
               Shelter.occupancy)
        .where(Shelter.geom.is_not(None), Shelter.status.in_(_TAKING))).all()
    if not rows:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    arr = np.array([(r[0], r[1], max(0, (r[2] or 0) - (r[3] or 0))) for r in rows], dtype=float)
    return arr[:, 0], arr[:, 1], arr[:, 2]


def depot_people_supplied(session: Session,
                          norms: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lon, lat, person-equivalents)`` per depot.

    A depot's person-equivalents are the mean over the norm items of (available quantity ÷
    quantity per person): 1,000 quilts and 2,800 kg of rice count as 1,000 people supplied with
    those two items. Reserved stock is not available.
    """
    norms = {code: float(v) for code, v in norms.items() if float(v) > 0}
    depots = session.execute(select(Depot.id, func.ST_X(Depot.geom), func.ST_Y(Depot.geom))
                             .where(Depot.geom.is_not(None))).all()
    if not depots or not norms:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    available: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = session.execute(
        select(StockLevel.depot_id, Item.code,
               func.sum(StockLevel.on_hand - StockLevel.reserved))
        .join(Item, Item.id == StockLevel.item_id)
        .where(Item.code.in_(sorted(norms)))
        .group_by(StockLevel.depot_id, Item.code)).all()
    for depot_id, code, qty in rows:
        available[depot_id][code] = Decimal(qty or 0)
    lon, lat, people = [], [], []
    for depot_id, x, y in depots:
        per_item = [max(0.0, float(available[depot_id].get(code, 0))) / norm
                    for code, norm in norms.items()]
        lon.append(x)
        lat.append(y)
        people.append(sum(per_item) / len(per_item))
    return np.array(lon, float), np.array(lat, float), np.array(people, float)


def coping_inputs(session: Session, table: CommunityTable,
                  weights: dict[str, Any]) -> CopingInputs:
    """Free shelter places and relief stock within reach per resident, and officer coverage."""
    s_lon, s_lat, free = shelter_points(session)
    d_lon, d_lat, supplied = depot_people_supplied(session, weights["stock_norms_per_person"])
    pop = table.population.astype(float)
    primary, backup = officer_coverage(session, table.code)
    return CopingInputs(
        shelter_places_per_person=supply_per_person(
            table.lon, table.lat, pop, s_lon, s_lat, free, float(weights["shelter_reach_km"])),
        stock_people_per_person=supply_per_person(
            table.lon, table.lat, pop, d_lon, d_lat, supplied, float(weights["depot_reach_km"])),
        has_primary_officer=primary, has_backup_officer=backup)


def risk(session: Session,
         base: tuple[CommunityTable, HazardShares] | None = None) -> RiskResult:
    """The risk index with every coping-capacity input filled in."""
    weights, _curves = load_parameters(session)
    base = base or load_base(session)
    return run_risk(session, coping_inputs(session, base[0], weights), base)


def assessment(session: Session, event_id: int | None = None) -> Assessment:
    """Modelled impact beside reports (see :func:`disaster.assessment.service.run_assessment`)."""
    return run_assessment(session, event_id=event_id)


def assessment_json(session: Session, event_id: int | None = None,
                    only_affected: bool = False) -> dict[str, Any]:
    """The CONTRACT.md ``assess --format json`` document."""
    return assessment_document(assessment(session, event_id), only_affected=only_affected)


def shelters_by_level(session: Session) -> dict[str, int]:
    """Shelters not closed, counted by level (provincial, municipal, county, unset)."""
    rows = session.execute(select(Shelter.level, func.count()).where(
        Shelter.status != ShelterStatus.CLOSED).group_by(Shelter.level)).all()
    return {(level or "unset"): int(n) for level, n in rows}


def recorded_beds(session: Session) -> tuple[int | None, int | None]:
    """``(beds, nursing beds)`` summed over shelters whose facilities record them."""
    beds = nursing = 0
    seen = False
    for facilities in session.scalars(select(Shelter.facilities)):
        if not isinstance(facilities, dict) or "beds" not in facilities:
            continue
        try:
            b = int(facilities.get("beds") or 0)
            nb = int(facilities.get("nursing_beds") or 0)
        except (TypeError, ValueError):
            continue  # a malformed entry is not a record
        seen = True
        beds += b
        nursing += min(nb, b)
    return (beds, nursing) if seen else (None, None)


def indicators(session: Session, a: Assessment | None = None) -> list[dict[str, Any]]:
    """The plan indicators (officers, shelters by level, nursing beds, loss share of GDP)."""
    a = a or assessment(session)
    doc_totals = assessment_document(a, only_affected=True)["totals"]
    share = doc_totals["loss_share_of_gdp"]
    basis = "reported" if doc_totals["reporting_communities"] else "modelled"
    primary, _backup = officer_coverage(session, a.table.code)
    beds, nursing = recorded_beds(session)
    return plan_indicators(
        communities=len(a.table), communities_with_officer=int(primary.sum()),
        shelters_by_level=shelters_by_level(session), beds=beds, nursing_beds=nursing,
        loss_share_percent=share[f"{basis}_percent"], loss_basis=basis,
        targets={"loss_share_of_gdp_percent": a.curves["loss_share_target_percent"]})
