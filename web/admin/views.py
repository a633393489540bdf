"""Administration: the admin home, users (create, change, deactivate, tokens), the audit log.

Every change goes through :mod:`disaster.accounts`, which checks the role and the scope
codes again and audits. Destructive actions ask first on a page of their own (works without
JavaScript); a new API token is shown once, on the page answering the POST.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from disaster import accounts
from disaster.access import Role
from disaster.audit import AuditEntry
from gis.errors import AppError
from web.admin.forms import ROLE_CHOICES, EditUserForm, UserForm
from web.db import get_session
from web.errors import translate
from web.extensions import current_actor

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50

# The administrator's pages beside the users and the audit log; one missing in this build
# is left out. (endpoint, label, description)
HOME_LINKS = [
    ("admin.users", _l("Users"), _l("Accounts, roles, scope codes, API tokens")),
    ("admin.audit", _l("Audit log"), _l("Who changed what, and every sign-in")),
    ("admin.data_import", _l("Data import"), _l("Load areas, communities, shelters, depots, stock")),
    ("sitrep.parameters", _l("Assessment parameters"), _l("Thresholds and norms of the assessment")),
    ("warnings.thresholds", _l("Warning thresholds"), _l("CMA warning criteria per hazard")),
    ("auth.password", _l("Change password"), _l("Your own password")),
]
# Audit actions as people read them; others are shown as recorded.
ACTION_LABELS = {
    "auth.login": _l("Signed in"), "auth.login_failed": _l("Failed sign-in"),
    "auth.logout": _l("Signed out"), "user.create": _l("Created user"),
    "user.update": _l("Changed user"), "user.deactivate": _l("Deactivated user"),
    "user.activate": _l("Activated user"), "user.password_change": _l("Changed password"),
    "token.issue": _l("Issued API token"), "token.revoke": _l("Revoked API tokens"),
}


# What an audit entry is about and what was done to it, for actions not named above: an
# action is "<entity>.<verb>", and each part is read in the reader's language.
AUDIT_ENTITIES = {
    "alert": _l("warning"), "alert_policy": _l("warning policy"),
    "area": _l("area"), "areas": _l("area"), "assessment_parameters": _l("assessment parameters"),
    "auth": _l("sign-in"), "community": _l("community"), "communities": _l("community"),
    "depot": _l("depot"), "depots": _l("depot"), "dispatch_order": _l("dispatch order"),
    "dispatch_plan": _l("dispatch plan"), "evacuation": _l("evacuation"),
    "evacuation_order": _l("evacuation order"), "evacuation_plan": _l("evacuation plan"),
    "report_review": _l("report review"), "shelter_movement": _l("shelter check-in"),
    "community_ack": _l("acknowledgement"), "event_peak": _l("event peak"), "event": _l("disaster event"),
    "hazard_zone": _l("hazard zone"), "hazard_zones": _l("hazard zone"),
    "hazard-zones": _l("hazard zone"), "item": _l("item"), "items": _l("item"),
    "needs_profile": _l("needs profile"), "notification": _l("notification"),
    "officer": _l("information officer"), "officers": _l("information officer"),
    "officer_assignment": _l("officer assignment"), "officer_proposal": _l("officer proposal"),
    "report": _l("disaster report"), "report_obligation": _l("report obligation"),
    "report_reminder": _l("report reminder"), "response_threshold": _l("response threshold"),
    "roads": _l("road network"), "shelter": _l("shelter"), "shelters": _l("shelter"),
    "stock": _l("stock"), "stock_warning": _l("stock warning"), "token": _l("API token"),
    "user": _l("user"), "vehicle": _l("vehicle"), "warning_rule": _l("warning rule"),
    "weather": _l("weather data"), "weather_source": _l("weather source"),
}
AUDIT_VERBS = {
    "ack": _l("acknowledged"), "acknowledge": _l("acknowledged"), "activate": _l("activated"),
    "adjustment": _l("adjusted"), "alert": _l("issued"), "approve": _l("approved"),
    "arrival": _l("check-in"), "bulk_create": _l("created in bulk"), "cancel": _l("cancelled"),
    "capacity": _l("capacity changed"), "clear": _l("cleared"), "close": _l("closed"),
    "confirm": _l("confirmed"), "count": _l("counted"), "create": _l("created"),
    "deactivate": _l("deactivated"), "delete": _l("deleted"), "deliver": _l("delivered"),
    "departure": _l("departure"), "edit_line": _l("quantity changed"), "escalate": _l("escalated"),
    "expire": _l("expired"), "extend_area": _l("area extended"), "final": _l("verified report"),
    "handover": _l("handed over"), "import": _l("imported"), "ingest": _l("ingested"),
    "initial": _l("initial report"), "issue": _l("issued"), "login": _l("signed in"),
    "login_failed": _l("failed sign-in"), "logout": _l("signed out"), "minimum": _l("minimum set"),
    "notify": _l("notified"), "password_change": _l("password changed"), "plan": _l("planned"),
    "read": _l("read"), "read_all": _l("all read"), "receipt": _l("received"),
    "reject": _l("rejected"), "release": _l("released"), "resend": _l("resent"),
    "reset": _l("reset"), "return": _l("returned"), "revoke": _l("revoked"), "save": _l("saved"),
    "send": _l("sent"), "setting": _l("settings changed"), "ship": _l("shipped"),
    "stale": _l("overdue"), "status": _l("status changed"), "transfer": _l("transferred"),
    "update": _l("updated"), "verify": _l("verified"),
}


@bp.app_template_filter("audit_action")
def audit_action(action: str) -> str:
    """The audit action in the reader's language (parts not known are shown as recorded)."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    entity, _dot, verb = action.partition(".")
    return " · ".join(str(part) for part in (AUDIT_ENTITIES.get(entity, entity),
                                             AUDIT_VERBS.get(verb, verb)) if str(part))


AUDIT_SOURCES = {"web": _l("web page"), "api": _l("API"), "cli": _l("command line"),
                 "system": _l("system"), "scheduler": _l("scheduler"), "link": _l("link"),
                 "login": _l("sign-in page"), "page": _l("web page"), "phone": _l("phone")}


@bp.app_template_filter("audit_source")
def audit_source(source: str | None) -> str:
    """Where a change came from (web page, API, command line…), in the reader's language."""
    known = AUDIT_SOURCES.get(source or "")
    return str(known) if known is not None else (source or "")


@bp.app_template_filter("audit_entity")
def audit_entity(entity_type: str | None) -> str:
    """What an audit entry is about, in the reader's language."""
    known = AUDIT_ENTITIES.get(entity_type or "")
    return str(known) if known is not None else (entity_type or "")


# Destructive actions: endpoint → (question, button label).
CONFIRM = {
    "deactivate": (_l("Deactivate %(name)s? They can no longer sign in, and their sessions "
                      "and API tokens stop working."), _l("Deactivate")),
    "revoke_tokens": (_l("Revoke every API token of %(name)s? Scripts using them stop "
                         "working."), _l("Revoke tokens")),
}


@bp.app_template_filter("pretty_json")
def pretty_json(value: object) -> str:
    """Readable JSON for the audit viewer (Chinese kept as is; Jinja escapes the text)."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


@bp.before_request
@login_required
def _admins_only():  # type: ignore[no-untyped-def]
    if current_user.user.role != Role.ADMIN:
        abort(403, description=_("Administrators only."))


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The administrator's start page: where everything is, and what changed lately."""
    from flask import current_app

    db = get_session()
    links = [(endpoint, str(label), str(text)) for endpoint, label, text in HOME_LINKS
             if endpoint in current_app.view_functions]
    counts = {"users": db.scalar(select(func.count()).select_from(accounts.User)
                                 .where(accounts.User.active.is_(True))),
              "tokens": db.scalar(select(func.count()).select_from(accounts.ApiToken)
                                  .where(accounts.ApiToken.revoked_at.is_(None)))}
    recent = db.scalars(select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                        .limit(10)).all()
    return render_template("admin/index.html", links=links, counts=counts, recent=recent)


def _users_page(form: UserForm, status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    users = db.scalars(select(accounts.User).order_by(accounts.User.username)).all()
    live = dict(db.execute(
        select(accounts.ApiToken.user_id, func.count())
        .where(accounts.ApiToken.revoked_at.is_(None))
        .group_by(accounts.ApiToken.user_id)).all())
    names = accounts.scope_names(db, {s.code for u in users for s in u.scopes})
    scope_text = {u.id: "、".join(names.get(s.code, s.code) for s in u.scopes) for u in users}
    return render_template("admin/users.html", users=users, tokens=live, form=form,
                           role_names={k: str(v) for k, v in ROLE_CHOICES},
                           scope_names=scope_text), status


def _show_errors(form: FlaskForm, exc: AppError) -> None:
    """Put a refused change's field messages (translated) beside the form's fields."""
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [translate(m) for m in messages]
    flash(translate(exc.message), "error")


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
        _show_errors(form, exc)
        return _users_page(form, exc.status)
    flash(_("User %(name)s created.", name=form.username.data.strip()), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<username>/edit", methods=["GET", "POST"])
def edit_user(username: str):  # type: ignore[no-untyped-def]
    """Change a user's role, scope codes, contact or password (a new password ends sessions)."""
    db = get_session()
    user = accounts.get_user(db, username)
    form = EditUserForm(data={"username": user.username, "display_name": user.display_name,
                              "role": user.role.value, "email": user.email, "phone": user.phone,
                              "scopes": " ".join(s.code for s in user.scopes)}
                        if request.method == "GET" else None)
    form.username.data = user.username
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            codes = form.scope_codes()
            try:
                user = accounts.add_user(db, current_actor(), user.username, form.role.data,
                                         form.password.data or None, codes,
                                         display_name=form.display_name.data or None,
                                         email=form.email.data or None,
                                         phone=form.phone.data or None, update=True,
                                         replace_scopes=True)
            except AppError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                flash(_("User %(name)s changed.", name=username), "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/edit.html", form=form, user=user), status


def _confirm(action: str, username: str):  # type: ignore[no-untyped-def]
    user = accounts.get_user(get_session(), username)  # 404 for an unknown user
    name = f"{user.display_name}（{username}）" if user.display_name else username
    question, button = CONFIRM[action]
    return render_template("admin/confirm.html", question=str(question) % {"name": name},
                           button=str(button), action=url_for(f"admin.{action}", username=username))


@bp.get("/users/<username>/deactivate")
def confirm_deactivate(username: str):  # type: ignore[no-untyped-def]
    """Ask before deactivating."""
    return _confirm("deactivate", username)


@bp.post("/users/<username>/deactivate")
def deactivate(username: str):  # type: ignore[no-untyped-def]
    """Deactivate a user: no sign-in, no session, no token works any more."""
    accounts.set_active(get_session(), current_actor(), username, False)
    flash(_("User %(name)s deactivated.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/activate")
def activate(username: str):  # type: ignore[no-untyped-def]
    """Re-activate a user."""
    accounts.set_active(get_session(), current_actor(), username, True)
    flash(_("User %(name)s activated.", name=username), "success")
    return redirect(url_for("admin.users"))


@bp.get("/users/<username>/revoke-tokens")
def confirm_revoke_tokens(username: str):  # type: ignore[no-untyped-def]
    """Ask before revoking tokens."""
    return _confirm("revoke_tokens", username)


@bp.post("/users/<username>/revoke-tokens")
def revoke_tokens(username: str):  # type: ignore[no-untyped-def]
    """Revoke every API token of a user."""
    count = accounts.revoke_tokens(get_session(), current_actor(), username)
    flash(_("%(count)d token(s) of %(name)s revoked.", count=count, name=username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/token")
def issue_token(username: str):  # type: ignore[no-untyped-def]
    """Issue an API token and show it once (never stored in clear, never shown again)."""
    token = accounts.issue_token(get_session(), current_actor(), username)
    response = render_template("admin/token.html", username=username, token=token)
    # The token must not linger in a cache or the browser's history store.
    return response, 200, {"Cache-Control": "no-store"}


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
