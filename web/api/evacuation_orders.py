"""Evacuation orders and shelter check-ins over HTTP (the console and the operations page)."""

from __future__ import annotations

from flask import jsonify

from disaster.access import Role
from shelters import evacuation, occupancy, orders
from shelters.models import Shelter
from shelters.schemas import (
    IssueOrderIn,
    MovementIn,
    OrderOut,
    PlannedCommunityOut,
    ShelterOut,
)
from shelters.services import snapshot
from web.api.common import actor, api_blueprint, api_doc, json_body, query_limit, session

bp = api_blueprint("evacuation_orders")


def _visible(view: dict) -> dict | None:
    """An order as the caller may read it: officers see their own communities only."""
    a = actor()
    if a.role in (Role.ADMIN, Role.DUTY_OFFICER):
        return view
    s = session()
    codes = orders.officer_communities(s, a, (c["code"] for c in view["communities"]))
    mine = [c for c in view["communities"] if c["code"] in codes]
    if not mine:
        return None
    return view | {"communities": mine,
                   "acknowledged": sum(1 for c in mine if c["acknowledged_at"])}


@bp.get("/evacuation/plans/<int:plan_id>/communities")
@api_doc(response=list[PlannedCommunityOut], responses={404: "unknown plan"})
def plan_communities(plan_id: int):  # type: ignore[no-untyped-def]
    """Every community of a plan with its shelters (names), people and distances.

    ---
    summary: Where each community of a plan goes, placed or not, with names
    """
    s = session()
    return jsonify(orders.planned_communities(s, evacuation.get_plan(s, plan_id)))


@bp.post("/evacuation/orders")
@api_doc(body=IssueOrderIn, response=OrderOut, status=201,
         responses={404: "unknown plan", 409: "plan already issued"})
def issue_order():  # type: ignore[no-untyped-def]
    """Issue a reviewed plan: notify each community's primary information officer.

    ---
    summary: Issue an evacuation plan as an order (duty officers)
    """
    s = session()
    order = orders.issue_order(s, actor(), json_body())
    return jsonify(orders.order_view(s, order)), 201


@bp.get("/evacuation/orders")
@api_doc(response=list[OrderOut])
def list_orders():  # type: ignore[no-untyped-def]
    """Issued orders, newest first, with who acknowledged for each community.

    ---
    summary: Issued evacuation orders (officers see their own communities)
    """
    s = session()
    views = [_visible(orders.order_view(s, o))
             for o in orders.recent_orders(s, query_limit(10, 100) or 10)]
    return jsonify([v for v in views if v is not None])


@bp.get("/evacuation/orders/<int:order_id>")
@api_doc(response=OrderOut, responses={404: "unknown order"})
def get_order(order_id: int):  # type: ignore[no-untyped-def]
    """One issued order with each community's acknowledgement.

    ---
    summary: One evacuation order
    """
    s = session()
    order = orders.get_order(s, order_id)
    return jsonify(_visible(orders.order_view(s, order)) or orders.order_view(s, order, only=()))


@bp.post("/evacuation/orders/<int:order_id>/communities/<code>/acknowledge")
@api_doc(response=OrderOut, responses={404: "unknown order or community not in it"})
def acknowledge(order_id: int, code: str):  # type: ignore[no-untyped-def]
    """The information officer confirms the order for a community of their own.

    ---
    summary: Acknowledge an evacuation order (information officers, own communities)
    """
    s = session()
    orders.acknowledge(s, actor(), order_id, code)
    return jsonify(_visible(orders.order_view(s, orders.get_order(s, order_id))))


@bp.post("/shelters/<code>/movements")
@api_doc(body=MovementIn, response=ShelterOut, status=201,
         responses={404: "unknown shelter", 409: "shelter closed"})
def shelter_movement(code: str):  # type: ignore[no-untyped-def]
    """Record people checking in or leaving (duty officers; the officer of its community).

    ---
    summary: Check people in to or out of a shelter, by count
    """
    s = session()
    change = occupancy.record_movement(s, actor(), code, json_body())
    shelter = s.get(Shelter, change.shelter_id)
    return jsonify(snapshot(shelter)), 201
