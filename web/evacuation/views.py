"""Phone pages of evacuation orders and shelter operations.

``/officer/evacuation``: the information officer's evacuation orders (shelters, people,
distance) with a button to acknowledge each. ``/shelters/operations``: check-ins and
departures by count, for duty officers and the officer of a shelter's community.
Writes are CSRF-protected form posts going through :mod:`shelters.orders` and
:mod:`shelters.occupancy`; their outcome comes back translated (flash, or inside the
shelter's card on the operations page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime, format_number
from flask_babel import gettext as _
from flask_login import current_user, login_required

from disaster.access import Role, require_role
from gis.errors import AppError
from shelters import occupancy, orders
from web.db import get_session
from web.errors import translate, translate_fields
from web.extensions import current_actor

bp = Blueprint("evacuation_pages", __name__, template_folder="templates")

FEEDBACK_KEY = "shelter_ops_feedback"


@bp.app_context_processor
def _pending_orders() -> dict[str, Any]:
    """``evacuation_pending()`` for the officer page's link: communities waiting to acknowledge."""

    def evacuation_pending() -> int:
        if not current_user.is_authenticated:
            return 0
        actor = current_actor()
        if actor.role != Role.INFO_OFFICER:
            return 0
        return orders.pending_for_officer(get_session(), actor)

    return {"evacuation_pending": evacuation_pending}


def _local(iso: str | None) -> str:
    return format_datetime(dt.datetime.fromisoformat(iso), "yyyy-MM-dd HH:mm") if iso else ""


def _with_local_times(view: dict[str, Any]) -> dict[str, Any]:
    """Times in Asia/Shanghai for the page (stored and sent as UTC)."""
    return view | {"issued_at_local": _local(view["issued_at"]),
                   "communities": [c | {"acknowledged_local": _local(c["acknowledged_at"])}
                                   for c in view["communities"]]}


def _error_text(exc: AppError) -> str:
    """The error's translated message (it names the values; the field names follow)."""
    return translate(exc.message)


@bp.get("/officer/evacuation")
@login_required
def officer_orders():  # type: ignore[no-untyped-def]
    """The officer's evacuation orders, newest first; all orders for duty officers."""
    actor = current_actor()
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="reading evacuation orders")
    db = get_session()
    if actor.role == Role.INFO_OFFICER:
        views = orders.orders_for_officer(db, actor)
    else:
        views = [orders.order_view(db, o) for o in orders.recent_orders(db)]
    return render_template("evacuation/officer.html",
                           orders=[_with_local_times(v) for v in views],
                           can_ack=actor.role == Role.INFO_OFFICER)


@bp.post("/officer/evacuation/<int:order_id>/<code>")
@login_required
def acknowledge(order_id: int, code: str):  # type: ignore[no-untyped-def]
    """Acknowledge an order for one of the officer's communities."""
    db = get_session()
    try:
        row = orders.acknowledge(db, current_actor(), order_id, code)
    except AppError as exc:
        db.rollback()
        flash(_error_text(exc), "error")
    else:
        name = orders.community_names(db, [row.community_code]).get(code, (code, ""))[0]
        flash(_("Evacuation order acknowledged for %(community)s.", community=name), "success")
    return redirect(url_for("evacuation_pages.officer_orders") + f"#order-{order_id}")


@bp.get("/shelters/operations")
@login_required
def operations():  # type: ignore[no-untyped-def]
    """Shelters the user runs, with forms for check-ins and departures."""
    db = get_session()
    actor = current_actor()
    shelters = occupancy.shelters_for(db, actor)
    # The last change's outcome is shown inside its shelter's card, where the page scrolls to.
    feedback = session.pop(FEEDBACK_KEY, None)
    return render_template("evacuation/operations.html", shelters=shelters, feedback=feedback)


@bp.post("/shelters/operations/<code>")
@login_required
def record(code: str):  # type: ignore[no-untyped-def]
    """Record a check-in or departure count at one shelter."""
    db = get_session()
    raw = request.form.get("people", "").strip()
    data = {"kind": request.form.get("kind", ""), "people": raw}
    try:
        change = occupancy.record_movement(db, current_actor(), code, data)
    except AppError as exc:
        db.rollback()
        fields = translate_fields(exc.fields)
        detail = "；".join(f"{_(k)}：{'，'.join(v)}" for k, v in fields.items())
        session[FEEDBACK_KEY] = {"code": code, "ok": False,
                                 "text": _error_text(exc) + (f"（{detail}）" if detail else "")}
    else:
        text = (_("%(people)s people checked in; %(occupancy)s of %(capacity)s places in use.")
                if change.kind.value == "arrival" else
                _("%(people)s people left; %(occupancy)s of %(capacity)s places in use."))
        session[FEEDBACK_KEY] = {"code": code, "ok": True, "text": text % {
            "people": format_number(change.people),
            "occupancy": format_number(change.occupancy_after),
            "capacity": format_number(change.capacity)}}
    return redirect(url_for("evacuation_pages.operations") + f"#shelter-{code}")
