"""Dispatch plans and the order workflow, from needs to delivered supplies.

draft → approved (duty officer) → confirmed by the depot's manager (stock reserved) →
shipped (reserved stock issued) → delivered; cancelled releases what was reserved. Every
step is audited and every stock effect goes through :mod:`stockpile.ledger`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_community, covers_depot, require_role
from gis.spatial import for_update
from gis.types import utcnow
from stockpile import dispatch, ledger
from stockpile.catalog import get_profile
from stockpile.dispatch_models import RoadSegment, Vehicle
from stockpile.errors import StockNotFound, StockPermissionDenied, StockValidationError
from stockpile.models import Depot, Item
from stockpile.needs import compute_needs
from stockpile.orders_models import (
    DispatchOrder,
    DispatchOrderLine,
    DispatchPlan,
    OrderStatus,
    PlanStatus,
)

ACTIONS = ("approve", "confirm", "ship", "deliver", "cancel")
_NEXT = {"approve": (OrderStatus.DRAFT,), "confirm": (OrderStatus.APPROVED,),
         "ship": (OrderStatus.CONFIRMED,), "deliver": (OrderStatus.SHIPPED,),
         "cancel": (OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.CONFIRMED)}


# --------------------------------------------------------------------------- planning


def _road_distances(session: Session, depot_xy: np.ndarray, dest_xy: np.ndarray,
                    detour: float) -> np.ndarray | None:
    segments = list(session.scalars(select(RoadSegment.geom)))
    if not segments or len(depot_xy) == 0 or len(dest_xy) == 0:
        return None
    from gis.routing import RoadNetwork

    network = RoadNetwork([to_shape(g) for g in segments])
    return network.distances_km(depot_xy, dest_xy, detour=detour)


def build_from_database(session: Session, *, profile: str | None = None,
                        unmet_penalty: float = dispatch.DEFAULT_UNMET_PENALTY,
                        detour: float = dispatch.DEFAULT_DETOUR,
                        max_depots: int = dispatch.DEFAULT_MAX_DEPOTS,
                        ) -> tuple[dispatch.Problem, list[Any], str]:
    """The dispatch problem of the current needs and stock (no writes)."""
    if not detour >= 1.0:
        raise StockValidationError("detour factor below 1", fields={"detour": ["must be ≥ 1"]})
    if max_depots < 1:
        raise StockValidationError("max_depots below 1", fields={"max_depots": ["must be ≥ 1"]})
    prof = get_profile(session, profile)
    destinations = [d for d in compute_needs(session, prof) if d.needs]
    stock = ledger.totals_by_depot(session)
    depots = [d for d in session.scalars(select(Depot).order_by(Depot.code))
              if d.geom is not None]
    items = sorted({code for d in destinations for code in d.needs})
    item_rows = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(items)))} \
        if items else {}
    depot_xy = np.array([[p.x, p.y] for p in (to_shape(d.geom) for d in depots)],
                        dtype=float).reshape(-1, 2)
    dest_xy = np.array([[d.lon, d.lat] for d in destinations], dtype=float).reshape(-1, 2)
    supply = np.zeros((len(depots), len(items)), dtype=np.int64)
    item_index = {c: k for k, c in enumerate(items)}
    for a, depot in enumerate(depots):
        for code, qty in stock.get(depot.code, {}).items():
            if code in item_index:
                # Plans move whole units (litres, kilograms, pieces).
                supply[a, item_index[code]] = math.floor(qty)
    demands = [(j, item_index[code], qty, d.priority)
               for j, d in enumerate(destinations) for code, qty in sorted(d.needs.items())]
    problem = dispatch.build_problem(
        [d.code for d in depots], depot_xy, supply, [d.code for d in destinations], dest_xy,
        items, demands, distance_km=_road_distances(session, depot_xy, dest_xy, detour),
        unmet_penalty=unmet_penalty, max_depots=max_depots, detour=detour)
    vehicles = _vehicles_by_depot(session)
    with_trips = {code: vs for code, vs in vehicles.items() if any(v["trips"] for v in vs)}
    if with_trips and items:
        problem.item_weight = np.array([item_rows[c].weight_kg or 0.0 for c in items])
        problem.item_volume = np.array([item_rows[c].volume_m3 or 0.0 for c in items])
        problem.depot_weight = np.full(len(depots), np.inf)
        problem.depot_volume = np.full(len(depots), np.inf)
        for a, depot in enumerate(depots):
            vs = [v for v in with_trips.get(depot.code, []) if v["trips"]]
            if vs:
                problem.depot_weight[a] = sum(v["payload_kg"] * v["trips"] for v in vs)
                problem.depot_volume[a] = sum(v["volume_m3"] * v["trips"] for v in vs)
    return problem, destinations, prof.code


def _vehicles_by_depot(session: Session) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v, code in session.execute(select(Vehicle, Depot.code).join(Depot,
                                                                    Depot.id == Vehicle.depot_id)):
        out[code].append({"code": v.code, "payload_kg": v.payload_kg, "volume_m3": v.volume_m3,
                          "trips": v.trips})
    return out


def create_plan(session: Session, actor: Actor, *, profile: str | None = None,
                unmet_penalty: float = dispatch.DEFAULT_UNMET_PENALTY,
                detour: float = dispatch.DEFAULT_DETOUR,
                max_depots: int = dispatch.DEFAULT_MAX_DEPOTS, workers: int = 1) -> DispatchPlan:
    """Optimise dispatch for the current needs and store it with draft orders.

    Earlier draft plans are superseded (their draft orders cancelled): one plan is current.
    ``workers`` > 1 solves items in forked processes (command line only, never in a
    threaded web server).
    """
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="dispatch planning")
    problem, destinations, profile_code = build_from_database(
        session, profile=profile, unmet_penalty=unmet_penalty, detour=detour,
        max_depots=max_depots)
    solution = dispatch.solve(problem, workers=workers)
    for old in session.scalars(select(DispatchPlan).where(DispatchPlan.status == PlanStatus.DRAFT)):
        old.status = PlanStatus.SUPERSEDED
        for order in session.scalars(select(DispatchOrder).where(
                DispatchOrder.plan_id == old.id, DispatchOrder.status == OrderStatus.DRAFT)):
            order.status = OrderStatus.CANCELLED
            order.note = f"superseded by a newer plan at {utcnow().isoformat()}"
    plan = DispatchPlan(status=PlanStatus.DRAFT, created_by=actor.username[:80],
                        profile=profile_code, solver=solution.solver,
                        objective=solution.objective, solve_seconds=solution.seconds,
                        problem=problem.as_dict(), unmet=dispatch.unmet_of(problem, solution))
    session.add(plan)
    session.flush()
    kinds = {d.code: d.kind for d in destinations}
    depot_ids = dict(session.execute(select(Depot.code, Depot.id)).all())
    items = {i.code: i for i in session.scalars(select(Item))}
    vehicles = _vehicles_by_depot(session)
    specs = {c: (i.weight_kg or 0.0, i.volume_m3 or 0.0) for c, i in items.items()}
    for spec in dispatch.orders_of(problem, solution):
        order = DispatchOrder(plan_id=plan.id, depot_id=depot_ids[spec["depot"]],
                              destination=spec["destination"],
                              destination_kind=kinds.get(spec["destination"], "community"),
                              distance_km=spec["distance_km"], status=OrderStatus.DRAFT,
                              loads=dispatch.truckloads(spec["lines"], specs,
                                                        vehicles.get(spec["depot"], [])) or None)
        session.add(order)
        session.flush()
        for n, line in enumerate(spec["lines"]):
            session.add(DispatchOrderLine(order_id=order.id, item_id=items[line["item"]].id,
                                          quantity=Decimal(line["quantity"]), position=n))
    audit.record(session, actor, "dispatch_plan.create", "dispatch_plan", plan.id, None,
                 {"objective": plan.objective, "solver": plan.solver,
                  "orders": len(dispatch.orders_of(problem, solution)),
                  "unmet": len(plan.unmet)})
    session.flush()
    return plan


def get_plan(session: Session, plan_id: Any) -> DispatchPlan:
    plan = session.get(DispatchPlan, _int_id(plan_id, "plan"))
    if plan is None:
        raise StockNotFound(f"no dispatch plan {plan_id}", fields={"plan": ["not found"]})
    return plan


def _int_id(value: Any, field: str) -> int:
    text = str(value)
    # ASCII digits within the INTEGER id column only: int() also takes '١٢', ' 12 ', '1_2'.
    if isinstance(value, int) or (text.isascii() and text.isdigit()):
        number = int(text)
        if 0 <= number <= 2**31 - 1:
            return number
    raise StockNotFound(f"no {field} {value!r}", fields={field: ["not found"]})


def order_dict(session: Session, order: DispatchOrder, depot_code: str | None = None
               ) -> dict[str, Any]:
    if depot_code is None:
        depot_code = session.scalar(select(Depot.code).where(Depot.id == order.depot_id))
    lines = session.execute(
        select(DispatchOrderLine, Item.code, Item.unit).join(Item, Item.id == DispatchOrderLine.item_id)
        .where(DispatchOrderLine.order_id == order.id).order_by(DispatchOrderLine.position))
    return {"id": order.id, "plan": order.plan_id, "depot": depot_code,
            "destination": order.destination, "destination_kind": order.destination_kind,
            "distance_km": order.distance_km, "status": order.status.value,
            "lines": [{"item": code, "quantity": ledger._num(Decimal(line.quantity)),
                       "unit": unit, "allocations": line.allocations}
                      for line, code, unit in lines],
            "loads": order.loads, "updated_at": order.updated_at.isoformat(),
            "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
            "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
            "note": order.note}


def plan_dict(session: Session, plan: DispatchPlan) -> dict[str, Any]:
    """CONTRACT.md ``dispatch plan --format json`` (plus status, solver and order ids)."""
    orders = session.execute(
        select(DispatchOrder, Depot.code).join(Depot, Depot.id == DispatchOrder.depot_id)
        .where(DispatchOrder.plan_id == plan.id).order_by(DispatchOrder.id))
    return {"id": plan.id, "status": plan.status.value, "created_at": plan.created_at.isoformat(),
            "created_by": plan.created_by, "profile": plan.profile, "solver": plan.solver,
            "solve_seconds": round(plan.solve_seconds, 4),
            "orders": [order_dict(session, o, code) for o, code in orders],
            "unmet": plan.unmet, "problem": plan.problem, "objective": plan.objective}


def approve_plan(session: Session, actor: Actor, plan_id: Any) -> DispatchPlan:
    """A duty officer approves a draft plan: all its draft orders become approved."""
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="approving dispatch plans")
    plan = get_plan(session, plan_id)
    if plan.status != PlanStatus.DRAFT:
        raise StockValidationError(f"plan {plan.id} is {plan.status.value}, not draft",
                                   fields={"status": [f"plan is {plan.status.value}"]})
    plan.status = PlanStatus.APPROVED
    plan.approved_at = utcnow()
    plan.approved_by = actor.username[:80]
    for order in session.scalars(select(DispatchOrder).where(
            DispatchOrder.plan_id == plan.id, DispatchOrder.status == OrderStatus.DRAFT)):
        _set_status(session, actor, order, OrderStatus.APPROVED, "approve")
    audit.record(session, actor, "dispatch_plan.approve", "dispatch_plan", plan.id,
                 {"status": "draft"}, {"status": "approved"})
    session.flush()
    return plan


# --------------------------------------------------------------------------- workflow


def _set_status(session: Session, actor: Actor, order: DispatchOrder, status: OrderStatus,
                action: str, **extra: Any) -> None:
    before = order.status.value
    order.status = status
    order.updated_at = utcnow()
    audit.record(session, actor, f"dispatch_order.{action}", "dispatch_order", order.id,
                 {"status": before}, {"status": status.value, **extra})


def _check_actor(actor: Actor, action: str, depot_code: str, order: DispatchOrder) -> None:
    if action == "approve":
        require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="approving dispatch orders")
    elif action in ("confirm", "ship"):
        if not covers_depot(actor, depot_code):
            raise StockPermissionDenied(
                f"only the manager of depot {depot_code} may {action} this order",
                fields={"depot": [f"depot {depot_code} is outside your scope"]})
    elif action == "deliver":
        allowed = (actor.role in (Role.ADMIN, Role.DUTY_OFFICER) or covers_depot(actor, depot_code)
                   or (actor.role == Role.INFO_OFFICER and order.destination_kind == "community"
                       and covers_community(actor, order.destination)))
        if not allowed:
            raise StockPermissionDenied("you may not confirm this delivery",
                                        fields={"order": ["outside your scope"]})
    elif (action == "cancel" and actor.role not in (Role.ADMIN, Role.DUTY_OFFICER)
          and not covers_depot(actor, depot_code)):
        raise StockPermissionDenied("you may not cancel this order",
                                    fields={"order": ["outside your scope"]})


def act(session: Session, actor: Actor, order_id: Any, action: str, *,
        note: str | None = None) -> DispatchOrder:
    """Move an order one step: ``approve``, ``confirm``, ``ship``, ``deliver`` or ``cancel``.

    Confirming reserves each line's stock (first expiry first out); shipping issues exactly
    the reserved lots; cancelling releases a reservation. A refused step changes nothing.
    """
    if action not in ACTIONS:
        raise StockValidationError(f"unknown action {action!r}",
                                   fields={"action": [f"one of {', '.join(ACTIONS)}"]})
    stmt = for_update(select(DispatchOrder).where(
        DispatchOrder.id == _int_id(order_id, "order")), session)
    order = session.scalar(stmt.execution_options(populate_existing=True))
    if order is None:
        raise StockNotFound(f"no dispatch order {order_id}", fields={"order": ["not found"]})
    depot_code = session.scalar(select(Depot.code).where(Depot.id == order.depot_id))
    _check_actor(actor, action, depot_code, order)
    if order.status not in _NEXT[action]:
        raise StockValidationError(
            f"order {order.id} is {order.status.value}; it cannot be {action}ed now",
            fields={"status": [f"order is {order.status.value}"]})
    lines = session.execute(
        select(DispatchOrderLine, Item.code).join(Item, Item.id == DispatchOrderLine.item_id)
        .where(DispatchOrderLine.order_id == order.id).order_by(DispatchOrderLine.position)).all()
    reference = f"DO-{order.id}"
    if action == "approve":
        _set_status(session, actor, order, OrderStatus.APPROVED, action)
    elif action == "confirm":
        for line, code in lines:
            allocations = ledger.reserve(session, actor, depot_code, code, line.quantity,
                                         reference=reference)
            line.allocations = [a.as_dict() for a in allocations]
        order.confirmed_by = actor.username[:80]
        _set_status(session, actor, order, OrderStatus.CONFIRMED, action)
    elif action == "ship":
        for line, code in lines:
            ledger.issue_reserved(session, actor, depot_code, code, line.allocations or [],
                                  reference=reference, reason=f"dispatch to {order.destination}")
        order.shipped_at = utcnow()
        _set_status(session, actor, order, OrderStatus.SHIPPED, action)
    elif action == "deliver":
        order.delivered_at = utcnow()
        _set_status(session, actor, order, OrderStatus.DELIVERED, action)
    else:
        if order.status == OrderStatus.CONFIRMED:
            for line, code in lines:
                ledger.release(session, actor, depot_code, code, line.allocations or [],
                               reference=reference)
                line.allocations = None
        _set_status(session, actor, order, OrderStatus.CANCELLED, action)
    if note:
        order.note = str(note)[:300]
    session.flush()
    return order


def orders_for_depot(session: Session, depot_code: str,
                     statuses: tuple[OrderStatus, ...] = (OrderStatus.APPROVED,
                                                          OrderStatus.CONFIRMED,
                                                          OrderStatus.SHIPPED)
                     ) -> list[dict[str, Any]]:
    """Orders a depot has to act on (for the depot manager's page)."""
    depot = ledger.get_depot(session, depot_code)
    orders = session.scalars(select(DispatchOrder).where(
        DispatchOrder.depot_id == depot.id, DispatchOrder.status.in_(statuses))
        .order_by(DispatchOrder.id))
    return [order_dict(session, o, depot.code) for o in orders]


def active_orders(session: Session) -> list[dict[str, Any]]:
    """Orders not yet delivered or cancelled, with depot and destination points (console)."""
    from disaster.communities import Community
    from shelters.models import Shelter

    rows = session.execute(
        select(DispatchOrder, Depot).join(Depot, Depot.id == DispatchOrder.depot_id)
        .where(DispatchOrder.status.in_((OrderStatus.DRAFT, OrderStatus.APPROVED,
                                         OrderStatus.CONFIRMED, OrderStatus.SHIPPED)))
        .order_by(DispatchOrder.id)).all()
    codes = {o.destination for o, _ in rows}
    points: dict[str, tuple[float, float]] = {}
    if codes:
        for code, pt, geom in session.execute(select(Community.code, Community.point, Community.geom)
                                              .where(Community.code.in_(codes))):
            shape = to_shape(pt) if pt is not None else (to_shape(geom).representative_point()
                                                          if geom is not None else None)
            if shape is not None:
                points[code] = (shape.x, shape.y)
        for code, geom in session.execute(select(Shelter.code, Shelter.geom)
                                          .where(Shelter.code.in_(codes))):
            if geom is not None:
                p = to_shape(geom)
                points[code] = (p.x, p.y)
    out = []
    for order, depot in rows:
        d = order_dict(session, order, depot.code)
        if depot.geom is not None:
            p = to_shape(depot.geom)
            d["from"] = [p.x, p.y]
        d["to"] = list(points[order.destination]) if order.destination in points else None
        out.append(d)
    return out
