"""The officer's phone page (/officer): my communities, warnings to acknowledge, the report
form that keeps working offline (service worker + IndexedDB queue, see officer.js)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import false, or_, select

from disaster.access import Actor, Role, covers_community, require_role
from disaster.communities import Community
from disaster.events import DisasterEvent, EventStatus
from disaster.reports.models import INDICATORS, Report
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
    """Active alerts covering my communities that I have not acknowledged (if warnings exist)."""
    try:
        from disaster.officers import Officer
        from disaster.warnings.models import Acknowledgement, Alert, AlertStatus
    except ImportError:  # the warning engine is not part of this build
        return []
    db = get_session()
    alerts = db.scalars(select(Alert).where(
        Alert.status.in_([AlertStatus.ACTIVE])).order_by(Alert.sent.desc()).limit(200)).all()
    mine = [a for a in alerts if codes & set(a.communities or [])]
    if not mine:
        return []
    acked = set(db.scalars(select(Acknowledgement.alert_id).join(
        Officer, Officer.id == Acknowledgement.officer_id).where(
        Acknowledgement.alert_id.in_([a.id for a in mine]),
        (Acknowledgement.user_id == actor.user_id) | (Officer.user_id == actor.user_id))))
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
        for code, kind in db.execute(
                select(Report.community_code, Report.kind)
                .join(DisasterEvent, DisasterEvent.id == Report.event_id)
                .where(Report.is_latest.is_(True), DisasterEvent.status == EventStatus.OPEN,
                       Report.community_code.in_(sorted(codes)))):
            latest[code] = kind.value
    rows = [{"code": c.code, "name": c.name,
             "level": max((lv for lv in levels.get(c.code, {}).values()),
                          key=lambda lv: lv.rank, default=None),
             "latest": latest.get(c.code)} for c in communities]
    return render_template(
        "officer/index.html", communities=rows, alerts=_alerts_to_ack(actor, codes),
        hazards=list(Hazard), indicators=INDICATORS, labels=INDICATOR_LABELS_ZH,
        labels_en=INDICATOR_LABELS_EN,
        username=current_user.user.display_name or current_user.user.username,
        user_id=current_user.user.id, asset_version=asset_version())


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
