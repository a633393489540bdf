"""Depot stock, movements, dispatch plans and order actions over HTTP (CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext

from disaster.access import Role, require_role
from stockpile import catalog, ledger, needs, orders
from stockpile import jobs as stock_jobs
from stockpile.schemas import (
    CardQuery,
    DepotQuery,
    DispatchPlanRequest,
    MovementIn,
    NeedsQuery,
    OrderStepIn,
    ProfileIn,
)
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("stock")

@bp.get("/depots/<code>/stock")
@api_doc(response=list[dict[str, Any]])
def depot_stock(code: str):  # type: ignore[no-untyped-def]
    """Stock on hand of one depot.

    ---
    summary: Stock on hand per item with lots, reservations and expiry flags
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      200:
        description: >
          `[{"item", "name", "unit", "quantity", "reserved", "available", "expired",
          "expiring_soon", "lots": [{"lot", "quantity", "reserved", "expires_on", "expired"}]}]`
      404: {description: unknown depot}
    """
    return jsonify(ledger.on_hand(session(), code))


@bp.post("/depots/<code>/movements")
@api_doc(body=MovementIn, response=Any, status=201,
         responses={200: ("a count equal to the books (no movement)", dict[str, Any])})
def post_movement(code: str):  # type: ignore[no-untyped-def]
    """Record a receipt, issue, transfer, adjustment or count at a depot.

    ---
    summary: Book a stock movement (depot manager of that depot, or administrator)
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      201: {description: the ledger lines written}
      403: {description: not a manager of this depot}
      404: {description: unknown depot}
      409: {description: issue beyond the stock available; nothing changed}
      422: {description: invalid input; fields name the offending ones}
    """
    result = ledger.book(session(), actor(), code, json_body(MovementIn))
    if result is None:
        return jsonify({"movements": [], "message": gettext("The count matches the books.")}), 200
    return jsonify(result), 201


@bp.get("/depots/<code>/items/<item>/card")
@api_doc(query=CardQuery, response=dict[str, Any])
def stock_card(code: str, item: str):  # type: ignore[no-untyped-def]
    """The stock card of one item at one depot.

    ---
    summary: Stock card (库存卡) with the running balance
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
      - {in: path, name: item, required: true, schema: {type: string}}
    responses:
      200: {description: "`{depot, item, balance, movements: [... balance]}`"}
      404: {description: unknown depot}
      422: {description: unknown item}
    """
    return jsonify(ledger.stock_card(session(), code, item, limit=query(CardQuery).limit))


@bp.get("/stock/warnings")
@api_doc(query=DepotQuery, response=list[dict[str, Any]])
def stock_warnings():  # type: ignore[no-untyped-def]
    """Low-stock and expiring-soon warnings.

    ---
    summary: Items below their minimum and lots expiring soon, per depot
    responses:
      200: {description: "`[{kind, depot, item, quantity, minimum?, lot?, expires_on?}]`"}
    """
    return jsonify(stock_jobs.stock_warnings(session(), query(DepotQuery).depot))


@bp.get("/needs")
@api_doc(query=NeedsQuery, response=list[dict[str, Any]])
def list_needs():  # type: ignore[no-untyped-def]
    """Current relief needs per community and open shelter.

    ---
    summary: Needs (people × norms of a profile) minus what is on its way or delivered
    responses:
      200: {description: "`[{destination, kind, lon, lat, priority, needs: {item: quantity}}]`"}
    """
    return jsonify([d.as_dict() for d in needs.compute_needs(session(),
                                                             query(NeedsQuery).profile)])


@bp.get("/needs/profiles")
@api_doc(response=list[dict[str, Any]])
def list_profiles():  # type: ignore[no-untyped-def]
    """Needs profiles.

    ---
    summary: The needs profiles (China, Sphere, InaSAFE/BNPB) and which one is active
    responses:
      200: {description: list of profiles}
    """
    s = session()
    catalog.ensure_profiles(s)
    from sqlalchemy import select

    from stockpile.dispatch_models import NeedsProfile

    return jsonify([catalog.profile_dict(p)
                    for p in s.scalars(select(NeedsProfile).order_by(NeedsProfile.code))])


@bp.put("/needs/profiles/<code>")
@api_doc(body=ProfileIn, response=dict[str, Any])
def put_profile(code: str):  # type: ignore[no-untyped-def]
    """Create or edit a needs profile.

    ---
    summary: Edit norms, days, model rates, or make a profile active (administrator)
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      200: {description: the profile}
      403: {description: not an administrator}
      422: {description: invalid norms; fields name them}
    """
    require_role(actor(), Role.ADMIN, action="editing needs profiles")
    body = json_body(ProfileIn)
    profile = catalog.save_profile(session(), actor(), code, name=body.name, norms=body.norms,
                                   days=body.days, model=body.model, active=body.active)
    return jsonify(catalog.profile_dict(profile))


@bp.post("/dispatch/plans")
@api_doc(body=DispatchPlanRequest, response=dict[str, Any], status=201, body_required=False,
         responses={403: "not a duty officer", 422: "an unknown depot, item or option"})
def create_plan():  # type: ignore[no-untyped-def]
    """Optimise dispatch for the current needs and store it as draft orders (duty officer):
    needs from reports, the model or both, from the chosen depots and items.

    A POST without a body plans with every default (CONTRACT.md).
    """
    require_role(actor(), Role.DUTY_OFFICER, Role.ADMIN, action="dispatch planning")
    body = json_body(DispatchPlanRequest, optional=True)
    s = session()
    plan = orders.create_plan(s, actor(), profile=body.profile, unmet_penalty=body.unmet_penalty,
                              detour=body.detour, max_depots=body.max_depots, source=body.source,
                              depots=body.depots, items=body.items, due_hours=body.due_hours)
    return jsonify(orders.plan_dict(s, plan)), 201


@bp.get("/dispatch/plans/<plan_id>")
@api_doc(response=dict[str, Any])
def get_plan(plan_id: str):  # type: ignore[no-untyped-def]
    """One dispatch plan.

    ---
    summary: A stored plan with its orders, unmet needs, problem and objective
    parameters:
      - {in: path, name: plan_id, required: true, schema: {type: integer}}
    responses:
      200: {description: "the plan as `dispatch plan --format json`"}
      404: {description: unknown plan}
    """
    s = session()
    return jsonify(orders.plan_dict(s, orders.get_plan(s, plan_id)))


@bp.post("/dispatch/plans/<plan_id>/approve")
@api_doc(response=dict[str, Any])
def approve_plan(plan_id: str):  # type: ignore[no-untyped-def]
    """Approve a draft plan.

    ---
    summary: Approve every draft order of a plan (duty officer)
    parameters:
      - {in: path, name: plan_id, required: true, schema: {type: integer}}
    responses:
      200: {description: the plan}
      403: {description: not a duty officer}
      422: {description: the plan is not a draft}
    """
    s = session()
    plan = orders.approve_plan(s, actor(), plan_id)
    return jsonify(orders.plan_dict(s, plan))


@bp.get("/dispatch/orders")
@api_doc(response=list[dict[str, Any]])
def list_orders():  # type: ignore[no-untyped-def]
    """Orders in progress (draft to shipped) with their end points, for the console.

    ---
    summary: Planned and moving orders with depot and destination coordinates
    responses:
      200: {description: "`[{id, depot, destination, status, lines, from: [lon, lat], to}]`"}
    """
    return jsonify(orders.active_orders(session()))


@bp.post("/dispatch/orders/<order_id>/<action>")
@api_doc(body=OrderStepIn, response=dict[str, Any], body_required=False)
def order_action(order_id: str, action: str):  # type: ignore[no-untyped-def]
    """Move an order through its workflow.

    ---
    summary: approve (duty officer), confirm / ship (the depot's manager), deliver, cancel
    parameters:
      - {in: path, name: order_id, required: true, schema: {type: integer}}
      - in: path
        name: action
        required: true
        schema: {type: string, enum: [approve, confirm, ship, deliver, cancel]}
    responses:
      200: {description: the order after the step}
      403: {description: role or depot outside your scope}
      404: {description: unknown order}
      409: {description: not enough stock to reserve; nothing changed}
      422: {description: the order's status does not allow this step}
    """
    body = json_body(OrderStepIn, optional=True)
    s = session()
    order = orders.act(s, actor(), order_id, action, note=body.note)
    return jsonify(orders.order_dict(s, order))
