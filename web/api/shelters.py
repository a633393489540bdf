"""Shelter changes, safety and evacuation plans over HTTP (``GET /api/v1/shelters`` is core's)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from disaster.access import Role, require_role
from disaster.communities import Community
from shelters import evacuation, safety, services
from shelters.models import EvacuationPlan, Shelter
from shelters.schemas import EvacuationPlanIn, LimitQuery, SafetyRulesIn, ShelterPatchIn
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("shelters")

HAZARD_NAMES = {"rainstorm": _l("rainstorm"), "snowstorm": _l("snowstorm"),
                "cold_wave": _l("cold wave"), "gale": _l("gale"), "heat": _l("heat"),
                "frost": _l("frost"), "fog": _l("fog"), "typhoon": _l("typhoon")}
LEVEL_NAMES = {"blue": _l("blue"), "yellow": _l("yellow"), "orange": _l("orange"),
               "red": _l("red")}


def reason_text(reason: dict[str, Any]) -> str:
    """A reason a shelter is unsafe, in the user's language."""
    names = {"level": str(LEVEL_NAMES.get(reason["level"], reason["level"])),
             "hazard": str(HAZARD_NAMES.get(reason["hazard"], reason["hazard"])),
             "community": reason["community"]}
    if reason.get("zone"):
        return _("in hazard zone %(zone)s, touched by a %(level)s %(hazard)s warning in "
                 "community %(community)s", zone=reason["zone"], **names)
    return _("%(level)s %(hazard)s warning in community %(community)s", **names)


@bp.patch("/shelters/<code>")
@api_doc(body=ShelterPatchIn, response=dict[str, Any])
def patch_shelter(code: str):  # type: ignore[no-untyped-def]
    """Change a shelter's status, occupancy or capacity.

    ---
    summary: Record arrivals, departures, a head count or a status or capacity change
    description: >
      Administrators and duty officers. Occupancy never exceeds capacity unless `override`
      is true and a `reason` is given; such changes are flagged and audited.
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      200: {description: the shelter after the change}
      403: {description: role may not change shelters}
      404: {description: unknown shelter}
      409: {description: state forbids the change (e.g. arrivals at a closed shelter)}
      422: {description: invalid input; fields name the offending ones}
    """
    services.require_writer(actor(), "change shelters")
    body = json_body(ShelterPatchIn).model_dump(exclude_unset=True)
    s = session()
    shelter = services.apply_patch(s, actor(), code, body)
    return jsonify(services.snapshot(shelter))


@bp.get("/shelters/<code>/history")
@api_doc(response=list[dict[str, Any]])
def shelter_history(code: str):  # type: ignore[no-untyped-def]
    """Occupancy history of a shelter.

    ---
    summary: Every arrival, departure and head count with actor, time and override flag
    parameters:
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      200: {description: "list of changes, oldest first"}
      404: {description: unknown shelter}
    """
    return jsonify(services.occupancy_history(session(), code))


@bp.get("/shelters/safety")
@api_doc(response=dict[str, Any])
def shelter_safety():  # type: ignore[no-untyped-def]
    """Every shelter with its fill and its safety under the current warnings.

    ---
    summary: Shelters as GeoJSON with fill ratio and safety verdict
    responses:
      200:
        description: >
          FeatureCollection; properties code, name, kind, status, capacity, occupancy,
          free, fill, safe, reasons
    """
    s = session()
    shelters = list(s.scalars(select(Shelter).order_by(Shelter.code)))
    verdicts = safety.assess(s, shelters)
    features = []
    for shelter in shelters:
        if shelter.geom is None:
            continue
        point = to_shape(shelter.geom)
        snap = services.snapshot(shelter)
        verdict = verdicts[shelter.code]
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                         "properties": {k: snap[k] for k in (
                             "code", "name", "kind", "status", "capacity", "occupancy", "free")}
                         | {"fill": shelter.occupancy / shelter.capacity if shelter.capacity
                            else None, "safe": verdict.safe,
                            "reasons": [r | {"text": reason_text(r)} for r in verdict.reasons]}})
    return jsonify({"type": "FeatureCollection", "features": features})


@bp.get("/shelters/safety-rules")
@api_doc(response=dict[str, Any])
def get_safety_rules():  # type: ignore[no-untyped-def]
    """Safety rules, evacuation rates and the unassigned penalty in force.

    ---
    summary: The data that decides shelter safety and people at risk
    responses:
      200: {description: "{rules, rates, unassigned_penalty_km}"}
    """
    s = session()
    return jsonify({"rules": safety.rules(s), "rates": evacuation.rates(s),
                    "unassigned_penalty_km": services.get_setting(
                        s, evacuation.PENALTY_KEY, evacuation.DEFAULT_PENALTY_KM)})


@bp.put("/shelters/safety-rules")
@api_doc(body=SafetyRulesIn, response=dict[str, Any])
def put_safety_rules():  # type: ignore[no-untyped-def]
    """Replace safety rules and/or evacuation rates (administrators).

    ---
    summary: Change the safety rules, evacuation rates or unassigned penalty
    responses:
      200: {description: the settings now in force}
      403: {description: administrators only}
      422: {description: invalid rules or rates}
    """
    # Checked before the body so that an empty or invalid body from a non-administrator is
    # refused for who sent it, not accepted as a no-op or answered with field errors.
    require_role(actor(), Role.ADMIN, action="changing shelter safety rules")
    body = json_body(SafetyRulesIn).model_dump(exclude_unset=True)
    s = session()
    if "rules" in body:
        safety.set_rules(s, actor(), body["rules"])
    if "rates" in body:
        evacuation.set_rates(s, actor(), body["rates"])
    if "unassigned_penalty_km" in body:
        evacuation.set_penalty(s, actor(), body["unassigned_penalty_km"])
    return get_safety_rules()


@bp.post("/evacuation/plans")
@api_doc(body=EvacuationPlanIn, response=dict[str, Any], status=201, body_required=False)
def create_plan():  # type: ignore[no-untyped-def]
    """Compute and store an evacuation plan for the current warnings.

    ---
    summary: Optimal assignment of people at risk to safe shelters (as the CLI)
    description: >
      Duty officers (and administrators). The body is optional.
    responses:
      201:
        description: >
          {id, assignments [{community, shelter, people, distance_km}], unassigned
          [{community, people}], problem {groups, shelters, costs, unassigned_penalty},
          objective}
      403: {description: role may not plan}
      422: {description: invalid parameter}
    """
    require_role(actor(), *evacuation.PLANNERS, action="planning evacuations")
    body = json_body(EvacuationPlanIn, optional=True)
    plan = evacuation.plan_evacuation(session(), actor(), penalty_km=body.unassigned_penalty_km,
                                      period=body.period)
    return jsonify(plan), 201


@bp.get("/evacuation/plans")
@api_doc(query=LimitQuery, response=list[dict[str, Any]])
def list_plans():  # type: ignore[no-untyped-def]
    """Recent evacuation plans, newest first.

    ---
    summary: List stored plans (summary only)
    responses:
      200: {description: "[{id, created_at, actor, people, assigned, unassigned, objective}]"}
    """
    rows = session().scalars(select(EvacuationPlan).order_by(EvacuationPlan.id.desc())
                             .limit(query(LimitQuery).limit or 20))
    return jsonify([{"id": p.id, "created_at": p.created_at.isoformat(), "actor": p.actor_name,
                     "distance_mode": p.distance_mode, "people": p.people,
                     "assigned": p.assigned, "unassigned": p.unassigned,
                     "objective": p.objective} for p in rows])


@bp.get("/evacuation/plans/<int:plan_id>")
@api_doc(response=dict[str, Any])
def get_plan(plan_id: int):  # type: ignore[no-untyped-def]
    """A stored evacuation plan, exactly as it was returned when computed.

    ---
    summary: One evacuation plan
    parameters:
      - {in: path, name: plan_id, required: true, schema: {type: integer}}
    responses:
      200: {description: the plan document}
      404: {description: unknown plan}
    """
    return jsonify(evacuation.get_plan(session(), plan_id))


@bp.get("/evacuation/plans/<int:plan_id>/communities/<code>")
@api_doc(response=dict[str, Any])
def community_plan(plan_id: int, code: str):  # type: ignore[no-untyped-def]
    """Where one community's people go.

    ---
    summary: Destinations of one community in a plan, nearest first
    parameters:
      - {in: path, name: plan_id, required: true, schema: {type: integer}}
      - {in: path, name: code, required: true, schema: {type: string}}
    responses:
      200:
        description: >
          {plan, community, destinations [{shelter, people, distance_km, vulnerable}],
          unassigned}
      404: {description: unknown plan}
    """
    return jsonify(evacuation.community_destinations(evacuation.get_plan(session(), plan_id),
                                                     code))


@bp.get("/evacuation/plans/<int:plan_id>/flows")
@api_doc(response=dict[str, Any])
def plan_flows(plan_id: int):  # type: ignore[no-untyped-def]
    """The plan's flows as lines from each community to its shelters.

    ---
    summary: GeoJSON LineStrings community → shelter with people and distance
    parameters:
      - {in: path, name: plan_id, required: true, schema: {type: integer}}
    responses:
      200: {description: FeatureCollection of LineString features}
      404: {description: unknown plan}
    """
    s = session()
    document = evacuation.get_plan(s, plan_id)
    return jsonify(_flows_geojson(s, document))


def _flows_geojson(s: Any, document: dict[str, Any]) -> dict[str, Any]:
    assignments = document["assignments"]
    communities = sorted({a["community"] for a in assignments})
    shelters = sorted({a["shelter"] for a in assignments})
    where: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    for i in range(0, len(communities), 500):
        for code, name, point, geom in s.execute(
                select(Community.code, Community.name, Community.point, Community.geom)
                .where(Community.code.in_(communities[i:i + 500]))):
            names[code] = name
            shape = to_shape(point) if point is not None else (
                to_shape(geom).representative_point() if geom is not None else None)
            if shape is not None:
                where[code] = (shape.x, shape.y)
    shelter_at: dict[str, tuple[float, float]] = {}
    for i in range(0, len(shelters), 500):
        for code, name, geom in s.execute(select(Shelter.code, Shelter.name, Shelter.geom)
                                          .where(Shelter.code.in_(shelters[i:i + 500]))):
            names[f"shelter:{code}"] = name
            if geom is not None:
                p = to_shape(geom)
                shelter_at[code] = (p.x, p.y)
    features = [{"type": "Feature",
                 "geometry": {"type": "LineString",
                              "coordinates": [where[a["community"]], shelter_at[a["shelter"]]]},
                 # Names beside the codes: the pop-up shows names (the codes stay for scripts).
                 "properties": a | {"community_name": names.get(a["community"]),
                                    "shelter_name": names.get(f"shelter:{a['shelter']}")}}
                for a in assignments if a["community"] in where and a["shelter"] in shelter_at]
    return {"type": "FeatureCollection", "plan": document["id"], "features": features}
