"""Administration: users (create, deactivate, revoke tokens) and the audit log viewer.

Every change goes through :mod:`disaster.accounts`, which checks the role again and audits.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from disaster import accounts
from disaster.access import Role
from disaster.audit import AuditEntry
from gis.errors import AppError
from web.admin.forms import ROLE_CHOICES, UserForm
from web.db import get_session
from web.extensions import current_actor

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


@bp.app_template_filter("pretty_json")
def pretty_json(value: object) -> str:
    """Readable JSON for the audit viewer (Chinese kept as is; Jinja escapes the text)."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


@bp.before_request
@login_required
def _admins_only():  # type: ignore[no-untyped-def]
    if current_user.user.role != Role.ADMIN:
        abort(403, description=_("Administrators only."))


def _users_page(form: UserForm, status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    users = db.scalars(select(accounts.User).order_by(accounts.User.username)).all()
    live = dict(db.execute(
        select(accounts.ApiToken.user_id, func.count())
        .where(accounts.ApiToken.revoked_at.is_(None))
        .group_by(accounts.ApiToken.user_id)).all())
    return render_template("admin/users.html", users=users, tokens=live, form=form,
                           role_names={k: str(v) for k, v in ROLE_CHOICES}), status


@bp.get("/users")
def users():  # type: ignore[no-untyped-def]
    """Every user with role, scope, state and live tokens; the form to add one."""
    return _users_page(UserForm())


@bp.post("/users")
def create_user():  # type: ignore[no-untyped-def]
    """Create a user through :func:`disaster.accounts.add_user` (re-renders with its errors)."""
    form = UserForm()
    if not form.validate_on_submit():
        return _users_page(form, 422)
    try:
        accounts.add_user(get_session(), current_actor(), form.username.data.strip(),
                          form.role.data, form.password.data, form.scope_codes(),
                          display_name=form.display_name.data or None,
                          email=form.email.data or None, phone=form.phone.data or None)
    except AppError as exc:
        for name, messages in exc.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = list(field.errors) + list(messages)
        flash(exc.message, "error")
        return _users_page(form, exc.status)
    flash(_("User %(name)s created.", name=form.username.data.strip()), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/deactivate")
def deactivate(username: str):  # type: ignore[no-untyped-def]
    """Deactivate a user: no sign-in, no session, no token works any more."""
    accounts.set_active(get_session(), current_actor(), username, False)
    flash(_("User %(name)s deactivated.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/activate")
def activate(username: str):  # type: ignore[no-untyped-def]
    """Re-activate a user (and clear a lock-out)."""
    accounts.set_active(get_session(), current_actor(), username, True)
    flash(_("User %(name)s activated.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/revoke-tokens")
def revoke_tokens(username: str):  # type: ignore[no-untyped-def]
    """Revoke every API token of a user."""
    count = accounts.revoke_tokens(get_session(), current_actor(), username)
    flash(_("%(count)d token(s) of %(name)s revoked.", count=count, name=username), "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit():  # type: ignore[no-untyped-def]
    """The audit log, newest first, filtered by action prefix, actor or entity."""
    db = get_session()
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    entity = request.args.get("entity", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if entity:
        stmt = stmt.where(AuditEntry.entity_id == entity)
    rows = db.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                      .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return render_template("admin/audit.html", entries=rows[:PAGE_SIZE],
                           more=len(rows) > PAGE_SIZE, page=page,
                           filters={"action": action, "actor": actor, "entity": entity})
