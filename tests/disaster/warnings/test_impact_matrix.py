"""Impact-based warnings: likelihood × impact decide the level when a hazard uses its matrix."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select, update

from disaster.access import Actor, Role, cli_actor
from disaster.communities import Community
from disaster.errors import DisasterPermissionDenied
from disaster.warnings import impact_matrix
from disaster.warnings.certainty import AlertCertainty
from disaster.warnings.models import Alert
from disaster.warnings.service import compute_levels, ingest_and_evaluate
from gis.errors import ValidationError
from tests.disaster.warnings import world
from tests.disaster.warnings.test_ensemble import RUN, _column, _members

# Risk classes out of reach: the exposed population alone decides the impact here.
POPULATION_ONLY = {"risk_bands": [98.0, 99.0, 100.0], "population_bands": [2000, 5000, 10000]}


def _population(session, value: int) -> None:
    session.execute(update(Community).values(population=value))
    session.flush()


def test_rules_stay_the_default_and_only_administrators_change_a_matrix(session):
    assert not impact_matrix.effective(session, impact_matrix.Hazard.RAINSTORM)["enabled"]
    with pytest.raises(DisasterPermissionDenied):
        impact_matrix.set_matrix(session, Actor(None, "duty", Role.DUTY_OFFICER), "rainstorm",
                                 {"enabled": True})
    with pytest.raises(ValidationError) as err:
        impact_matrix.set_matrix(session, cli_actor(), "rainstorm",
                                 {"likelihood_bands": [0.5, 0.4, 0.7]})
    assert "likelihood_bands" in err.value.fields
    with pytest.raises(ValidationError):
        impact_matrix.set_matrix(session, cli_actor(), "rainstorm",
                                 {"matrix": {"high": ["blue", "purple", None, None]}})
    m = impact_matrix.set_matrix(session, cli_actor(), "rainstorm",
                                 {"enabled": True, "matrix": {"low": [None, None, None, "blue"]}})
    assert m["enabled"] and m["matrix"]["low"] == [None, None, None, "blue"]
    assert m["matrix"]["severe"] == impact_matrix.DEFAULT["matrix"]["severe"]  # others kept


def test_likelihood_from_members_and_impact_from_population_pick_the_level(session, tmp_path):
    world.build(session)
    _population(session, 6000)  # high impact everywhere
    impact_matrix.set_matrix(session, cli_actor(), "rainstorm", {"enabled": True, **POPULATION_ONLY})
    ingest_and_evaluate(session, "grib2", str(_members(tmp_path)), now=RUN)
    desired = compute_levels(session, RUN)["rainstorm"]
    # share of members meeting blue by column: 0.8 0.6 0.4 0.3 0.2 0.1 (test_ensemble.SHARE)
    # → very likely, likely, likely, possible, possible, unlikely → high-impact row of the matrix
    expected = {0: "orange", 1: "orange", 2: "orange", 3: "yellow", 4: "yellow", 5: "blue"}
    for code, level in desired.levels.items():
        if code != world.TINY:
            assert level is not None and level.value == expected[_column(code)], code
    yellow = session.scalar(select(Alert).where(Alert.county_code == "341321",
                                                Alert.level == "yellow"))
    assert "可能，高影响（possible, high impact）" in yellow.description
    # certainty from the members' share meeting the trigger (blue): 30 % and 20 % → Possible
    cert = session.scalar(select(AlertCertainty).where(AlertCertainty.alert_id == yellow.id))
    assert (cert.certainty, cert.probability) == ("Possible", 0.3)
    assert desired.probabilities[next(c for c in desired.levels if _column(c) == 0)] == 0.8


def test_the_same_forecast_warns_higher_where_more_people_are_exposed(session, tmp_path):
    world.build(session)
    impact_matrix.set_matrix(session, cli_actor(), "rainstorm", {"enabled": True, **POPULATION_ONLY})
    big = [c for c in session.scalars(select(Community.code)) if _column(c) == 0]
    session.execute(update(Community).where(Community.code.in_(big)).values(population=20000))
    session.flush()
    rain = np.full((12, *world.GRID_SHAPE), 4.5, np.float32)  # 54 mm in 12 h: blue by the rules
    world.write_series(tmp_path, rain)
    ingest_and_evaluate(session, "grid-files", str(tmp_path), now=world.START)
    levels = {c: lv.value for c, lv in compute_levels(session, world.START)["rainstorm"].levels.items()
              if lv is not None}
    for code, level in levels.items():
        # a deterministic forecast is "likely": severe impact → red, low impact → blue
        assert level == ("red" if code in big else "blue"), code
    red = session.scalar(select(Alert).where(Alert.level == "red"))
    assert "很可能，严重影响" in red.description
