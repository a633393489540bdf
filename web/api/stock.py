"""Depot stock, movements, dispatch plans and order actions over HTTP (CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from disaster.access import Role, require_role
from stockpile import catalog, ledger, needs, orders
from stockpile import jobs as stock_jobs
from stockpile.dispatch import DEFAULT_DETOUR, DEFAULT_MAX_DEPOTS, DEFAULT_UNMET_PENALTY
from stockpile.errors import StockValidationError
from stockpile.schemas import (
    CardQuery,
    DepotQuery,
    MovementIn,
    NeedsQuery,
    OrderStepIn,
    PlanIn,
    ProfileIn,
)
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("stock")

MOVEMENT_KINDS = ("receipt", "issue", "transfer", "adjustment", "count")


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


def record_movement(s: Any, who: Any, depot_code: str, body: dict[str, Any]) -> Any:
    """Dispatch one movement document to the ledger (shared by the API and the depot page)."""
    kind = body.get("kind")
    item, qty = body.get("item"), body.get("quantity")
    lot, expires = body.get("lot") or "", body.get("expires_on")
    reason, reference = body.get("reason"), body.get("reference")
    if kind == "receipt":
        return ledger.receive(s, who, depot_code, item, qty, lot=lot, expires_on=expires,
                              reason=reason, reference=reference)
    if kind == "issue":
        return ledger.issue(s, who, depot_code, item, qty, lot=lot or None, reason=reason,
                            reference=reference)
    if kind == "transfer":
        return ledger.transfer(s, who, depot_code, body.get("to_depot"), item, qty,
                               lot=lot or None, reason=reason, reference=reference)
    if kind == "adjustment":
        return ledger.adjust(s, who, depot_code, item, qty, reason=reason, lot=lot,
                             expires_on=expires, reference=reference)
    if kind == "count":
        return ledger.count(s, who, depot_code, item, body.get("counted", qty), lot=lot,
                            expires_on=expires, reason=reason)
    raise StockValidationError("unknown movement kind",
                               fields={"kind": [f"one of {', '.join(MOVEMENT_KINDS)}"]})


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
    body = json_body(MovementIn).model_dump(mode="json", exclude_none=True)
    result = record_movement(session(), actor(), code, body)
    if result is None:
        return jsonify({"movements": [], "message": "count matches the books"}), 200
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
@api_doc(body=PlanIn, response=dict[str, Any], status=201, body_required=False)
def create_plan():  # type: ignore[no-untyped-def]
    """Optimise dispatch for the current needs and store it as draft orders.

    ---
    summary: New dispatch plan (duty officer)
    responses:
      201: {description: "the plan as `dispatch plan --format json`"}
      403: {description: not a duty officer}
    """
    require_role(actor(), Role.DUTY_OFFICER, Role.ADMIN, action="dispatch planning")
    body = json_body(PlanIn, optional=True)
    s = session()
    plan = orders.create_plan(s, actor(), profile=body.profile,
                              unmet_penalty=_default(body.unmet_penalty, DEFAULT_UNMET_PENALTY),
                              detour=_default(body.detour, DEFAULT_DETOUR),
                              max_depots=_default(body.max_depots, DEFAULT_MAX_DEPOTS))
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
