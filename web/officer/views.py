"""The officer's phone page (/officer): my communities, warnings to acknowledge, the report
form that keeps working offline (service worker + IndexedDB queue, see officer.js)."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import false, or_, select

from disaster.access import Actor, Role, covers_community, require_role
from disaster.communities import Community
from disaster.events import DisasterEvent, EventStatus
from disaster.reports.models import INDICATORS, Report
from disaster.reports.review import returned_for
from disaster.reports.rollup import INDICATOR_LABELS_ZH
from disaster.warnings.levels import Hazard
from disaster.warnings.state import current_levels
from web.db import get_session
from web.extensions import current_actor

INDICATOR_LABELS_EN = {
    "affected_people": "Affected people", "dead": "Dead", "missing": "Missing",
    "evacuated": "Evacuated and resettled", "needing_aid": "Needing emergency aid",
    "collapsed_households": "Collapsed houses (households)",
    "collapsed_rooms": "Collapsed houses (rooms)",
    "severely_damaged_households": "Severely damaged houses (households)",
    "severely_damaged_rooms": "Severely damaged houses (rooms)",
    "generally_damaged_households": "Generally damaged houses (households)",
    "generally_damaged_rooms": "Generally damaged houses (rooms)",
    "crop_affected_ha": "Crops affected (ha)", "crop_damaged_ha": "Crops damaged (ha)",
    "crop_lost_ha": "Crops lost (ha)", "direct_loss_10k_yuan": "Direct loss (10k yuan)",
}
# Report kinds and review states as the officer reads them (never the stored values).
KIND_LABELS = {"initial": _l("Initial report"), "update": _l("Update report"),
               "final": _l("Final report")}
REVIEW_LABELS = {"pending": _l("waiting for review"), "verified": _l("verified"),
                 "returned": _l("returned for correction")}
# Fields besides the figures that an error from the server may name.
OTHER_FIELDS = ("community", "kind", "event", "occurred_at", "notes", "location",
                "photos", "Idempotency-Key", "review_status")
bp = Blueprint("officer", __name__, url_prefix="/officer", template_folder="templates")
STATIC = Path(__file__).resolve().parent.parent / "static" / "officer"
# Assets the service worker keeps for offline use (besides the page itself).
OFFLINE_ASSETS = ("officer/officer.js", "officer/officer.css", "css/app.css", "css/mobile.css")
MAX_COMMUNITIES = 500


def _my_communities(actor: Actor) -> list[Community]:
    stmt = select(Community).order_by(Community.code)
    if actor.role not in (Role.ADMIN, Role.DUTY_OFFICER):
        scopes = sorted(actor.scopes)
        stmt = stmt.where(or_(*[Community.code.startswith(s) for s in scopes]) if scopes
                          else false())
    return [c for c in get_session().scalars(stmt.limit(MAX_COMMUNITIES))
            if covers_community(actor, c.code, c.township_code, c.county_code)]


def _alerts_to_ack(actor: Actor, codes: set[str]) -> list[dict[str, Any]]:
    """Active alerts covering my communities, each marked acknowledged when my 叫应 at its
    level (or higher) already stands, on this message or an earlier one of the same warning."""
    from disaster.notify.ack import acknowledged_alert_ids
    from disaster.officers import Officer
    from disaster.warnings.models import Alert, AlertStatus

    db = get_session()
    alerts = db.scalars(select(Alert).where(
        Alert.status.in_([AlertStatus.ACTIVE])).order_by(Alert.sent.desc()).limit(200)).all()
    mine = [a for a in alerts if codes & set(a.communities or [])]
    if not mine:
        return []
    linked = set(db.scalars(select(Officer.id).where(Officer.user_id == actor.user_id))) \
        if actor.user_id is not None else set()
    acked = acknowledged_alert_ids(db, mine, linked, user_id=actor.user_id)
    return [{"id": a.id, "headline": a.headline, "level": a.level.value,
             "sent": a.sent.isoformat(), "acked": a.id in acked} for a in mine]


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The officer's page."""
    actor = current_actor()
    require_role(actor, Role.INFO_OFFICER, Role.DUTY_OFFICER, Role.ADMIN,
                 action="filing reports")
    communities = _my_communities(actor)
    codes = {c.code for c in communities}
    levels = current_levels(get_session())
    db = get_session()
    latest: dict[str, str] = {}
    if codes:
        for code, kind, review in db.execute(
                select(Report.community_code, Report.kind, Report.review_status)
                .join(DisasterEvent, DisasterEvent.id == Report.event_id)
                .where(Report.is_latest.is_(True), DisasterEvent.status == EventStatus.OPEN,
                       Report.community_code.in_(sorted(codes)))):
            latest[code] = f"{KIND_LABELS[kind.value]}（{REVIEW_LABELS[review.value]}）"
    rows = [{"code": c.code, "name": c.name,
             "level": max((lv for lv in levels.get(c.code, {}).values()),
                          key=lambda lv: lv.rank, default=None),
             "latest": latest.get(c.code)} for c in communities]
    labels = _field_labels()
    returned = returned_for(db, sorted(codes))
    for r in returned:
        r["kind_label"] = str(KIND_LABELS[r["kind"]])
        r["occurred_at_dt"] = dt.datetime.fromisoformat(r["occurred_at"])
        r["returned_at_dt"] = (dt.datetime.fromisoformat(r["returned_at"])
                               if r["returned_at"] else None)
    return render_template(
        "officer/index.html", communities=rows, alerts=_alerts_to_ack(actor, codes),
        hazards=list(Hazard), indicators=INDICATORS, labels=labels, kinds=KIND_LABELS,
        returned=returned, page_text=_page_text(labels),
        username=current_user.user.display_name or current_user.user.username,
        user_id=current_user.user.id, asset_version=asset_version())


def _field_labels() -> dict[str, str]:
    """Every report field's name as the officer reads it (catalogue keys: the field names)."""
    zh = str(_("affected_people")) != "affected_people"
    labels = {name: (INDICATOR_LABELS_ZH[name] if zh else INDICATOR_LABELS_EN[name])
              for name in INDICATORS}
    labels.update({name: _(name) for name in OTHER_FIELDS})
    labels["hazard"] = _("Hazard")  # the catalogue key "hazard" is the risk component
    return labels


def _page_text(labels: dict[str, str]) -> dict[str, Any]:
    """What officer.js shows, in the page's language (the page works offline with it)."""
    return {
        "labels": labels, "kinds": {k: str(v) for k, v in KIND_LABELS.items()},
        "acknowledged": _("Acknowledged: %(headline)s"),
        "acknowledged_badge": _("Acknowledged"),
        "ack_failed": _("The acknowledgement was not recorded: %(reason)s"),
        "queued": _("Saved on this phone; it will be sent when the connection returns."),
        "stored": _("Report received by the command centre (no. %(id)s)."),
        "stored_late": _("The report saved on this phone has been sent (no. %(id)s)."),
        "resent": _("Corrected report no. %(id)s sent; it waits for review again."),
        "refused": _("The report was not accepted: %(reason)s"),
        "offline_error": _("No connection; try again when the phone is online."),
        "not_negative": _("must not be negative"),
        "at_most": _("must not exceed %(field)s"),
        "at_least": _("must not be less than %(field)s"),
        "correcting": _("Correct the returned report"),
        "file": _("File a report"),
        "submit": _("Submit report"),
        "resend": _("Resend for review"),
        "edit": _("Correct and send again"),
    }


@lru_cache(maxsize=1)
def _asset_hash() -> str:
    digest = hashlib.sha256()
    for name in ("officer.js", "officer.css", "sw.js"):
        path = STATIC / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    """Changes whenever the page's scripts change, so the service worker refreshes its cache."""
    if current_app.debug:
        _asset_hash.cache_clear()
    return _asset_hash()


@bp.get("/sw.js")
def service_worker():  # type: ignore[no-untyped-def]
    """The service worker, served under /officer/ so that it may control the page."""
    script = (STATIC / "sw.js").read_text(encoding="utf-8")
    assets = [url_for("officer.index")] + [url_for("static", filename=a) for a in OFFLINE_ASSETS]
    header = (f"const CACHE = 'officer-{asset_version()}';\n"
              f"const ASSETS = {assets!r};\n").replace("'", '"')
    return Response(header + script, mimetype="application/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/officer/"})
