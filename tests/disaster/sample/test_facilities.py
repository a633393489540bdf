"""Generated shelters, depots, stock, officers and demo users."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import shapely

from disaster.sample.facilities import short_name
from tests.disaster.sample.support import AS_OF, by_level


def test_about_40_shelters_with_one_central_shelter_per_county(sample):
    assert 35 <= len(sample.shelters) <= 45
    kinds = Counter((s["county_code"], s["kind"]) for s in sample.shelters)
    counties = by_level(sample, "county")
    for code in counties:
        assert kinds[(code, "central")] == 1
        assert kinds[(code, "fixed")] >= 2 and kinds[(code, "emergency")] >= 3
    codes = [s["code"] for s in sample.shelters]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"SH\d{9}", c) for c in codes)


def test_shelter_classes_and_capacities_follow_the_standards(sample):
    classes = {"central": "I", "fixed": "II", "emergency": "III"}
    ranges = {"central": (3000, 10000), "fixed": (1000, 3000), "emergency": (200, 1000)}
    for s in sample.shelters:
        assert s["shelter_class"] == classes[s["kind"]]
        # GB 21734-2008: 1.5 m² of effective area per person.
        assert s["capacity"] == int(s["area_m2"] // 1.5)
        lo, hi = ranges[s["kind"]]
        assert lo <= s["capacity"] <= hi
        assert s["capacity_day"] == s["capacity"] >= s["capacity_night"] > 0
        assert s["status"] == "standby" and s["occupancy"] == 0 and s["generated"]
        assert {"water", "power", "medical", "toilets"} <= set(s["facilities"])
    levels = {s["county_code"]: s["level"] for s in sample.shelters if s["kind"] == "central"}
    assert levels.pop("341302") == "municipal" and set(levels.values()) == {"county"}


def test_shelters_lie_in_their_county_and_community_outside_flood_risk(sample):
    counties = by_level(sample, "county")
    communities = {c["code"]: c for c in sample.communities}
    risky = shapely.union_all([z["geometry"] for z in sample.hazard_zones
                               if z["kind"] == "flood_prone" and z["level"] >= 2])
    for s in sample.shelters:
        assert counties[s["county_code"]]["geometry"].contains(s["geometry"])
        assert communities[s["community_code"]]["geometry"].contains(s["geometry"])
        assert s["community_code"][:6] == s["county_code"]
        assert not risky.contains(s["geometry"])


def test_twelve_depots_city_reserve_one_per_county_and_township_stores(sample):
    levels = Counter(d["level"] for d in sample.depots)
    assert levels == {"city": 1, "county": 5, "township": 6}
    codes = {d["code"]: d for d in sample.depots}
    assert codes["DP341300"]["name"] == "宿州市救灾物资储备库"
    assert {c for c, d in codes.items() if d["level"] == "county"} == {
        f"DP{c}" for c in by_level(sample, "county")}
    counties = by_level(sample, "county")
    for d in sample.depots:
        assert counties[d["county_code"]]["geometry"].contains(d["geometry"])
        assert d["generated"]


def test_depots_hold_every_standard_item_in_whole_packs(sample):
    items = {i["code"]: i for i in sample.items}
    held = defaultdict(Counter)
    for line in sample.stock:
        pack = items[line["item"]]["pack_size"] or 1
        assert line["quantity"] > 0 and line["quantity"] % pack == 0
        held[line["depot"]][line["item"]] += line["quantity"]
    assert set(held["DP341300"]) == set(items)
    for d in sample.depots:
        if d["level"] == "county":
            assert set(held[d["code"]]) == set(items)
            assert held[d["code"]]["QUILT"] < held["DP341300"]["QUILT"]
    assert held["DP341300"]["QUILT"] >= 1000 and held["DP341300"]["TENT12"] >= 100


def test_perishable_lots_are_dated_and_some_expire_within_60_days(sample):
    items = {i["code"]: i for i in sample.items}
    soon = 0
    keys = Counter((s["depot"], s["item"], s["lot"]) for s in sample.stock)
    assert max(keys.values()) == 1
    for line in sample.stock:
        life = items[line["item"]]["shelf_life_days"]
        assert line["received_on"] <= AS_OF
        if life:
            assert line["lot"] and line["expires_on"] > AS_OF
            assert line["expires_on"] - line["received_on"] == dt.timedelta(days=life)
            soon += line["expires_on"] <= AS_OF + dt.timedelta(days=60)
        else:
            assert line["expires_on"] is None
    assert soon > 0


def test_every_community_has_one_primary_officer_and_a_township_backup(sample):
    primary, backup = Counter(), Counter()
    for o in sample.officers:
        primary.update(o["primary"])
        backup.update(o["backup"])
    codes = [c["code"] for c in sample.communities]
    assert all(primary[c] == 1 and backup[c] == 1 for c in codes)
    backups = [o for o in sample.officers if o["backup"]]
    assert len(backups) == len(by_level(sample, "township"))
    for o in backups:
        assert o["code"] == f"OB{o['backup'][0][:9]}"
        assert {c[:9] for c in o["backup"]} == {o["code"][2:]}


def test_officers_look_real_but_reach_no_real_mailbox(sample):
    for o in sample.officers:
        assert re.fullmatch(r"1[358]\d{9}", o["phone"])
        assert o["email"].endswith("@example.org")  # reserved by RFC 2606
        assert 2 <= len(o["name"]) <= 3 and o["generated"]


def test_one_demo_user_per_role_scoped_to_sample_codes(sample):
    users = {u["role"]: u for u in sample.users}
    assert set(users) == {"admin", "duty_officer", "info_officer", "depot_manager"}
    assert {u["username"] for u in sample.users} == {"admin", "duty", "officer", "depot"}
    assert users["info_officer"]["scopes"] == ["341302001"]
    assert users["info_officer"]["officer_code"] in {o["code"] for o in sample.officers}
    assert users["depot_manager"]["scopes"] == ["DP341300"]


def test_development_zone_names_are_shortened_for_site_names():
    assert short_name("泗县开发区管委会（泗县当涂现代产业园）") == "泗县开发区"
    assert short_name("符离镇") == "符离镇"
