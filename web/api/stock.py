"""Depot stock, movements, dispatch plans and order actions over HTTP (CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from gis.schema import validate
from stockpile import catalog, ledger, needs, orders
from stockpile import jobs as stock_jobs
from stockpile.errors import StockValidationError
from stockpile.schemas import DispatchPlanRequest
from web.api.common import actor, api_blueprint, api_doc, json_body, query_limit, session

bp = api_blueprint("stock")

MOVEMENT_KINDS = ("receipt", "issue", "transfer", "adjustment", "count")


def _float(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StockValidationError(f"{key} is not a number",
                                   fields={key: ["a number is required"]}) from None


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
def post_movement(code: str):  # type: ignore[no-untyped-def]
    """Record a receipt, issue, transfer, adjustment or count at a depot.

    ---
    summary: Book a stock movement (depot manager of that depot, or administrator)
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [kind, item]
            properties:
              kind: {type: string, enum: [receipt, issue, transfer, adjustment, count]}
              item: {type: string}
              quantity: {type: number, description: "signed for adjustments"}
              counted: {type: number, description: "for kind count"}
              to_depot: {type: string}
              lot: {type: string}
              expires_on: {type: string, format: date}
              reason: {type: string, description: "required for adjustments"}
              reference: {type: string}
    responses:
      201: {description: the ledger lines written}
      200: {description: a count equal to the books (no movement)}
      403: {description: not a manager of this depot}
      404: {description: unknown depot}
      409: {description: issue beyond the stock available; nothing changed}
      422: {description: invalid input; fields name the offending ones}
    """
    body = json_body()
    result = record_movement(session(), actor(), code, body)
    if result is None:
        return jsonify({"movements": [], "message": "count matches the books"}), 200
    return jsonify(result), 201


@bp.get("/depots/<code>/items/<item>/card")
def stock_card(code: str, item: str):  # type: ignore[no-untyped-def]
    """The stock card of one item at one depot.

    ---
    summary: Stock card (库存卡) with the running balance
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
      - {in: path, name: item, required: true, schema: {type: string}}
      - {in: query, name: limit, schema: {type: integer}, description: last N movements}
    responses:
      200: {description: "`{depot, item, balance, movements: [... balance]}`"}
      404: {description: unknown depot}
      422: {description: unknown item}
    """
    return jsonify(ledger.stock_card(session(), code, item, limit=query_limit(None)))


@bp.get("/stock/warnings")
def stock_warnings():  # type: ignore[no-untyped-def]
    """Low-stock and expiring-soon warnings.

    ---
    summary: Items below their minimum and lots expiring soon, per depot
    parameters:
      - {in: query, name: depot, schema: {type: string}}
    responses:
      200: {description: "`[{kind, depot, item, quantity, minimum?, lot?, expires_on?}]`"}
    """
    return jsonify(stock_jobs.stock_warnings(session(), request.args.get("depot")))


@bp.get("/needs")
def list_needs():  # type: ignore[no-untyped-def]
    """Current relief needs per community and open shelter.

    ---
    summary: Needs (people × norms of a profile) minus what is on its way or delivered
    parameters:
      - {in: query, name: profile, schema: {type: string, enum: [china, sphere, inasafe]}}
    responses:
      200: {description: "`[{destination, kind, lon, lat, priority, needs: {item: quantity}}]`"}
    """
    return jsonify([d.as_dict() for d in needs.compute_needs(session(),
                                                             request.args.get("profile"))])


@bp.get("/needs/profiles")
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
def put_profile(code: str):  # type: ignore[no-untyped-def]
    """Create or edit a needs profile.

    ---
    summary: Edit norms, days, model rates, or make a profile active (administrator)
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            properties:
              name: {type: string}
              days: {type: integer}
              norms: {type: array, items: {type: object}}
              model: {type: object}
              active: {type: boolean}
    responses:
      200: {description: the profile}
      403: {description: not an administrator}
      422: {description: invalid norms; fields name them}
    """
    body = json_body()
    profile = catalog.save_profile(session(), actor(), code, name=body.get("name"),
                                   norms=body.get("norms"), days=body.get("days"),
                                   model=body.get("model"), active=body.get("active"))
    return jsonify(catalog.profile_dict(profile))


@bp.post("/dispatch/plans")
@api_doc(body=DispatchPlanRequest, status=201,
         responses={403: "not a duty officer", 422: "an unknown depot, item or option"})
def create_plan():  # type: ignore[no-untyped-def]
    """Optimise dispatch for the current needs and store it as draft orders (duty officer):
    needs from reports, the model or both, from the chosen depots and items."""
    raw = request.get_json(silent=True)
    # CONTRACT.md: a POST without a body plans with every default.
    body = validate(DispatchPlanRequest, raw if isinstance(raw, dict) else {})
    s = session()
    plan = orders.create_plan(s, actor(), profile=body.profile, unmet_penalty=body.unmet_penalty,
                              detour=body.detour, max_depots=body.max_depots, source=body.source,
                              depots=body.depots, items=body.items, due_hours=body.due_hours)
    return jsonify(orders.plan_dict(s, plan)), 201


@bp.get("/dispatch/plans/<plan_id>")
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
def list_orders():  # type: ignore[no-untyped-def]
    """Orders in progress (draft to shipped) with their end points, for the console.

    ---
    summary: Planned and moving orders with depot and destination coordinates
    responses:
      200: {description: "`[{id, depot, destination, status, lines, from: [lon, lat], to}]`"}
    """
    return jsonify(orders.active_orders(session()))


@bp.post("/dispatch/orders/<order_id>/<action>")
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
    requestBody:
      content:
        application/json:
          schema: {type: object, properties: {note: {type: string}}}
    responses:
      200: {description: the order after the step}
      403: {description: role or depot outside your scope}
      404: {description: unknown order}
      409: {description: not enough stock to reserve; nothing changed}
      422: {description: the order's status does not allow this step}
    """
    body = request.get_json(silent=True) or {}
    s = session()
    order = orders.act(s, actor(), order_id, action,
                       note=body.get("note") if isinstance(body, dict) else None)
    return jsonify(orders.order_dict(s, order))
