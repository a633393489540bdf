"""The depot manager's phone page (/depot): stock table, movement form, orders to confirm
and ship, low-stock and expiring-soon warnings. Every write goes through the same
:mod:`stockpile` services as the API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from disaster.access import Actor, Role, covers_depot
from gis.errors import AppError
from stockpile import jobs, ledger, orders
from stockpile.models import Depot, Item
from web.api.stock import MOVEMENT_KINDS, record_movement
from web.db import get_session
from web.extensions import current_actor

bp = Blueprint("depot", __name__, url_prefix="/depot", template_folder="templates")


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
        warnings=jobs.stock_warnings(s, code), orders=orders.orders_for_depot(s, code),
        items=items, kinds=MOVEMENT_KINDS, can_write=covers_depot(actor, code),
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
        record_movement(s, current_actor(), code, body)
    except AppError as exc:
        s.rollback()
        flash(exc.message, "error")
        return _page(code, errors=exc.fields or {"form": [exc.message]}, form=form,
                     status=exc.status)
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
        flash(exc.message, "error")
        return _page(code, status=exc.status)
    flash(_("Order %(id)s: %(action)s done.", id=order_id, action=_(action)), "success")
    return redirect(url_for("depot.show", code=code))
