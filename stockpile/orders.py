"""Dispatch plans and the order workflow, from needs to delivered supplies.

draft → approved (duty officer) → confirmed by the depot's manager (stock reserved) →
shipped (reserved stock issued) → delivered; cancelled releases what was reserved. Every
step is audited and every stock effect goes through :mod:`stockpile.ledger`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_community, covers_depot, require_role
from gis.errors import AppError
from gis.messages import msg
from gis.spatial import for_update
from gis.types import utcnow
from stockpile import dispatch, ledger
from stockpile.catalog import get_profile
from stockpile.dispatch_models import RoadSegment, Vehicle
from stockpile.errors import (
    InsufficientStock,
    StockNotFound,
    StockPermissionDenied,
    StockValidationError,
)
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
                        source: str = "both", depots: Sequence[str] | None = None,
                        items: Sequence[str] | None = None,
                        ) -> tuple[dispatch.Problem, list[Any], str]:
    """The dispatch problem of the current needs and stock (no writes).

    ``source`` picks the needs (see :func:`stockpile.needs.compute_needs`); ``depots`` and
    ``items`` (codes) restrict the plan to those depots and items (all when None or empty).
    """
    if not detour >= 1.0:
        raise StockValidationError(msg("the detour factor is below 1"),
                                   fields={"detour": [msg("must be ≥ 1")]})
    if max_depots < 1:
        raise StockValidationError(msg("the number of depots per destination is below 1"),
                                   fields={"max_depots": [msg("must be ≥ 1")]})
    prof = get_profile(session, profile)
    depot_filter, item_filter = _check_codes(session, depots, items)
    destinations = compute_needs(session, prof, source)
    if item_filter:
        for d in destinations:
            d.needs = {code: q for code, q in d.needs.items() if code in item_filter}
    destinations = [d for d in destinations if d.needs]
    stock = ledger.totals_by_depot(session)
    depot_rows = [d for d in session.scalars(select(Depot).order_by(Depot.code))
                  if d.geom is not None and (not depot_filter or d.code in depot_filter)]
    items = sorted({code for d in destinations for code in d.needs})
    item_rows = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(items)))} \
        if items else {}
    depot_xy = np.array([[p.x, p.y] for p in (to_shape(d.geom) for d in depot_rows)],
                        dtype=float).reshape(-1, 2)
    dest_xy = np.array([[d.lon, d.lat] for d in destinations], dtype=float).reshape(-1, 2)
    supply = np.zeros((len(depot_rows), len(items)), dtype=np.int64)
    item_index = {c: k for k, c in enumerate(items)}
    for a, depot in enumerate(depot_rows):
        for code, qty in stock.get(depot.code, {}).items():
            if code in item_index:
                # Plans move whole units (litres, kilograms, pieces).
                supply[a, item_index[code]] = math.floor(qty)
    demands = [(j, item_index[code], qty, d.priority)
               for j, d in enumerate(destinations) for code, qty in sorted(d.needs.items())]
    problem = dispatch.build_problem(
        [d.code for d in depot_rows], depot_xy, supply, [d.code for d in destinations], dest_xy,
        items, demands, distance_km=_road_distances(session, depot_xy, dest_xy, detour),
        unmet_penalty=unmet_penalty, max_depots=max_depots, detour=detour)
    vehicles = _vehicles_by_depot(session)
    with_trips = {code: vs for code, vs in vehicles.items() if any(v["trips"] for v in vs)}
    if with_trips and items:
        problem.item_weight = np.array([item_rows[c].weight_kg or 0.0 for c in items])
        problem.item_volume = np.array([item_rows[c].volume_m3 or 0.0 for c in items])
        problem.depot_weight = np.full(len(depot_rows), np.inf)
        problem.depot_volume = np.full(len(depot_rows), np.inf)
        for a, depot in enumerate(depot_rows):
            vs = [v for v in with_trips.get(depot.code, []) if v["trips"]]
            if vs:
                problem.depot_weight[a] = sum(v["payload_kg"] * v["trips"] for v in vs)
                problem.depot_volume[a] = sum(v["volume_m3"] * v["trips"] for v in vs)
    return problem, destinations, prof.code


def _check_codes(session: Session, depots: Sequence[str] | None,
                 items: Sequence[str] | None) -> tuple[set[str], set[str]]:
    """The chosen depot and item codes; an unknown one is a field error naming it."""
    depot_set, item_set = set(depots or ()), set(items or ())
    known = set(session.scalars(select(Depot.code).where(Depot.code.in_(depot_set)))) \
        if depot_set else set()
    if depot_set - known:
        bad = ", ".join(sorted(depot_set - known))
        raise StockValidationError(msg("unknown depot %(codes)s", codes=bad),
                                   fields={"depots": [msg("unknown depot %(codes)s", codes=bad)]})
    known = set(session.scalars(select(Item.code).where(Item.code.in_(item_set)))) \
        if item_set else set()
    if item_set - known:
        bad = ", ".join(sorted(item_set - known))
        raise StockValidationError(msg("unknown item %(codes)s", codes=bad),
                                   fields={"items": [msg("unknown item %(codes)s", codes=bad)]})
    return depot_set, item_set


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
                max_depots: int = dispatch.DEFAULT_MAX_DEPOTS, workers: int = 1,
                source: str = "both", depots: Sequence[str] | None = None,
                items: Sequence[str] | None = None, due_hours: int | None = None,
                ) -> DispatchPlan:
    """Optimise dispatch for the current needs and store it with draft orders.

    Earlier draft plans are superseded (their draft orders cancelled): one plan is current.
    ``source``, ``depots`` and ``items`` choose the needs and what may be sent (see
    :func:`build_from_database`); ``due_hours`` is the delivery deadline after approval.
    ``workers`` > 1 solves items in forked processes (command line only, never in a
    threaded web server).
    """
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="dispatch planning")
    problem, destinations, profile_code = build_from_database(
        session, profile=profile, unmet_penalty=unmet_penalty, detour=detour,
        max_depots=max_depots, source=source, depots=depots, items=items)
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
                        problem=problem.as_dict(), unmet=dispatch.unmet_of(problem, solution),
                        due_hours=due_hours)
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
                  "unmet": len(plan.unmet), "source": source, "depots": sorted(depots or ()),
                  "items": sorted(items or ()), "due_hours": due_hours})
    session.flush()
    return plan


def get_plan(session: Session, plan_id: Any) -> DispatchPlan:
    plan = session.get(DispatchPlan, _int_id(plan_id, "plan"))
    if plan is None:
        raise StockNotFound(msg("no dispatch plan %(id)s", id=plan_id),
                            fields={"plan": [msg("not found")]})
    return plan


def _int_id(value: Any, field: str) -> int:
    text = str(value)
    # ASCII digits within the INTEGER id column only: int() also takes '١٢', ' 12 ', '1_2'.
    if isinstance(value, int) or (text.isascii() and text.isdigit()):
        number = int(text)
        if 0 <= number <= 2**31 - 1:
            return number
    raise StockNotFound(msg("no %(what)s %(id)s", what=msg(field), id=str(value)),
                        fields={field: [msg("not found")]})


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
        raise StockValidationError(
            msg("plan %(id)s is no longer a draft: it cannot be approved", id=plan.id),
            fields={"status": [msg("plan is %(status)s", status=plan.status.value)]},
            code="not_draft")
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


# People read states and steps in messages: each word is a catalogue key.
STATUS_WORDS = {OrderStatus.DRAFT: msg("draft"), OrderStatus.APPROVED: msg("approved"),
                OrderStatus.CONFIRMED: msg("confirmed"), OrderStatus.SHIPPED: msg("shipped"),
                OrderStatus.DELIVERED: msg("delivered"), OrderStatus.CANCELLED: msg("cancelled")}
ACTION_WORDS = {"approve": msg("approve"), "confirm": msg("confirm"), "ship": msg("ship"),
                "deliver": msg("deliver"), "cancel": msg("cancel")}


def _check_actor(actor: Actor, action: str, depot: Depot, order: DispatchOrder) -> None:
    if action == "approve":
        require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="approving dispatch orders")
    elif action in ("confirm", "ship"):
        if not covers_depot(actor, depot.code):
            raise StockPermissionDenied(
                msg("only the manager of %(depot)s may %(action)s this order",
                    depot=depot.name, action=ACTION_WORDS[action]),
                fields={"depot": [msg("%(depot)s is outside your scope", depot=depot.name)]})
    elif action == "deliver":
        allowed = (actor.role in (Role.ADMIN, Role.DUTY_OFFICER) or covers_depot(actor, depot.code)
                   or (actor.role == Role.INFO_OFFICER and order.destination_kind == "community"
                       and covers_community(actor, order.destination)))
        if not allowed:
            raise StockPermissionDenied(msg("you may not confirm the delivery of this order"),
                                        fields={"order": [msg("outside your scope")]})
    elif (action == "cancel" and actor.role not in (Role.ADMIN, Role.DUTY_OFFICER)
          and not covers_depot(actor, depot.code)):
        raise StockPermissionDenied(msg("you may not cancel this order"),
                                    fields={"order": [msg("outside your scope")]})


def _destination_label(session: Session, code: str) -> str:
    from stockpile.tracking import destination_info, label

    return label(destination_info(session, [code]).get(code), code)


def _shortage(session: Session, depot: Depot, item: Item, requested: Decimal,
              available: Decimal, order_id: int) -> InsufficientStock:
    """The shortage as people read it: depot, item and unit by name."""
    return InsufficientStock(
        msg("%(depot)s has only %(available)s %(unit)s of %(item)s; order #%(order)s needs "
            "%(requested)s", depot=depot.name, item=item.name, unit=item.unit,
            available=ledger._num(max(available, Decimal(0))), requested=ledger._num(requested),
            order=order_id),
        fields={"quantity": [msg("exceeds available stock (%(available)s %(unit)s)",
                                 available=ledger._num(max(available, Decimal(0))),
                                 unit=item.unit)]})


def available_for_plan(session: Session, depot: Depot, item: Item, *, plan_id: int,
                       exclude_line: int | None = None) -> Decimal:
    """Stock a plan may still give out: available (unexpired, unreserved) at the depot less
    what draft lines of the plan and approved, unconfirmed orders already count on."""
    free = Decimal(ledger.totals_by_depot(session).get(depot.code, {}).get(item.code, 0))
    stmt = (select(func.coalesce(func.sum(DispatchOrderLine.quantity), 0))
            .join(DispatchOrder, DispatchOrder.id == DispatchOrderLine.order_id)
            .where(DispatchOrder.depot_id == depot.id, DispatchOrderLine.item_id == item.id,
                   or_(DispatchOrder.status == OrderStatus.APPROVED,
                       and_(DispatchOrder.status == OrderStatus.DRAFT,
                            DispatchOrder.plan_id == plan_id))))
    if exclude_line is not None:
        stmt = stmt.where(DispatchOrderLine.id != exclude_line)
    return free - Decimal(session.scalar(stmt) or 0)


def edit_line(session: Session, actor: Actor, order_id: Any, item_code: str,
              quantity: Any) -> DispatchOrder:
    """Change the quantity of one line of a draft order (0 removes the line; an order left
    without lines is cancelled). The new quantity must fit the depot's stock."""
    require_role(actor, Role.DUTY_OFFICER, Role.ADMIN, action="editing dispatch orders")
    stmt = for_update(select(DispatchOrder).where(
        DispatchOrder.id == _int_id(order_id, "order")), session)
    order = session.scalar(stmt.execution_options(populate_existing=True))
    if order is None:
        raise StockNotFound(msg("no dispatch order %(id)s", id=order_id),
                            fields={"order": [msg("not found")]})
    if order.status != OrderStatus.DRAFT:
        raise StockValidationError(
            msg("order #%(id)s is %(status)s: only draft orders can be edited", id=order.id,
                status=STATUS_WORDS[order.status]),
            fields={"status": [STATUS_WORDS[order.status]]}, code="not_draft")
    item = ledger.get_item(session, item_code)
    (depot,) = ledger._lock_depots(session, session.scalar(
        select(Depot.code).where(Depot.id == order.depot_id)))
    line = session.scalar(select(DispatchOrderLine).where(
        DispatchOrderLine.order_id == order.id, DispatchOrderLine.item_id == item.id))
    qty = ledger.parse_quantity(quantity, item, allow_zero=True)
    if qty != qty.to_integral_value():  # plans move whole units, as the planner does
        raise StockValidationError(msg("quantity must be a whole number"),
                                   fields={"quantity": [msg("must be a whole number")]})
    available = available_for_plan(session, depot, item, plan_id=order.plan_id,
                                   exclude_line=line.id if line else None)
    if qty > available:
        raise _shortage(session, depot, item, qty, available, order.id)
    before = {"item": item.code, "quantity": ledger._num(Decimal(line.quantity)) if line else 0}
    if line is None and qty > 0:
        position = session.scalar(select(func.coalesce(func.max(DispatchOrderLine.position), -1))
                                  .where(DispatchOrderLine.order_id == order.id)) + 1
        session.add(DispatchOrderLine(order_id=order.id, item_id=item.id, quantity=qty,
                                      position=position))
    elif line is not None and qty == 0:
        session.delete(line)
    elif line is not None:
        line.quantity = qty
    order.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "dispatch_order.edit_line", "dispatch_order", order.id, before,
                 {"item": item.code, "quantity": ledger._num(qty)})
    if not session.scalar(select(func.count()).select_from(DispatchOrderLine)
                          .where(DispatchOrderLine.order_id == order.id)):
        _set_status(session, actor, order, OrderStatus.CANCELLED, "cancel")
        order.note = "no lines left after editing"
    # Truckloads follow the lines.
    items = {i.code: i for i in session.scalars(select(Item))}
    lines = [{"item": code, "quantity": int(Decimal(q))} for code, q in session.execute(
        select(Item.code, DispatchOrderLine.quantity).join(Item, Item.id == DispatchOrderLine.item_id)
        .where(DispatchOrderLine.order_id == order.id))]
    specs = {c: (i.weight_kg or 0.0, i.volume_m3 or 0.0) for c, i in items.items()}
    order.loads = dispatch.truckloads(lines, specs, _vehicles_by_depot(session).get(depot.code, [])) \
        or None
    session.flush()
    return order


def act(session: Session, actor: Actor, order_id: Any, action: str, *,
        note: str | None = None) -> DispatchOrder:
    """Move an order one step: ``approve``, ``confirm``, ``ship``, ``deliver`` or ``cancel``.

    Confirming reserves each line's stock (first expiry first out); shipping issues exactly
    the reserved lots; cancelling releases a reservation. A refused step changes nothing.
    """
    if action not in ACTIONS:
        raise StockValidationError(msg("unknown action %(action)s", action=action),
                                   fields={"action": [msg("one of %(choices)s",
                                                          choices=", ".join(ACTIONS))]})
    stmt = for_update(select(DispatchOrder).where(
        DispatchOrder.id == _int_id(order_id, "order")), session)
    order = session.scalar(stmt.execution_options(populate_existing=True))
    if order is None:
        raise StockNotFound(msg("no dispatch order %(id)s", id=order_id),
                            fields={"order": [msg("not found")]})
    depot = session.get(Depot, order.depot_id)
    depot_code = depot.code
    _check_actor(actor, action, depot, order)
    if order.status not in _NEXT[action]:
        raise StockValidationError(
            msg("order #%(id)s to %(destination)s is %(status)s: it cannot be %(action)s now",
                id=order.id, destination=_destination_label(session, order.destination),
                status=STATUS_WORDS[order.status], action=ACTION_WORDS[action]),
            fields={"status": [STATUS_WORDS[order.status]]}, code="wrong_status")
    lines = session.execute(
        select(DispatchOrderLine, Item.code).join(Item, Item.id == DispatchOrderLine.item_id)
        .where(DispatchOrderLine.order_id == order.id).order_by(DispatchOrderLine.position)).all()
    reference = f"DO-{order.id}"
    if action == "approve":
        _set_status(session, actor, order, OrderStatus.APPROVED, action)
    elif action == "confirm":
        for line, code in lines:
            try:
                allocations = ledger.reserve(session, actor, depot_code, code, line.quantity,
                                             reference=reference)
            except InsufficientStock:
                item = ledger.get_item(session, code)
                free = Decimal(ledger.totals_by_depot(session).get(depot_code, {}).get(code, 0))
                raise _shortage(session, depot, item, Decimal(line.quantity), free,
                                order.id) from None
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


BULK_ACTIONS = ("confirm", "ship")


def act_many(session: Session, actor: Actor, order_ids: Sequence[int], action: str
             ) -> dict[str, Any]:
    """A depot manager confirms or ships several orders in one go.

    Every order must belong to a depot the actor manages (else nothing happens: 403). Each
    order then moves on its own (a savepoint each): one refused for its state or for want
    of stock leaves the others done. Returns ``{"done": [ids], "failed": [{"order",
    "code", "message"}]}`` with the refusals' translatable messages.
    """
    if action not in BULK_ACTIONS:
        raise StockValidationError(msg("unknown action %(action)s", action=action),
                                   fields={"action": [msg("one of %(choices)s",
                                                          choices=", ".join(BULK_ACTIONS))]})
    require_role(actor, Role.DEPOT_MANAGER, Role.ADMIN, action="confirming or shipping orders")
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    rows = dict(session.execute(select(DispatchOrder.id, Depot).join(
        Depot, Depot.id == DispatchOrder.depot_id).where(DispatchOrder.id.in_(ids))).all()) \
        if ids else {}
    outside = sorted({d.name for d in rows.values() if not covers_depot(actor, d.code)})
    if outside:
        raise StockPermissionDenied(
            msg("only the manager of %(depot)s may %(action)s this order",
                depot="、".join(outside), action=ACTION_WORDS[action]),
            fields={"orders": [msg("%(depot)s is outside your scope", depot="、".join(outside))]})
    done: list[int] = []
    failed: list[dict[str, Any]] = []
    for order_id in ids:
        if order_id not in rows:
            failed.append({"order": order_id, "code": "not_found",
                           "message": msg("no dispatch order %(id)s", id=order_id)})
            continue
        try:
            with session.begin_nested():
                act(session, actor, order_id, action)
            done.append(order_id)
        except AppError as exc:
            failed.append({"order": order_id, "code": exc.code, "message": exc.message})
    return {"action": action, "done": done, "failed": failed}


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
