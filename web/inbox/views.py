"""The inbox page (/inbox): a signed-in user's notifications, newest first, unread marked,
each marked read through a CSRF-protected POST form. Every read and write goes through
:mod:`disaster.notify.inbox`, which checks ownership and audits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from disaster.notify import inbox
from disaster.notify.models import Notification
from web.db import get_session
from web.extensions import current_actor

bp = Blueprint("inbox", __name__, url_prefix="/inbox", template_folder="templates")

KIND_LABELS = {
    "alert": _l("Warning"), "alert_cancel": _l("Warning lifted"), "escalation": _l("Escalation"),
    "report_returned": _l("Report returned"),
    "report_reminder": _l("Report reminder"), "report_due": _l("Report reminder"),
    "evacuation_order": _l("Evacuation order"),
    "low_stock": _l("Low stock"), "expiring": _l("Expiring soon"), "expired": _l("Expired"),
}
STOCK_KINDS = ("low_stock", "expiring", "expired")


@bp.app_context_processor
def _unread_badge() -> dict[str, Any]:
    """``inbox_unread()`` for the officer and depot pages' navigation (counted once a request)."""

    def inbox_unread() -> int:
        if not current_user.is_authenticated:
            return 0
        if "inbox_unread" not in g:
            g.inbox_unread = inbox.unread_count(get_session(), current_actor())
        return g.inbox_unread

    return {"inbox_unread": inbox_unread}


def _action(note: Notification) -> tuple[str, str] | None:
    """Where to act on a notification: the officer page for warnings, the depot for stock."""
    views = current_app.view_functions
    if note.kind in STOCK_KINDS and (note.reference or "").startswith("stock:"):
        depot = note.reference.split(":")[1]
        if "depot.show" in views and depot:
            return url_for("depot.show", code=depot), _("Open the depot")
    if note.kind == "evacuation_order" and "evacuation_pages.officer_orders" in views:
        return url_for("evacuation_pages.officer_orders"), _("Acknowledge the evacuation order")
    if note.kind == "report_returned" and "officer.index" in views:
        # Sent to the account that filed the report, not to an officer record.
        return url_for("officer.index"), _("Correct the report")
    if note.officer_id is not None and "officer.index" in views:
        if note.kind in ("alert", "escalation"):
            return url_for("officer.index"), _("Acknowledge on my page")
        if note.kind.startswith("report"):
            return url_for("officer.index"), _("File a report")
    return None


def _row(note: Notification) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind,
            "label": str(KIND_LABELS.get(note.kind, note.kind)), "subject": note.subject,
            "body": note.body, "created_at": note.created_at, "read_at": note.read_at,
            "action": _action(note)}


def _back() -> str:
    return url_for("inbox.index", unread="1") if request.form.get("unread") == "1" \
        else url_for("inbox.index")


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """My notifications, newest first; ``?unread=1`` shows only the unread ones."""
    unread_only = request.args.get("unread") == "1"
    s, who = get_session(), current_actor()
    notes = inbox.notifications_for(s, who, unread_only=unread_only)
    return render_template("inbox/index.html", notes=[_row(n) for n in notes],
                           unread_only=unread_only, unread=inbox.unread_count(s, who))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):  # type: ignore[no-untyped-def]
    """Mark one of my notifications read (403 for someone else's, 404 for none)."""
    inbox.mark_read(get_session(), current_actor(), notification_id)
    flash(_("Marked as read."), "success")
    return redirect(_back())


@bp.post("/read-all")
@login_required
def read_all():  # type: ignore[no-untyped-def]
    """Mark every unread notification of mine read."""
    count = inbox.mark_all_read(get_session(), current_actor())
    flash(_("%(count)d notification(s) marked as read.", count=count), "success")
    return redirect(_back())
