"""Assessment API: damage assessment (as ``disaster assess``), risk index, parameters, indicators."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from disaster.access import Role, require_role
from disaster.assessment.parameters import (
    DEFAULTS,
    load_parameters,
    reset_parameters,
    set_parameters,
)
from disaster.assessment.risk import risk_document
from disaster.assessment.service import assessment_document
from disaster.events import get_event
from disaster.schemas import AssessmentQuery, FeatureCollection, RiskQuery
from gis.errors import ValidationError
from web import assessment_inputs as gather
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("assessment")


@bp.get("/assessment")
@api_doc(query=AssessmentQuery, response=dict[str, Any])
def assessment():  # type: ignore[no-untyped-def]
    """Modelled versus reported damage per community with roll-ups (as ``disaster assess``).
    ---
    get:
      summary: Modelled versus reported damage per community, by township, county and city
      responses:
        200:
          description: >-
            {"communities": [{"code", "modelled": {...}, "reported": {...}, "flags", ...}],
            "by_township": [...], "by_county": [...], "totals": {"modelled", "reported",
            "loss_share_of_gdp"}, "silent": [codes], "far_from_model": [codes]}
        404: {description: unknown event}
    """
    q = query(AssessmentQuery)
    a = gather.assessment(session(), get_event(session(), q.event).id if q.event else None)
    return jsonify(assessment_document(a, only_affected=q.only_affected in ("1", "true",
                                                                           "yes")))


@bp.get("/risk")
@api_doc(query=RiskQuery, response=dict[str, Any])
def risk():  # type: ignore[no-untyped-def]
    """Pre-event risk index per community, ranked, with every component.
    ---
    get:
      summary: Community risk index (hazard × exposure × vulnerability ÷ coping capacity)
      responses:
        200:
          description: >-
            {"communities": [{"code", "name", "rank", "risk", "risk_class", "hazard",
            "exposure", "vulnerability", "coping", "components": {...}}], "by_township",
            "by_county", "weights", "formula"}
        422: {description: bad limit}
    """
    return jsonify(risk_document(gather.risk(session()), query(RiskQuery).limit))


@bp.get("/risk.geojson")
@api_doc(response=FeatureCollection)
def risk_geojson():  # type: ignore[no-untyped-def]
    """Risk index as GeoJSON points (community representative points) for the map console.
    ---
    get:
      summary: Community risk index as GeoJSON points
      responses:
        200:
          description: >-
            FeatureCollection; properties code, name, rank, risk, risk_class, hazard,
            exposure, vulnerability, coping
    """
    doc = risk_document(gather.risk(session()))
    features: list[dict[str, Any]] = []
    for row in doc["communities"]:
        if row["lon"] is None:
            continue
        props = {k: row[k] for k in ("code", "name", "rank", "risk", "risk_class", "hazard",
                                     "exposure", "vulnerability", "coping", "population",
                                     "township", "county")}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}})
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


@bp.get("/assessment/parameters")
@api_doc(response=dict[str, Any])
def parameters():  # type: ignore[no-untyped-def]
    """Effective risk weights and impact curves (defaults with administrator overrides).
    ---
    get:
      summary: Risk weights and impact curves in force
      responses:
        200: {description: '{"risk_weights": {...}, "impact_curves": {...}}'}
    """
    weights, curves = load_parameters(session())
    return jsonify({"risk_weights": weights, "impact_curves": curves})


@bp.put("/assessment/parameters/<name>")
@api_doc(body=dict[str, Any], response=dict[str, Any])
def put_parameters(name: str):  # type: ignore[no-untyped-def]
    """Override keys of one parameter set (administrators).
    ---
    put:
      summary: Change risk weights or impact curves (only the keys given)
      responses:
        200: {description: the effective parameter set}
        403: {description: not an administrator}
        422: {description: "unknown set or key, or a value of the wrong shape (fields name the dotted key)"}
    """
    require_role(actor(), Role.ADMIN, action="changing assessment parameters")
    if name not in DEFAULTS:
        raise ValidationError(f"unknown parameter set {name!r}",
                              fields={"name": [f"one of {', '.join(DEFAULTS)}"]})
    effective = set_parameters(session(), actor(), name, json_body())
    return jsonify({name: effective})


@bp.delete("/assessment/parameters/<name>")
@api_doc(response=dict[str, Any])
def delete_parameters(name: str):  # type: ignore[no-untyped-def]
    """Reset one parameter set to its defaults (administrators).
    ---
    delete:
      summary: Drop the stored overrides of a parameter set
      responses:
        200: {description: the defaults now in force}
        403: {description: not an administrator}
    """
    require_role(actor(), Role.ADMIN, action="changing assessment parameters")
    if name not in DEFAULTS:
        raise ValidationError(f"unknown parameter set {name!r}",
                              fields={"name": [f"one of {', '.join(DEFAULTS)}"]})
    reset_parameters(session(), actor(), name)
    weights, curves = load_parameters(session())
    return jsonify({name: {"risk_weights": weights, "impact_curves": curves}[name]})


@bp.get("/assessment/indicators")
@api_doc(response=dict[str, Any])
def indicators():  # type: ignore[no-untyped-def]
    """Plan indicators: officer coverage, shelters by level, nursing beds, loss share of GDP.
    ---
    get:
      summary: Progress against the plan's targets
      responses:
        200:
          description: >-
            {"indicators": [{"key", "title", "value", "target", "unit", "comparison", "met",
            "detail"}]}
    """
    return jsonify({"indicators": gather.indicators(session())})


@bp.get("/sitrep/<event>")
@api_doc(response=dict[str, Any])
def sitrep(event: str):  # type: ignore[no-untyped-def]
    """Situation report (灾情简报) data of one event.
    ---
    get:
      summary: Situation report data of an event (totals, timeline, worst hit, shelters, dispatch)
      responses:
        200: {description: "event, totals, by_county, worst_hit, silent, timeline, shelters, dispatch"}
        404: {description: unknown event}
    """
    from web.sitrep.data import sitrep_data

    db = session()
    return jsonify(sitrep_data(db, get_event(db, event)))
