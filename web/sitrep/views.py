"""Pages: the printable situation report per event, its CSV and GeoJSON, plan indicators, risk list."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import shapely
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from disaster.access import Role
from disaster.areas import Area, AreaLevel
from disaster.assessment.impact import MODELLED
from disaster.assessment.parameters import DEFAULTS, load_parameters, set_parameters
from disaster.assessment.risk import risk_document
from disaster.assessment.service import Assessment, community_row
from disaster.events import get_event, list_events
from disaster.reports.models import INDICATORS
from gis.errors import AppError
from gis.types import utcnow
from gis.vector_io import safe_cell
from web import assessment_inputs as gather
from web.db import get_session
from web.extensions import current_actor
from web.sitrep.data import sitrep_data
from web.sitrep.svg import map_svg, timeline_svg

bp = Blueprint("sitrep", __name__)


def _indicator_titles() -> dict[str, str]:
    return {
        "affected_people": _("Affected people"), "dead": _("Dead"), "missing": _("Missing"),
        "evacuated": _("Evacuated and resettled"), "needing_aid": _("Needing emergency aid"),
        "collapsed_households": _("Collapsed houses (households)"),
        "collapsed_rooms": _("Collapsed houses (rooms)"),
        "severely_damaged_households": _("Severely damaged houses (households)"),
        "severely_damaged_rooms": _("Severely damaged houses (rooms)"),
        "generally_damaged_households": _("Generally damaged houses (households)"),
        "generally_damaged_rooms": _("Generally damaged houses (rooms)"),
        "crop_affected_ha": _("Crops affected (ha)"), "crop_damaged_ha": _("Crops damaged (ha)"),
        "crop_lost_ha": _("Crops lost (ha)"),
        "direct_loss_10k_yuan": _("Direct economic loss (10,000 yuan)"),
    }


def _series_titles() -> dict[str, str]:
    return {"blue": _("Blue warnings"), "yellow": _("Yellow warnings"),
            "orange": _("Orange warnings"), "red": _("Red warnings"),
            "initial": _("Initial reports"), "update": _("Follow-up reports"),
            "final": _("Verified reports")}


def _affected_rows(a: Assessment) -> np.ndarray:
    c = a.comparison
    return np.flatnonzero((a.impact.units["affected_people"] > 0) | c.has_report)


def _county_outlines() -> list[tuple[str, Any]]:
    rows = get_session().execute(select(Area.name, func.ST_AsBinary(Area.geom)).where(
        Area.level == AreaLevel.COUNTY, Area.geom.is_not(None)).order_by(Area.code)).all()
    return [(name, shapely.from_wkb(bytes(wkb))) for name, wkb in rows]


def _map(a: Assessment) -> Any:
    if a.table.geometry is None:
        return ""
    affected = np.maximum(a.impact.units["affected_people"],
                          a.comparison.reported_units["affected_people"])
    silent = np.array(["silent" in f for f in a.comparison.flags], dtype=bool)
    counties = _county_outlines()
    legend = [_("No impact"), "1–99", "100–999", "1,000–4,999", "≥ 5,000"]
    return map_svg(a.table.geometry, affected, silent, [g for _n, g in counties], counties,
                   legend=[f"{_('Affected people')} {text}" if i else text
                           for i, text in enumerate(legend)])


@bp.get("/sitrep/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """Events with a situation report each, and links to the indicators and the risk list."""
    return render_template("sitrep/index.html", events=list_events(get_session()))


@bp.get("/sitrep/<event>")
@login_required
def report(event: str):  # type: ignore[no-untyped-def]
    """The printable 灾情简报 of one event."""
    db = get_session()
    ev = get_event(db, event)
    a = gather.assessment(db, ev.id)
    generated = utcnow()
    data = sitrep_data(db, ev, a, generated)
    return render_template(
        "sitrep/report.html", data=data, event=ev, generated=generated, titles=_indicator_titles(),
        modelled=MODELLED, indicators=INDICATORS, map_svg=_map(a),
        chart_svg=timeline_svg(data["timeline"], titles=_series_titles()))


@bp.get("/sitrep/<event>/communities.csv")
@login_required
def report_csv(event: str):  # type: ignore[no-untyped-def]
    """One row per affected or reporting community: modelled and reported figures, flags."""
    db = get_session()
    ev = get_event(db, event)
    a = gather.assessment(db, ev.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "name", "township_code", "county_code", "warning_level", "rain_mm",
                     *(f"modelled_{k}" for k in MODELLED), *(f"reported_{k}" for k in INDICATORS),
                     "has_report", "flags"])
    for i in _affected_rows(a).tolist():
        row = community_row(a, i)
        # Names come from imports: no cell may run as a spreadsheet formula.
        writer.writerow([safe_cell(v) for v in (
            row["code"], row["name"], row["township_code"], row["county_code"],
            row["warning_level"] or "", row["rain_mm"],
            *(row["modelled"][k] for k in MODELLED),
            *(row["reported"][k] for k in INDICATORS),
            int(row["has_report"]), " ".join(row["flags"]))])
    # A BOM lets Excel on Chinese Windows open the UTF-8 file with the right encoding.
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="sitrep-{ev.code}.csv"'})


@bp.get("/sitrep/<event>/communities.geojson")
@login_required
def report_geojson(event: str):  # type: ignore[no-untyped-def]
    """Affected or reporting communities as GeoJSON polygons with modelled and reported figures."""
    db = get_session()
    ev = get_event(db, event)
    a = gather.assessment(db, ev.id)
    features = []
    for i in _affected_rows(a).tolist():
        geom = a.table.geometry[i] if a.table.geometry is not None else None
        row = community_row(a, i)
        features.append({"type": "Feature", "properties": row,
                         "geometry": None if geom is None else shapely.geometry.mapping(geom)})
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return Response(body, mimetype="application/geo+json", headers={
        "Content-Disposition": f'attachment; filename="sitrep-{ev.code}.geojson"'})


@bp.get("/indicators")
@login_required
def indicators():  # type: ignore[no-untyped-def]
    """Plan indicators: progress against the plan's own targets."""
    titles = {"officer_coverage": _("Communities with an information officer"),
              "shelters_provincial": _("Provincial-level shelters"),
              "shelters_municipal": _("Municipal-level shelters"),
              "nursing_bed_share": _("Share of nursing-type beds"),
              "loss_share_of_gdp": _("Direct economic loss as share of GDP")}
    rows = gather.indicators(get_session())
    return render_template("sitrep/indicators.html", rows=rows, titles=titles)


@bp.get("/risk")
@login_required
def risk():  # type: ignore[no-untyped-def]
    """The ranked risk list with every component (printable)."""
    doc = risk_document(gather.risk(get_session()))
    return render_template("sitrep/risk.html", doc=doc)


def _parameters_page(texts: dict[str, str], errors: dict[str, list[str]] | None = None,
                     status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("sitrep/parameters.html", texts=texts, errors=errors or {},
                           names=sorted(DEFAULTS)), status


@bp.get("/assessment/parameters")
@login_required
def parameters():  # type: ignore[no-untyped-def]
    """Risk weights and impact curves in force, editable by administrators (JSON)."""
    if current_user.user.role != Role.ADMIN:
        abort(403, description=_("Administrators only."))
    weights, curves = load_parameters(get_session())
    texts = {"risk_weights": json.dumps(weights, ensure_ascii=False, indent=2),
             "impact_curves": json.dumps(curves, ensure_ascii=False, indent=2)}
    return _parameters_page(texts)


@bp.post("/assessment/parameters")
@login_required
def save_parameters():  # type: ignore[no-untyped-def]
    """Save one parameter set through :func:`set_parameters` (validated, audited)."""
    if current_user.user.role != Role.ADMIN:
        abort(403, description=_("Administrators only."))
    name = request.form.get("name", "")
    text = request.form.get("value", "")
    weights, curves = load_parameters(get_session())
    texts = {"risk_weights": json.dumps(weights, ensure_ascii=False, indent=2),
             "impact_curves": json.dumps(curves, ensure_ascii=False, indent=2)}
    if name in texts:
        texts[name] = text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return _parameters_page(texts, {name: [f"JSON: {exc}"]}, 422)
    try:
        set_parameters(get_session(), current_actor(), name, value)
    except AppError as exc:
        return _parameters_page(texts, {name: [f"{k}: {'; '.join(v)}" for k, v in
                                               exc.fields.items()] or [exc.message]}, exc.status)
    flash(_("Parameters saved."), "success")
    return redirect(url_for("sitrep.parameters"))
