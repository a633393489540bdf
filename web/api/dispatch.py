"""Dispatch as people follow it: plan choices, plan review with names and flows, line edits,
the order board, bulk confirm/ship, and a depot's movement history.

CONTRACT.md's plan and order endpoints stay in :mod:`web.api.stock`; these sit beside them.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from disaster.access import Role, covers_depot
from gis.messages import msg
from stockpile import catalog, ledger, orders, tracking
from stockpile.errors import StockPermissionDenied
from stockpile.models import Depot, Item
from stockpile.needs import SOURCES
from stockpile.orders_models import DispatchOrder, DispatchPlan, OrderStatus
from stockpile.schemas import (
    BulkOrderAction,
    BulkResult,
    HistoryQuery,
    MovementHistory,
    OrderBoard,
    OrderBoardQuery,
    OrderLineEdit,
    OrderRow,
    PlanListRow,
    PlanOptions,
    PlanReview,
)
from web.api.common import actor, api_blueprint, api_doc, json_body, query, query_limit, session
from web.errors import translate

bp = api_blueprint("dispatch")


@bp.get("/dispatch/options")
@api_doc(response=PlanOptions)
def plan_options():  # type: ignore[no-untyped-def]
    """What a dispatch plan may be made of: needs sources, depots, items and profiles."""
    s = session()
    catalog.ensure_profiles(s)
    from stockpile.dispatch_models import NeedsProfile

    return jsonify({
        "sources": list(SOURCES),
        "depots": [{"code": d.code, "name": d.name}
                   for d in s.scalars(select(Depot).order_by(Depot.code))],
        "items": [{"code": i.code, "name": i.name, "unit": i.unit}
                  for i in s.scalars(select(Item).order_by(Item.code))],
        "profiles": [{"code": p.code, "name": p.name}
                     for p in s.scalars(select(NeedsProfile).order_by(NeedsProfile.code))],
        "due_hours": tracking.DEFAULT_DUE_HOURS})


@bp.get("/dispatch/plans")
@api_doc(response=list[PlanListRow])
def list_plans():  # type: ignore[no-untyped-def]
    """Dispatch plans, newest first (``limit``, default 20)."""
    s = session()
    limit = query_limit(20, 500)
    counts = dict(s.execute(select(DispatchOrder.plan_id, func.count())
                            .group_by(DispatchOrder.plan_id)).all())
    plans = s.scalars(select(DispatchPlan).order_by(DispatchPlan.id.desc()).limit(limit))
    return jsonify([{"id": p.id, "status": p.status.value, "created_at": p.created_at.isoformat(),
                     "approved_at": p.approved_at.isoformat() if p.approved_at else None,
                     "orders": counts.get(p.id, 0)} for p in plans])


@bp.get("/dispatch/plans/<plan_id>/review")
@api_doc(response=PlanReview, responses={404: "no such plan"})
def plan_review(plan_id: str):  # type: ignore[no-untyped-def]
    """A plan with names: orders (depot, destination with township, items with units), unmet
    needs, and its flows summed per depot and township as GeoJSON lines."""
    s = session()
    return jsonify(tracking.plan_review(s, orders.get_plan(s, plan_id)))


@bp.get("/dispatch/flows")
@api_doc(response=dict[str, Any])
def active_flows():  # type: ignore[no-untyped-def]
    """Orders in progress (draft to shipped) summed per depot and township (GeoJSON lines)."""
    s = session()
    active = list(s.scalars(select(DispatchOrder).where(DispatchOrder.status.in_((
        OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)))))
    return jsonify(tracking.flows(s, tracking.order_rows(s, active)))


@bp.get("/dispatch/board")
@api_doc(query=OrderBoardQuery, response=OrderBoard)
def order_board():  # type: ignore[no-untyped-def]
    """Orders to follow to delivery, newest first: state, names, due time and the late flag
    (not delivered by approval + the plan's due hours), with counts per state."""
    q = query(OrderBoardQuery)
    return jsonify(tracking.order_board(session(), status=q.states(), plan=q.plan, late=q.late,
                                        depot=q.depot, limit=q.limit))


@bp.patch("/dispatch/orders/<order_id>/lines/<item>")
@api_doc(body=OrderLineEdit, response=OrderRow,
         responses={403: "not a duty officer", 404: "no such order",
                    409: "beyond the depot's stock; nothing changed",
                    422: "the order is not a draft, or the quantity is invalid"})
def edit_line(order_id: str, item: str):  # type: ignore[no-untyped-def]
    """Change the quantity of one item of a draft order (0 removes it), checked against the
    depot's stock left for the plan."""
    body = json_body(OrderLineEdit)
    s = session()
    order = orders.edit_line(s, actor(), order_id, item, body.quantity)
    return jsonify(tracking.order_rows(s, [order])[0])


@bp.post("/dispatch/orders/bulk")
@api_doc(body=BulkOrderAction, response=BulkResult,
         responses={403: "not the manager of every order's depot; nothing changed"})
def bulk_action():  # type: ignore[no-untyped-def]
    """Confirm or ship several orders at once; each one that cannot move is reported with
    the reason (its state, or the stock short), the others are done."""
    body = json_body(BulkOrderAction)
    result = orders.act_many(session(), actor(), body.orders, body.action)
    for failure in result["failed"]:
        failure["message"] = translate(failure["message"])
    return jsonify(result)


@bp.get("/depots/<code>/movements")
@api_doc(query=HistoryQuery, response=MovementHistory,
         responses={403: "a depot manager of another depot", 404: "no such depot"})
def movement_history(code: str):  # type: ignore[no-untyped-def]
    """The depot's movement history (stock card of all its items), newest first, with the
    item's balance after each line; ``item`` filters, ``page``/``per_page`` page."""
    q = query(HistoryQuery)
    s = session()
    who = actor()
    depot = ledger.get_depot(s, code)
    if who.role not in (Role.ADMIN, Role.DUTY_OFFICER) and not covers_depot(who, depot.code):
        raise StockPermissionDenied(msg("%(depot)s is outside your scope", depot=depot.name),
                                    fields={"depot": [msg("outside your scope")]})
    item = ledger.get_item(s, q.item) if q.item else None
    return jsonify(tracking.movement_history(s, depot, item=item, page=q.page,
                                             per_page=q.per_page))
