"""The risk index: components visible, weights as data steering the ranking, 2SFCA access."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from disaster.assessment.access import supply_per_person
from disaster.assessment.inputs import CommunityTable
from disaster.assessment.overlay import hazard_shares
from disaster.assessment.parameters import DEFAULT_RISK_WEIGHTS, merged
from disaster.assessment.risk import CopingInputs, compute_risk, risk_document
from tests.disaster.assessment.factories import community_records, zone_records


def _risk(weights=None, coping=None, records=None, history=None):
    table = CommunityTable.from_records(records or community_records(),
                                        {"341302": "埇桥区", "341322": "萧县"})
    zones = zone_records()
    shares = hazard_shares(table.geometry, [z["geometry"] for z in zones],
                           [z["kind"] for z in zones], [z["level"] for z in zones])
    return compute_risk(table, shares, weights or DEFAULT_RISK_WEIGHTS, coping, history)


def test_every_component_is_visible_in_the_ranked_output():
    n = len(community_records())
    coping = CopingInputs(shelter_places_per_person=np.full(n, 0.01),
                          stock_people_per_person=np.full(n, 0.001),
                          has_primary_officer=np.ones(n, bool),
                          has_backup_officer=np.zeros(n, bool))
    doc = risk_document(_risk(coping=coping, history=np.arange(n)))
    row = doc["communities"][0]
    for key in ("rank", "risk", "risk_class", "hazard", "exposure", "vulnerability", "coping"):
        assert key in row
    assert set(row["components"]["hazard"]) == {"flood_prone", "waterlogging", "geohazard",
                                                "low_lying", "history"}
    assert set(row["components"]["exposure"]) == {"population", "households"}
    assert set(row["components"]["vulnerability"]) == {"elderly", "children", "disabled"}
    assert set(row["components"]["coping"]) == {"shelter", "officers", "stock"}
    assert row["components"]["coping"]["officers"] == pytest.approx(0.7)
    assert [r["rank"] for r in doc["communities"]] == list(range(1, n + 1))
    risks = [r["risk"] for r in doc["communities"]]
    assert risks == sorted(risks, reverse=True)
    assert {r["code"] for r in doc["by_county"]} == {"341302", "341322"}
    assert doc["by_county"][0]["name"] in ("埇桥区", "萧县")


def test_missing_coping_inputs_are_left_out_not_counted_as_zero():
    row = risk_document(_risk())["communities"][0]
    assert row["components"]["coping"] == {}
    assert row["coping"] == 0
    assert "history" not in row["components"]["hazard"]


def test_communities_in_high_hazard_zones_rank_above_those_outside():
    result = _risk()
    # Township 1 (rows 0–2) lies in the level-3 flood zone; townships 3–4 in none.
    assert result.hazard[:3].min() > result.hazard[6:].max()
    assert result.risk[6:].max() == 0  # no hazard, no risk


def test_coping_capacity_lowers_risk():
    n = len(community_records())
    without = _risk(coping=CopingInputs(has_primary_officer=np.zeros(n, bool)))
    with_all = _risk(coping=CopingInputs(shelter_places_per_person=np.ones(n),
                                         stock_people_per_person=np.ones(n),
                                         has_primary_officer=np.ones(n, bool),
                                         has_backup_officer=np.ones(n, bool)))
    assert with_all.coping[0] == pytest.approx(1.0)
    assert with_all.risk[0] == pytest.approx(without.risk[0] * DEFAULT_RISK_WEIGHTS["coping_floor"])


def test_weights_change_the_ranking_as_expected():
    records = community_records()[:2]  # both in the level-3 flood zone
    for r in records:
        r["population"], r["households"] = 1000, 365
    records[0].update(elderly=350, children=50)   # an ageing village
    records[1].update(elderly=50, children=350)   # a young one
    elderly_first = merged(DEFAULT_RISK_WEIGHTS, {"vulnerability": {
        "elderly": 1.0, "children": 0.0, "disabled": 0.0}})
    children_first = merged(DEFAULT_RISK_WEIGHTS, {"vulnerability": {
        "elderly": 0.0, "children": 1.0, "disabled": 0.0}})
    by_elderly = _risk(elderly_first, records=copy.deepcopy(records))
    by_children = _risk(children_first, records=copy.deepcopy(records))
    assert list(by_elderly.rank) == [1, 2]
    assert list(by_children.rank) == [2, 1]


def test_risk_classes_follow_rank_quintiles():
    result = _risk()
    positive = result.risk > 0
    assert set(result.risk_class[~positive]) == {"very_low"}
    top = int(np.argmin(result.rank))
    assert result.risk_class[top] == "very_high"


def test_shelter_places_are_shared_not_counted_twice():
    # Two villages 1 km either side of one shelter of 300 free places, a third far away.
    lon = np.array([116.99, 117.01, 117.50])
    lat = np.array([33.6, 33.6, 33.6])
    pop = np.array([1000.0, 2000.0, 500.0])
    per_person = supply_per_person(lon, lat, pop, np.array([117.0]), np.array([33.6]),
                                   np.array([300.0]), reach_km=5)
    assert per_person[:2] == pytest.approx([0.1, 0.1])
    assert per_person[2] == 0
    assert (per_person * pop).sum() == pytest.approx(300)


def test_supply_within_reach_handles_no_supply():
    assert supply_per_person(np.array([117.0]), np.array([33.6]), np.array([10.0]),
                             np.zeros(0), np.zeros(0), np.zeros(0), 5).tolist() == [0.0]
