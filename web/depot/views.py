"""The depot manager's phone page (/depot): stock table, movement form, orders to confirm
and ship (many at once), low-stock and expiring-soon warnings, and the depot's movement
history. Every write goes through the same :mod:`stockpile` services as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from disaster.access import Actor, Role, covers_depot
from gis.errors import AppError
from stockpile import jobs, ledger, orders, tracking
from stockpile.models import Depot, Item
from stockpile.orders_models import DispatchOrder, OrderStatus
from stockpile.record_schemas import MOVEMENT_KINDS
from web.db import get_session
from web.errors import translate, translate_fields
from web.extensions import current_actor

bp = Blueprint("depot", __name__, url_prefix="/depot", template_folder="templates",
               static_folder="static", static_url_path="/static")
SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_PAGE = 20


def _waiting_orders(depot: Depot) -> list[dict[str, Any]]:
    """Orders the depot has to confirm or ship, with destination and item names."""
    s = get_session()
    waiting = list(s.scalars(select(DispatchOrder).where(
        DispatchOrder.depot_id == depot.id,
        DispatchOrder.status.in_((OrderStatus.APPROVED, OrderStatus.CONFIRMED)))
        .order_by(DispatchOrder.id)))
    return tracking.order_rows(s, waiting)


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _my_depots(actor: Actor) -> list[Depot]:
    depots = get_session().scalars(select(Depot).order_by(Depot.code)).all()
    if actor.role in (Role.ADMIN, Role.DUTY_OFFICER):
        return list(depots)
    return [d for d in depots if covers_depot(actor, d.code)]


def _page(code: str, *, errors: dict[str, list[str]] | None = None,
          form: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    actor = current_actor()
    mine = _my_depots(actor)
    depot = next((d for d in mine if d.code == code), None)
    if depot is None:
        abort(404 if get_session().scalar(select(Depot.id).where(Depot.code == code)) is None
              else 403)
    s = get_session()
    items = s.scalars(select(Item).order_by(Item.code)).all()
    return render_template(
        "depot/index.html", depot=depot, depots=mine,
        all_depots=s.scalars(select(Depot).order_by(Depot.code)).all(), stock=ledger.on_hand(s, code),
        warnings=jobs.stock_warnings(s, code), orders=_waiting_orders(depot), local=_local,
        items=items, kinds=MOVEMENT_KINDS, can_write=covers_depot(actor, code),
        item_names={i.code: f"{i.name}（{i.unit}）" for i in items},
        errors=errors or {}, form=form or {}), status


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The first depot of the user (managers usually have one)."""
    mine = _my_depots(current_actor())
    if not mine:
        abort(403)
    return redirect(url_for("depot.show", code=mine[0].code))


@bp.get("/<code>")
@login_required
def show(code: str):  # type: ignore[no-untyped-def]
    return _page(code)


@bp.post("/<code>/movements")
@login_required
def movement(code: str):  # type: ignore[no-untyped-def]
    """Book the movement form; refused input re-renders the form with field errors."""
    form = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    body = {k: v for k, v in form.items() if v != ""}
    s = get_session()
    try:
        ledger.book(s, current_actor(), code, body)
    except AppError as exc:
        s.rollback()
        flash(translate(exc.message), "error")
        return _page(code, errors=translate_fields(exc.fields) or {"form": [translate(exc.message)]},
                     form=form, status=exc.status)
    flash(_("Movement recorded."), "success")
    return redirect(url_for("depot.show", code=code))


@bp.post("/<code>/orders/<int:order_id>/<action>")
@login_required
def order_action(code: str, order_id: int, action: str):  # type: ignore[no-untyped-def]
    """Confirm (reserve) or ship (issue) an order from the phone."""
    if action not in ("confirm", "ship", "deliver"):
        abort(404)
    s = get_session()
    try:
        orders.act(s, current_actor(), order_id, action)
    except AppError as exc:
        s.rollback()
        flash(translate(exc.message), "error")
        return _page(code, status=exc.status)
    flash(_("Order %(id)s: %(action)s done.", id=order_id, action=_(action)), "success")
    return redirect(url_for("depot.show", code=code, _anchor="orders"))


@bp.post("/<code>/orders/bulk")
@login_required
def bulk_orders(code: str):  # type: ignore[no-untyped-def]
    """Confirm or ship every ticked order in one go; one summary says what was done and
    why any order could not move. Orders of depots the user does not manage: 403."""
    action = request.form.get("action", "")
    if action not in orders.BULK_ACTIONS:
        abort(404)
    ids = [int(v) for v in request.form.getlist("orders") if v.isdigit()]
    if not ids:
        flash(_("Tick the orders first."), "error")
        return redirect(_back(code))
    s = get_session()
    who = current_actor()
    if not covers_depot(who, code):
        abort(403)
    try:
        result = orders.act_many(s, who, ids, action)
    except AppError as exc:
        s.rollback()
        flash(translate(exc.message), "error")
        return _page(code, status=exc.status)
    if result["done"]:
        done = ", ".join(f"#{i}" for i in result["done"])
        flash(_("Confirmed %(count)s orders: %(ids)s.", count=len(result["done"]), ids=done)
              if action == "confirm" else
              _("Shipped %(count)s orders: %(ids)s.", count=len(result["done"]), ids=done),
              "success")
    for failure in result["failed"]:
        flash(_("Order #%(id)s not done: %(reason)s", id=failure["order"],
                reason=translate(failure["message"])), "error")
    return redirect(_back(code))


def _back(code: str) -> str:
    """The depot page again; at the order list unless the page restores its own scroll."""
    if request.form.get("keep_scroll"):
        return url_for("depot.show", code=code)
    return url_for("depot.show", code=code, _anchor="orders")


@bp.get("/<code>/history")
@login_required
def history(code: str):  # type: ignore[no-untyped-def]
    """The depot's movement history (all items, or one), newest first, page by page."""
    actor = current_actor()
    depot = next((d for d in _my_depots(actor) if d.code == code), None)
    s = get_session()
    if depot is None:
        abort(404 if s.scalar(select(Depot.id).where(Depot.code == code)) is None else 403)
    item_code = request.args.get("item", "").strip()
    item = s.scalar(select(Item).where(Item.code == item_code)) if item_code else None
    page = request.args.get("page", "1")
    data = tracking.movement_history(s, depot, item=item,
                                     page=int(page) if page.isdigit() else 1,
                                     per_page=HISTORY_PAGE)
    return render_template("depot/history.html", depot=depot, data=data, local=_local,
                           items=s.scalars(select(Item).order_by(Item.code)).all(),
                           item=item)
