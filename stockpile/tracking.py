"""What people read about dispatch: plans with names, flows per depot and township, the
order board with late orders, and a depot's movement history (stock card of all items).

Everything here reads; the writes are in :mod:`stockpile.orders` and :mod:`stockpile.ledger`.

Late: an order is late when it is not delivered by its plan's due time, the approval time
plus the plan's ``due_hours`` (:data:`DEFAULT_DUE_HOURS` when the duty officer set none). An
order delivered after that time stays marked late; cancelled and unapproved orders never are.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from disaster.areas import Area
from disaster.communities import Community
from gis.types import utcnow
from stockpile.models import Depot, Item, MovementKind, StockLevel, StockMovement
from stockpile.orders_models import (
    DispatchOrder,
    DispatchOrderLine,
    DispatchPlan,
    OrderStatus,
)

# China's target (十三五, DESIGN.md §4.5): basic needs of affected people met within 12 h.
DEFAULT_DUE_HOURS = 12
ORDER_STATES = tuple(s.value for s in OrderStatus)
_OUTSTANDING = (OrderStatus.APPROVED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
# Order of progress, to show the least advanced state of a group of orders.
_PROGRESS = {s: n for n, s in enumerate((OrderStatus.DRAFT, OrderStatus.APPROVED,
                                         OrderStatus.CONFIRMED, OrderStatus.SHIPPED,
                                         OrderStatus.DELIVERED, OrderStatus.CANCELLED))}


def _num(value: Any) -> int | float:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def due_at(plan: DispatchPlan) -> dt.datetime | None:
    """When the plan's orders must be delivered (None before approval)."""
    if plan.approved_at is None:
        return None
    return plan.approved_at + dt.timedelta(hours=plan.due_hours or DEFAULT_DUE_HOURS)


def is_late(order: DispatchOrder, due: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Not delivered by ``due`` (see the module docstring)."""
    if due is None or order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        return False
    if order.status == OrderStatus.DELIVERED:
        return order.delivered_at is not None and order.delivered_at > due
    return (now or utcnow()) > due


# --------------------------------------------------------------------------- names


def destination_info(session: Session, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{code: {"name", "township", "township_name", "kind", "lon", "lat"}}`` of communities
    and shelters (a shelter's township is that of the community it stands in)."""
    from shelters.models import Shelter

    codes = sorted(set(codes))
    out: dict[str, dict[str, Any]] = {}
    if not codes:
        return out
    for start in range(0, len(codes), 900):  # SQLite's bound-parameter limit
        part = codes[start:start + 900]
        for c in session.scalars(select(Community).where(Community.code.in_(part))):
            shape = to_shape(c.point) if c.point is not None else (
                to_shape(c.geom).representative_point() if c.geom is not None else None)
            out[c.code] = {"name": c.name, "township": c.township_code, "kind": "community",
                           "lon": shape.x if shape else None, "lat": shape.y if shape else None}
        shelters = list(session.scalars(select(Shelter).where(Shelter.code.in_(part))))
        hosts = dict(session.execute(select(Community.code, Community.township_code).where(
            Community.code.in_({s.community_code for s in shelters if s.community_code}))).all()) \
            if shelters else {}
        for s in shelters:
            shape = to_shape(s.geom) if s.geom is not None else None
            out[s.code] = {"name": s.name, "township": hosts.get(s.community_code or ""),
                           "kind": "shelter", "lon": shape.x if shape else None,
                           "lat": shape.y if shape else None}
    towns = {v["township"] for v in out.values() if v["township"]}
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(towns))).all()) \
        if towns else {}
    for v in out.values():
        v["township_name"] = names.get(v["township"] or "")
    return out


def label(info: dict[str, Any] | None, code: str) -> str:
    """A destination as people name it: 甲村（埇桥街道）; the code only when it is unknown."""
    if not info:
        return code
    return f"{info['name']}（{info['township_name']}）" if info.get("township_name") \
        else info["name"]


def _items(session: Session) -> dict[int, Item]:
    return {i.id: i for i in session.scalars(select(Item))}


# --------------------------------------------------------------------------- orders


def order_rows(session: Session, orders: Sequence[DispatchOrder],
               now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Orders with depot, destination and item names, due time and the late flag."""
    if not orders:
        return []
    now = now or utcnow()
    ids = [o.id for o in orders]
    depots = {d.id: d for d in session.scalars(select(Depot).where(
        Depot.id.in_({o.depot_id for o in orders})))}
    plans = {p.id: p for p in session.scalars(select(DispatchPlan).where(
        DispatchPlan.id.in_({o.plan_id for o in orders})))}
    items = _items(session)
    lines: dict[int, list[DispatchOrderLine]] = defaultdict(list)
    for start in range(0, len(ids), 900):
        for line in session.scalars(select(DispatchOrderLine).where(
                DispatchOrderLine.order_id.in_(ids[start:start + 900]))
                .order_by(DispatchOrderLine.order_id, DispatchOrderLine.position)):
            lines[line.order_id].append(line)
    places = destination_info(session, [o.destination for o in orders])
    out = []
    for o in orders:
        depot, plan = depots[o.depot_id], plans[o.plan_id]
        due = due_at(plan)
        info = places.get(o.destination)
        out.append({
            "id": o.id, "plan": o.plan_id, "status": o.status.value,
            "depot": depot.code, "depot_name": depot.name,
            "destination": o.destination, "destination_name": info["name"] if info else o.destination,
            "destination_label": label(info, o.destination),
            "township": info["township"] if info else None,
            "township_name": info["township_name"] if info else None,
            "distance_km": o.distance_km,
            "lines": [{"item": items[ln.item_id].code, "name": items[ln.item_id].name,
                       "name_en": items[ln.item_id].name_en, "unit": items[ln.item_id].unit,
                       "quantity": _num(ln.quantity)} for ln in lines[o.id]],
            "approved_at": _iso(plan.approved_at), "due_at": _iso(due),
            "updated_at": _iso(o.updated_at), "shipped_at": _iso(o.shipped_at),
            "delivered_at": _iso(o.delivered_at), "late": is_late(o, due, now),
            "note": o.note})
    return out


def order_board(session: Session, *, status: Sequence[str] = (), plan: int | None = None,
                late: bool | None = None, depot: str | None = None, limit: int = 200
                ) -> dict[str, Any]:
    """Orders to follow to delivery (newest first) with counts per state and of late ones."""
    stmt = select(DispatchOrder)
    if plan is not None:
        stmt = stmt.where(DispatchOrder.plan_id == plan)
    if depot:
        stmt = stmt.join(Depot, Depot.id == DispatchOrder.depot_id).where(Depot.code == depot)
    everything = list(session.scalars(stmt.order_by(DispatchOrder.id.desc())))
    rows = order_rows(session, everything)
    counts = {s: 0 for s in ORDER_STATES}
    for r in rows:
        counts[r["status"]] += 1
    late_count = sum(1 for r in rows if r["late"])
    if status:
        rows = [r for r in rows if r["status"] in set(status)]
    if late is not None:
        rows = [r for r in rows if r["late"] == late]
    return {"counts": counts, "late": late_count, "total": len(rows), "orders": rows[:limit]}


# --------------------------------------------------------------------------- flows


def _township_points(session: Session, towns: set[str]) -> dict[str, tuple[float, float]]:
    points: dict[str, tuple[float, float]] = {}
    if towns:
        for code, geom in session.execute(select(Area.code, Area.geom).where(Area.code.in_(towns))):
            if geom is not None:
                p = to_shape(geom).representative_point()
                points[code] = (p.x, p.y)
    return points


def flows(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Order rows summed per (depot, township): one GeoJSON line each, not one per order,
    with the units summed (``quantity``) and their weight (``weight_kg``, for line widths:
    litres of water and tents do not add up, kilograms do).

    A township's end is a point inside its boundary (the mean of its destinations when the
    boundary is unknown); destinations without a township stand for themselves.
    """
    live = [r for r in rows if r["status"] != OrderStatus.CANCELLED.value and r["lines"]]
    places = destination_info(session, [r["destination"] for r in live])
    depots = {d.code: d for d in session.scalars(select(Depot).where(
        Depot.code.in_({r["depot"] for r in live})))} if live else {}
    town_points = _township_points(session, {r["township"] for r in live if r["township"]})
    weights = {i.code: i.weight_kg or 0.0 for i in session.scalars(select(Item))}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in live:
        info = places.get(r["destination"]) or {}
        key = (r["depot"], r["township"] or r["destination"])
        g = groups.setdefault(key, {
            "depot": r["depot"], "depot_name": r["depot_name"],
            "township": key[1],
            "township_name": r["township_name"] or r["destination_name"],
            "quantity": 0, "weight_kg": 0.0, "orders": [], "destinations": set(), "items": {},
            "status": r["status"], "late": False, "xy": []})
        g["orders"].append(r["id"])
        g["destinations"].add(r["destination"])
        g["late"] = g["late"] or r["late"]
        if _PROGRESS[OrderStatus(r["status"])] < _PROGRESS[OrderStatus(g["status"])]:
            g["status"] = r["status"]
        if info.get("lon") is not None:
            g["xy"].append((info["lon"], info["lat"]))
        for ln in r["lines"]:
            g["quantity"] += ln["quantity"]
            g["weight_kg"] += ln["quantity"] * weights.get(ln["item"], 0.0)
            it = g["items"].setdefault(ln["item"], {"item": ln["item"], "name": ln["name"],
                                                    "name_en": ln["name_en"], "unit": ln["unit"],
                                                    "quantity": 0})
            it["quantity"] += ln["quantity"]
    features = []
    for (depot_code, town), g in sorted(groups.items()):
        depot = depots.get(depot_code)
        end = town_points.get(town)
        if end is None and g["xy"]:
            end = (sum(x for x, _ in g["xy"]) / len(g["xy"]),
                   sum(y for _, y in g["xy"]) / len(g["xy"]))
        if depot is None or depot.geom is None or end is None:
            continue
        start = to_shape(depot.geom)
        features.append({"type": "Feature", "geometry": {
            "type": "LineString", "coordinates": [[start.x, start.y], [end[0], end[1]]]},
            "properties": {"depot": g["depot"], "depot_name": g["depot_name"],
                           "township": g["township"], "township_name": g["township_name"],
                           "quantity": _num(g["quantity"]),
                           "weight_kg": round(g["weight_kg"], 1), "orders": sorted(g["orders"]),
                           "destinations": len(g["destinations"]), "status": g["status"],
                           "late": g["late"],
                           "items": sorted(g["items"].values(), key=lambda i: i["item"])}})
    return {"type": "FeatureCollection", "features": features}


def plan_review(session: Session, plan: DispatchPlan) -> dict[str, Any]:
    """A plan as the duty officer reviews it: orders with names, flows, unmet needs."""
    orders = list(session.scalars(select(DispatchOrder).where(DispatchOrder.plan_id == plan.id)
                                  .order_by(DispatchOrder.id)))
    rows = order_rows(session, orders)
    unmet_codes = {u["destination"] for u in plan.unmet}
    places = destination_info(session, unmet_codes)
    items = {i.code: i for i in session.scalars(select(Item))}
    unmet = [{"destination": u["destination"],
              "destination_label": label(places.get(u["destination"]), u["destination"]),
              "item": u["item"], "name": items[u["item"]].name if u["item"] in items else u["item"],
              "unit": items[u["item"]].unit if u["item"] in items else "",
              "quantity": u["quantity"]} for u in plan.unmet]
    due = due_at(plan)
    return {"plan": {"id": plan.id, "status": plan.status.value,
                     "created_at": _iso(plan.created_at), "created_by": plan.created_by,
                     "approved_at": _iso(plan.approved_at), "approved_by": plan.approved_by,
                     "due_hours": plan.due_hours or DEFAULT_DUE_HOURS, "due_at": _iso(due),
                     "profile": plan.profile, "objective": plan.objective},
            "orders": rows, "unmet": unmet, "flows": flows(session, rows)}


# --------------------------------------------------------------------------- history


def movement_history(session: Session, depot: Depot, *, item: Item | None = None,
                     page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """A depot's ledger newest first, one page, each line with the item's balance after it.

    The balance after a line is the item's current balance (its :class:`StockLevel` rows)
    less the lines booked after it: one aggregate per page, however long the ledger.
    """
    where = [StockMovement.depot_id == depot.id]
    if item is not None:
        where.append(StockMovement.item_id == item.id)
    total = session.scalar(select(func.count()).select_from(StockMovement).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    moves = list(session.scalars(select(StockMovement).where(*where)
                                 .order_by(StockMovement.at.desc(), StockMovement.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)))
    items = _items(session)
    balance: dict[int, Decimal] = {}
    if moves:
        ids = {m.item_id for m in moves}
        current = dict(session.execute(
            select(StockLevel.item_id, func.sum(StockLevel.on_hand))
            .where(StockLevel.depot_id == depot.id, StockLevel.item_id.in_(ids))
            .group_by(StockLevel.item_id)).all())
        first = moves[0]
        newer = dict(session.execute(
            select(StockMovement.item_id, func.sum(StockMovement.quantity))
            .where(StockMovement.depot_id == depot.id, StockMovement.item_id.in_(ids),
                   or_(StockMovement.at > first.at,
                       and_(StockMovement.at == first.at, StockMovement.id > first.id)))
            .group_by(StockMovement.item_id)).all())
        balance = {i: Decimal(current.get(i) or 0) - Decimal(newer.get(i) or 0) for i in ids}
    order_ids = {int(m.reference[3:]) for m in moves
                 if m.reference and m.reference.startswith("DO-") and m.reference[3:].isdigit()}
    destinations = dict(session.execute(select(DispatchOrder.id, DispatchOrder.destination)
                                        .where(DispatchOrder.id.in_(order_ids))).all()) \
        if order_ids else {}
    places = destination_info(session, destinations.values())
    rows = []
    for m in moves:
        it = items[m.item_id]
        after = balance[m.item_id]
        balance[m.item_id] = after - Decimal(m.quantity)
        order = int(m.reference[3:]) if m.reference and m.reference[3:].isdigit() \
            and m.reference.startswith("DO-") else None
        dest = destinations.get(order) if order else None
        rows.append({"id": m.id, "at": m.at.isoformat(), "kind": m.kind.value,
                     "item": it.code, "name": it.name, "name_en": it.name_en, "unit": it.unit,
                     "quantity": _num(m.quantity), "balance": _num(after), "lot": m.lot,
                     "reference": m.reference, "order": order if dest else None,
                     "destination_label": label(places.get(dest), dest) if dest else None,
                     "reason": m.reason, "actor": m.actor_name})
    return {"depot": depot.code, "depot_name": depot.name,
            "item": item.code if item else None, "page": page, "pages": pages,
            "per_page": per_page, "total": total, "movements": rows}


MOVEMENT_KINDS = tuple(k.value for k in MovementKind)
