"""The impact model, the comparison with reports and the roll-ups (no database)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, box

from disaster.assessment.compare import ABOVE, BELOW, SILENT
from disaster.assessment.impact import MODELLED
from disaster.assessment.inputs import CommunityTable, WarningState
from disaster.assessment.overlay import hazard_shares
from disaster.assessment.parameters import DEFAULT_IMPACT_CURVES, DEFAULT_RISK_WEIGHTS
from disaster.assessment.rollup import add_units, rollup, to_units
from disaster.assessment.service import assess_tables, assessment_document
from tests.disaster.assessment.factories import community_records, zone_records


def _base(records=None):
    table = CommunityTable.from_records(records or community_records())
    zones = zone_records()
    shares = hazard_shares(table.geometry, [z["geometry"] for z in zones],
                           [z["kind"] for z in zones], [z["level"] for z in zones])
    return table, shares


def _assess(warnings, reported=None, curves=None, records=None):
    table, shares = _base(records)
    return assess_tables(table, shares, warnings, reported or {}, DEFAULT_RISK_WEIGHTS,
                         curves or DEFAULT_IMPACT_CURVES)


def test_hazard_shares_count_overlaps_at_their_highest_level():
    cell = MultiPolygon([box(0, 0, 1, 1)])
    zones = [box(0, 0, 0.5, 1), box(0, 0, 0.25, 1), box(0.9, 0, 2, 1)]
    shares = hazard_shares([cell], zones, ["flood_prone"] * 2 + ["waterlogging"], [1, 3, 2])
    assert shares.kind("flood_prone")[0] == pytest.approx([0.25, 0.0, 0.25])
    assert shares.kind("waterlogging")[0] == pytest.approx([0.0, 0.1, 0.0])
    assert shares.low_lying[0] == pytest.approx(0.6)
    assert shares.any_share("landslide")[0] == 0


def test_every_community_under_orange_or_red_warning_has_modelled_impact():
    # Tiny villages outside every hazard zone, warnings without any rain figure, and a
    # non-rain hazard: each still shows people affected.
    records = community_records()
    for r in records[6:]:
        r["population"], r["households"] = 3, 1
        r["elderly"] = r["children"] = r["disabled"] = 0
    codes = [r["code"] for r in records]
    warnings = {code: [WarningState("rainstorm", "orange" if i % 2 else "red", None, None)]
                for i, code in enumerate(codes[:-1])}
    warnings[codes[-1]] = [WarningState("gale", "orange", 11.0, "wind_beaufort")]
    a = _assess(warnings, records=records)
    assert all(a.impact.units["affected_people"] > 0)


def test_unwarned_communities_have_no_modelled_impact():
    a = _assess({community_records()[0]["code"]: [WarningState("rainstorm", "red", 200.0,
                                                              "precip_mm_24h")]})
    assert a.impact.units["affected_people"][0] > 0
    for name in MODELLED:
        assert a.impact.units[name][1:].sum() == 0, name


def test_more_rain_and_flood_zones_mean_more_damage():
    codes = [r["code"] for r in community_records()]
    # codes[0] lies in the level-3 flood zone; codes[9] (township 4) in no zone.
    light = _assess({c: [WarningState("rainstorm", "orange", 120.0, "precip_mm_24h")]
                     for c in (codes[0], codes[9])})
    heavy = _assess({c: [WarningState("rainstorm", "red", 300.0, "precip_mm_24h")]
                     for c in (codes[0], codes[9])})
    for name in ("affected_people", "collapsed_households", "crop_affected_ha",
                 "direct_loss_10k_yuan"):
        assert heavy.impact.units[name][0] > light.impact.units[name][0], name
    people_share = heavy.impact.units["affected_people"] / heavy.table.population
    assert people_share[0] > people_share[9]


def test_peak_rain_below_the_level_assumption_does_not_lower_intensity():
    code = community_records()[0]["code"]
    a = _assess({code: [WarningState("rainstorm", "red", 60.0, "precip_mm_3h")]})
    assert a.impact.rain_mm[0] == DEFAULT_IMPACT_CURVES["level_rain_mm"]["red"]


@settings(max_examples=40, deadline=None)
@given(rain=st.lists(st.floats(0, 600), min_size=12, max_size=12),
       levels=st.lists(st.sampled_from(["blue", "yellow", "orange", "red"]), min_size=12,
                       max_size=12))
def test_modelled_figures_keep_the_statistical_forms_consistency_rules(rain, levels):
    codes = [r["code"] for r in community_records()]
    a = _assess({c: [WarningState("rainstorm", lv, mm, "precip_mm_24h")]
                 for c, lv, mm in zip(codes, levels, rain, strict=True)})
    u = a.impact.units
    assert np.all(u["evacuated"] <= u["needing_aid"])
    assert np.all(u["needing_aid"] <= u["affected_people"])
    assert np.all(u["affected_people"] <= a.table.population)
    assert np.all(u["crop_lost_ha"] <= u["crop_damaged_ha"])
    assert np.all(u["crop_damaged_ha"] <= u["crop_affected_ha"])
    homes = (u["collapsed_households"] + u["severely_damaged_households"]
             + u["generally_damaged_households"])
    assert np.all(homes <= a.table.households)


def test_silent_communities_are_flagged_and_reporting_ones_are_not():
    codes = [r["code"] for r in community_records()]
    warnings = {c: [WarningState("rainstorm", "red", 250.0, "precip_mm_24h")] for c in codes[:3]}
    a = _assess(warnings, reported={codes[1]: {"affected_people": 10}})
    doc = assessment_document(a)
    assert codes[0] in doc["silent"] and codes[2] in doc["silent"]
    assert codes[1] not in doc["silent"]
    row = {r["code"]: r for r in doc["communities"]}
    assert row[codes[0]]["flags"] == [SILENT] and row[codes[0]]["has_report"] is False
    assert row[codes[1]]["has_report"] is True


def test_reports_far_from_the_model_are_flagged_either_way():
    codes = [r["code"] for r in community_records()]
    warnings = {c: [WarningState("rainstorm", "orange", 150.0, "precip_mm_24h")]
                for c in codes[:3]}
    plain = _assess(warnings)
    modelled = plain.impact.units["affected_people"][:3]
    loss = plain.impact.units["direct_loss_10k_yuan"][:3]
    reported = {codes[0]: {"affected_people": int(modelled[0]) * 10},
                codes[1]: {"affected_people": max(1, int(modelled[1]) // 10)},
                codes[2]: {"affected_people": int(modelled[2]),
                           "direct_loss_10k_yuan": loss[2] / 100}}
    a = _assess(warnings, reported)
    flags = {c: a.comparison.flags[i] for i, c in enumerate(codes[:3])}
    assert ABOVE in flags[codes[0]]
    assert BELOW in flags[codes[1]]
    assert flags[codes[2]] == []
    assert a.comparison.ratios[2]["affected_people"] == 1.0


def test_a_report_where_nothing_was_modelled_is_far_above_the_model():
    code = community_records()[5]["code"]
    a = _assess({}, reported={code: {"affected_people": 800}})
    assert ABOVE in a.comparison.flags[5]
    assert a.comparison.ratios[5]["affected_people"] is None


def _rollup_consistent(doc):
    by_county: dict[str, list] = {}
    for t in doc["by_township"]:
        by_county.setdefault(t["county_code"], []).append(t)
    for county in doc["by_county"]:
        for side in ("modelled", "reported"):
            parts = [{k: to_units(k, v) for k, v in t[side].items()}
                     for t in by_county[county["code"]]]
            whole = {k: to_units(k, v) for k, v in county[side].items()}
            assert {k: int(v) for k, v in add_units(parts).items()} == \
                {k: int(v) for k, v in whole.items()}
    for side in ("modelled", "reported"):
        parts = [{k: to_units(k, v) for k, v in c[side].items()} for c in doc["by_county"]]
        whole = {k: int(to_units(k, v)) for k, v in doc["totals"][side].items()}
        assert {k: int(v) for k, v in add_units(parts).items()} == whole
        # …and the communities add up to the city as well.
        rows = [{k: to_units(k, v) for k, v in c[side].items()} for c in doc["communities"]]
        assert {k: int(v) for k, v in add_units(rows).items()} == whole


@settings(max_examples=40, deadline=None)
@given(rain=st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=12, max_size=12),
       reported=st.lists(st.one_of(st.none(), st.fixed_dictionaries({
           "affected_people": st.integers(0, 5000),
           "crop_affected_ha": st.floats(0, 500, allow_nan=False),
           "direct_loss_10k_yuan": st.floats(0, 1e4, allow_nan=False)})),
           min_size=12, max_size=12))
def test_rollups_add_up_exactly(rain, reported):
    codes = [r["code"] for r in community_records()]
    warnings = {c: [WarningState("rainstorm", "orange", mm, "precip_mm_24h")]
                for c, mm in zip(codes, rain, strict=True) if mm is not None}
    reports = {c: r for c, r in zip(codes, reported, strict=True) if r is not None}
    _rollup_consistent(assessment_document(_assess(warnings, reports)))


@given(st.lists(st.tuples(st.sampled_from(["a1", "a2", "b1"]), st.integers(0, 10**9)),
                min_size=1, max_size=60))
def test_integer_rollup_is_exact_for_any_grouping(rows):
    keys = np.array([k for k, _ in rows], dtype=object)
    units = {"direct_loss_10k_yuan": np.array([v for _, v in rows], dtype=np.int64)}
    groups = rollup(keys, units)
    assert sum(g["direct_loss_10k_yuan"] for _, g in groups) == sum(v for _, v in rows)


def test_assessment_document_has_the_contract_shape():
    codes = [r["code"] for r in community_records()]
    doc = assessment_document(_assess({codes[0]: [WarningState("rainstorm", "red", 200.0,
                                                               "precip_mm_24h")]}))
    assert set(doc) >= {"communities", "by_township", "by_county", "totals"}
    row = doc["communities"][0]
    assert set(row) >= {"code", "modelled", "reported"}
    assert set(row["modelled"]) == set(MODELLED)
    assert {"dead", "missing"} <= set(row["reported"])
    for rollup_row in doc["by_township"] + doc["by_county"]:
        assert set(rollup_row) >= {"code", "modelled", "reported"}
    assert doc["totals"]["code"] == "341300"
    share = doc["totals"]["loss_share_of_gdp"]
    assert share["gdp_10k_yuan"] == 20_450_000
    assert share["modelled_percent"] == pytest.approx(
        100 * doc["totals"]["modelled"]["direct_loss_10k_yuan"] / 20_450_000, abs=1e-4)


def test_from_records_accepts_area_instead_of_geometry():
    table = CommunityTable.from_records([{"code": "341302001201", "population": 10,
                                          "area_km2": 2.5, "point": Point(117, 33.6)}])
    assert table.area_km2[0] == 2.5 and table.geometry is None
