"""Ensembles: the share of members meeting a level per community, and CAP certainty from it."""

from __future__ import annotations

import datetime as dt

import numpy as np
from lxml import etree
from sqlalchemy import select

from disaster.warnings.cap import alert_xml
from disaster.warnings.certainty import AlertCertainty, community_certainty
from disaster.warnings.models import Alert
from disaster.warnings.service import compute_levels, ingest_and_evaluate
from tests.disaster.warnings import world
from tests.disaster.weather.gribs import Field, write_grib

H = dt.timedelta(hours=1)
RUN = world.START
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
# Member m rains 35 mm/h (105 mm in 3 h: red) over the first K[m] columns of communities
# (each community column is three grid columns, the first starts at grid column 2).
K = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
# By hand: the share of members whose red area covers community column c (K[m] > c).
SHARE = {0: 0.8, 1: 0.6, 2: 0.4, 3: 0.3, 4: 0.2, 5: 0.1}


def _members(tmp_path):
    h, w = world.GRID_SHAPE
    fields = []
    for m, k in enumerate(K):
        rain = np.zeros((h, w))
        rain[:, : 2 + 3 * k] = 35.0
        for step in range(1, 4):
            fields.append(Field(rain * step / 1000, RUN, step, member=m, members=len(K)))
    return write_grib(tmp_path / "ens.grib2", fields, world.GRID_TRANSFORM)


def _column(code: str) -> int:
    return (int(code[-3:]) - 200) % 6


def test_probabilities_are_the_share_of_members_meeting_the_level(session, tmp_path):
    world.build(session)
    ingest_and_evaluate(session, "grib2", str(_members(tmp_path)), now=RUN)
    desired = compute_levels(session, RUN)["rainstorm"]
    for code, level in desired.levels.items():
        if code == world.TINY:
            continue
        col = _column(code)
        if SHARE[col] >= 0.3:  # a level forecast by members alone needs 30 % of them
            assert level is not None and level.value == "red", code
            assert desired.probabilities[code] == SHARE[col], code
        else:
            assert level is None, code


def test_cap_certainty_is_likely_above_half_the_members_and_possible_otherwise(session, tmp_path):
    world.build(session)
    ingest_and_evaluate(session, "grib2", str(_members(tmp_path)), now=RUN)
    alerts = session.scalars(select(Alert)).all()
    by_county = {a.county_code: a for a in alerts}
    # 砀山县 (columns 3–5): only column 3 (30 %) is warned; 埇桥区 reaches 80 % in column 0.
    expected = {"341302": ("Likely", 0.8), "341321": ("Possible", 0.3)}
    for county, (cert, prob) in expected.items():
        row = session.scalar(select(AlertCertainty).where(
            AlertCertainty.alert_id == by_county[county].id))
        assert (row.certainty, row.probability) == (cert, prob)
        doc = etree.fromstring(alert_xml(session, by_county[county]))
        assert doc.findtext("cap:info/cap:certainty", namespaces=CAP) == cert


def test_a_level_met_by_observed_hours_is_observed(session, tmp_path):
    world.build(session)
    world.write_series(tmp_path, np.full((3, *world.GRID_SHAPE), 40.0, np.float32))
    ingest_and_evaluate(session, "grid-files", str(tmp_path), now=RUN + 3 * H)
    (alert,) = session.scalars(select(Alert).where(Alert.county_code == "341302")).all()
    doc = etree.fromstring(alert_xml(session, alert))
    assert doc.findtext("cap:info/cap:certainty", namespaces=CAP) == "Observed"


def test_a_forecast_without_members_stays_likely():
    assert community_certainty(False, None) == "Likely"
    assert community_certainty(False, 0.5) == "Possible"
    assert community_certainty(False, 0.51) == "Likely"
    assert community_certainty(True, 0.1) == "Observed"
