"""The assessment read from the database, on SpatiaLite and PostGIS, and its parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from disaster.access import SYSTEM, Actor, Role
from disaster.assessment.indicators import plan_indicators
from disaster.assessment.models import AssessmentParameter
from disaster.assessment.parameters import (
    DEFAULTS,
    IMPACT_CURVES,
    RISK_WEIGHTS,
    load_parameters,
    reset_parameters,
    set_parameters,
    validate,
)
from disaster.assessment.service import assessment_document, run_assessment, run_risk
from disaster.audit import AuditEntry
from disaster.errors import DisasterPermissionDenied, DisasterValidationError
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from tests.disaster.assessment.factories import build_region, open_event, report, warn

DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)


def test_assessment_from_the_database_models_warned_and_flags_silent_communities(session):
    region = build_region(session)
    codes = region.communities
    event = open_event(session)
    warn(session, codes[0], "red", 220.0)
    warn(session, codes[1], "orange")
    warn(session, codes[4], "blue", 55.0)
    report(session, event, codes[1], affected_people=300, direct_loss_10k_yuan=12.5,
           crop_affected_ha=4.25)
    doc = assessment_document(run_assessment(session, event_id=event.id))
    rows = {r["code"]: r for r in doc["communities"]}
    assert len(rows) == len(codes)
    assert rows[codes[0]]["modelled"]["affected_people"] > 0
    assert rows[codes[0]]["warning_level"] == "red" and rows[codes[0]]["rain_mm"] == 220.0
    assert rows[codes[1]]["modelled"]["affected_people"] > 0
    assert rows[codes[1]]["reported"]["affected_people"] == 300
    assert rows[codes[1]]["reported"]["crop_affected_ha"] == 4.25
    assert codes[0] in doc["silent"] and codes[1] not in doc["silent"]
    assert rows[codes[2]]["modelled"]["affected_people"] == 0
    assert doc["totals"]["reported"]["direct_loss_10k_yuan"] == 12.5
    assert doc["event"]["code"] == "EV-TEST-1"
    # The flood-zone community is more susceptible than the one outside every zone.
    assert rows[codes[0]]["susceptibility"] > rows[codes[9]]["susceptibility"]


def test_risk_from_the_database_counts_officer_coverage(session):
    region = build_region(session)
    officer = Officer(code="OF1", name="张伟", active=True)
    session.add(officer)
    session.flush()
    session.add(OfficerAssignment(officer_id=officer.id, community_code=region.communities[0],
                                  role=AssignmentRole.PRIMARY))
    session.flush()
    result = run_risk(session)
    i = result.table.index()
    assert result.parts["coping"]["officers"][i[region.communities[0]]] == pytest.approx(0.7)
    assert result.parts["coping"]["officers"][i[region.communities[1]]] == 0
    assert result.table.area_names["341302"] == "埇桥区"


def test_parameters_override_defaults_and_are_audited(session):
    weights, _curves = load_parameters(session)
    assert weights["coping_floor"] == 0.5
    effective = set_parameters(session, SYSTEM, RISK_WEIGHTS, {"coping_floor": 0.25,
                                                               "exposure": {"population": 1.0}})
    assert effective["coping_floor"] == 0.25
    assert effective["exposure"] == {"population": 1.0, "households": 0.4}
    set_parameters(session, SYSTEM, RISK_WEIGHTS, {"shelter_reach_km": 5})
    weights, _curves = load_parameters(session)
    assert (weights["coping_floor"], weights["shelter_reach_km"]) == (0.25, 5)
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id == RISK_WEIGHTS)).all()
    assert actions.count("assessment_parameters.update") == 2
    reset_parameters(session, SYSTEM, RISK_WEIGHTS)
    assert load_parameters(session)[0]["coping_floor"] == 0.5


def test_bad_parameters_are_refused_naming_the_key_and_change_nothing(session):
    with pytest.raises(DisasterValidationError) as err:
        set_parameters(session, SYSTEM, IMPACT_CURVES,
                       {"affected_ratio": [[0, 0], [50, 0.2], [40, 0.3]]})
    assert "impact_curves.affected_ratio" in err.value.fields
    with pytest.raises(DisasterValidationError) as err:
        set_parameters(session, SYSTEM, RISK_WEIGHTS, {"hazard": {"floodd": 1}})
    assert "risk_weights.hazard.floodd" in err.value.fields
    with pytest.raises(DisasterValidationError) as err:
        set_parameters(session, SYSTEM, RISK_WEIGHTS, {"coping_floor": 0})
    assert "risk_weights.coping_floor" in err.value.fields
    with pytest.raises(DisasterValidationError) as err:
        set_parameters(session, SYSTEM, IMPACT_CURVES, {"other_hazard_affected_ratio": {"red": 2}})
    assert "impact_curves.other_hazard_affected_ratio.red" in err.value.fields
    with pytest.raises(DisasterValidationError):
        set_parameters(session, SYSTEM, "colours", {})
    assert session.scalars(select(AssessmentParameter)).all() == []


def test_only_administrators_change_parameters(session):
    with pytest.raises(DisasterPermissionDenied):
        set_parameters(session, DUTY, RISK_WEIGHTS, {"coping_floor": 0.3})
    assert session.scalars(select(AssessmentParameter)).all() == []


def test_plan_indicators_compare_values_with_targets():
    rows = {r["key"]: r for r in plan_indicators(
        communities=10, communities_with_officer=9,
        shelters_by_level={"provincial": 5, "municipal": 12}, beds=None, nursing_beds=None,
        loss_share_percent=1.5)}
    assert rows["officer_coverage"]["value"] == 90.0 and rows["officer_coverage"]["met"] is False
    assert rows["shelters_provincial"]["met"] is True
    assert rows["shelters_municipal"]["met"] is False
    assert rows["nursing_bed_share"]["met"] is None
    assert rows["loss_share_of_gdp"]["met"] is False
    assert rows["loss_share_of_gdp"]["comparison"] == "<="


def test_the_documented_defaults_pass_their_own_validation():
    for name, value in DEFAULTS.items():
        validate(name, value)
