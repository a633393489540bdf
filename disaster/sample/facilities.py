"""Generated shelters, depots and their opening stock.

Shelters follow GB 51143-2015 (中心 / 固定 / 紧急: one centre per county in the county seat,
fixed shelters in the most populous towns, emergency shelters at schools and squares) and
GB 21734-2008 classes (I > 30 days, II 10–30, III ≤ 10). Capacity is the effective area
divided by GB 21734's 1.5 m² per person, rounded down; open-air sites hold fewer people at
night. Sites avoid the medium and high flood-prone zones. Depots: the city reserve, one per
county, and township stores in the largest towns; stock amounts scale with the depot level.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point

from disaster.sample.places import stream
from disaster.sample.records import (
    AreaRecord,
    CommunityRecord,
    DepotRecord,
    HazardZoneRecord,
    ShelterRecord,
    StockRecord,
)
from disaster.sample.tiling import to_lonlat, to_utm

KIND_CLASS = {"central": "I", "fixed": "II", "emergency": "III"}


class _Sites:
    """Picks points inside an area that avoid the given hazard zones."""

    def __init__(self, avoid: list[HazardZoneRecord], rng: np.random.Generator) -> None:
        geoms = [z.geom for z in avoid]
        self.avoid = shapely.union_all(geoms) if geoms else MultiPolygon()
        shapely.prepare(self.avoid)
        self.rng = rng

    def near(self, centre: Point, within: MultiPolygon, radius_km: tuple[float, float]) -> Point:
        """A point ``radius_km`` from ``centre`` inside ``within`` and outside the zones."""
        centre_m = to_utm(centre)
        fallback = None
        for attempt in range(200):
            r = self.rng.uniform(*radius_km) * 1000.0 * (1 + attempt // 50)
            a = self.rng.uniform(0, 2 * math.pi)
            p = to_lonlat(Point(centre_m.x + r * math.cos(a), centre_m.y + r * math.sin(a)))
            if not within.contains(p):
                continue
            fallback = fallback or p
            if not self.avoid.contains(p):
                return Point(round(p.x, 6), round(p.y, 6))
        p = fallback or within.representative_point()
        return Point(round(p.x, 6), round(p.y, 6))


def short_name(township_name: str) -> str:
    """A township name fit for a site name: development zones drop 管委会 and brackets."""
    return re.sub(r"（.*?）|\(.*?\)|管委会", "", township_name)


def _community_at(point: Point, communities: list[CommunityRecord]) -> CommunityRecord:
    for c in communities:
        if c.geom.contains(point):
            return c
    return min(communities, key=lambda c: c.geom.distance(point))


def build_shelters(p: dict, areas: list[AreaRecord], communities: list[CommunityRecord],
                   zones: list[HazardZoneRecord], seed: int) -> list[ShelterRecord]:
    """About 40 shelters: per county one 中心, a few 固定, several 紧急."""
    sp = p["shelters"]
    names = {a.code: a.name for a in areas}
    townships = {a.code: a for a in areas if a.level == "township"}
    by_township: dict[str, list[CommunityRecord]] = defaultdict(list)
    for c in communities:
        by_township[c.township_code].append(c)
    pop = {code: sum(c.population for c in cs) for code, cs in by_township.items()}
    avoid = [z for z in zones if z.kind == "flood_prone" and z.level >= 2]
    out: list[ShelterRecord] = []
    for county in p["counties"]:
        cc = county["code"]
        rng = stream(seed, "shelters", cc)
        sites = _Sites(avoid, rng)
        plan = sp["per_county"][cc]
        seat_code = county["seat_townships"][0]
        rural = sorted((t for t in townships.values() if t.parent_code == cc
                        and t.code[6] in "12" and t.code != seat_code),
                       key=lambda t: -pop[t.code])
        urban = [townships[c] for c in county["seat_townships"] if c in townships]
        fixed_towns = rural[:plan["fixed"]]
        # Emergency shelters: one in the county seat's core, the rest in the next towns.
        emergency_towns = urban[1:2] + rural[plan["fixed"]:plan["fixed"] + plan["emergency"]]
        emergency_towns = emergency_towns[:plan["emergency"]]
        specs = ([("central", townships[seat_code])] + [("fixed", t) for t in fixed_towns]
                 + [("emergency", t) for t in emergency_towns])
        for number, (kind, town) in enumerate(specs, start=1):
            members = by_township[town.code]
            if kind == "central":
                centre, radius = Point(county["seat"]), (0.5, 2.0)
            else:
                biggest = max(members, key=lambda c: c.population)
                centre, radius = biggest.point, (0.2, 1.0)
            point = sites.near(centre, town.geom, radius)
            community = _community_at(point, members)
            lo, hi = sp["effective_area_m2"][kind]
            area = float(round(rng.uniform(lo, hi), -2))
            capacity = math.floor(area / sp["area_per_person_m2"])
            venue_list = sp[f"{kind}_venues"]
            venue = venue_list[int(rng.integers(len(venue_list)))]
            night = (math.floor(capacity * sp["night_share_open_air"])
                     if venue in sp["open_air_venues"] else capacity)
            if kind == "central":
                owner = "宿州市" if cc == "341302" else county["name"]
                name = f"{owner}{venue}中心避难场所"
            elif kind == "fixed":
                name = f"{short_name(town.name)}{venue}固定避难场所"
            else:
                name = f"{short_name(town.name)}{venue}应急避难场所"
            out.append(ShelterRecord(
                code=f"SH{cc}{number:03d}", name=name, kind=kind,
                shelter_class=KIND_CLASS[kind],
                level="municipal" if kind == "central" and cc == "341302" else "county",
                capacity=capacity, capacity_day=capacity, capacity_night=night,
                area_m2=area, facilities=_facilities(kind, capacity), county_code=cc,
                community_code=community.code,
                address=f"安徽省宿州市{names[cc]}{town.name}{community.name}",
                point=point,
            ))
    return out


def _facilities(kind: str, capacity: int) -> dict:
    """The shared format's facilities: water, power and medical flags and a toilet count."""
    # Sphere: at most 20 people per toilet where people stay; emergency sites are short-stay.
    per_toilet = 20 if kind != "emergency" else 50
    return {"water": True, "power": kind != "emergency", "medical": kind != "emergency",
            "toilets": math.ceil(capacity / per_toilet)}


def build_depots(p: dict, areas: list[AreaRecord], communities: list[CommunityRecord],
                 zones: list[HazardZoneRecord], seed: int) -> list[DepotRecord]:
    """The city reserve, one depot per county and township stores in the largest towns."""
    names = {a.code: a.name for a in areas}
    townships = {a.code: a for a in areas if a.level == "township"}
    counties = {a.code: a for a in areas if a.level == "county"}
    by_township: dict[str, list[CommunityRecord]] = defaultdict(list)
    for c in communities:
        by_township[c.township_code].append(c)
    avoid = [z for z in zones if z.kind == "flood_prone"]
    rng = stream(seed, "depots")
    sites = _Sites(avoid, rng)
    first = p["counties"][0]
    out = [DepotRecord("DP341300", "宿州市救灾物资储备库", "city", first["code"],
                       f"安徽省宿州市{first['name']}",
                       sites.near(Point(first["seat"]), counties[first["code"]].geom, (3.0, 6.0)))]
    for county in p["counties"]:
        cc = county["code"]
        out.append(DepotRecord(f"DP{cc}", f"{county['name']}救灾物资储备库", "county", cc,
                               f"安徽省宿州市{county['name']}",
                               sites.near(Point(county["seat"]), counties[cc].geom, (1.5, 4.0))))
    # Township stores: the most populous towns, taken in turn from each county.
    ranked = {c["code"]: sorted((t for t in townships.values() if t.parent_code == c["code"]
                                 and t.code[6] == "1" and t.code not in c["seat_townships"]),
                                key=lambda t: -sum(x.population for x in by_township[t.code]))
              for c in p["counties"]}
    chosen: list[AreaRecord] = []
    turn = 0
    while len(chosen) < p["depots"]["township_stores"]:
        county = p["counties"][turn % len(p["counties"])]
        candidates = [t for t in ranked[county["code"]] if t not in chosen]
        if candidates:
            chosen.append(candidates[0])
        turn += 1
    for town in chosen:
        biggest = max(by_township[town.code], key=lambda c: c.population)
        point = sites.near(biggest.point, town.geom, (0.2, 1.5))
        out.append(DepotRecord(f"DP{town.code}", f"{town.name}救灾物资储备点", "township",
                               town.parent_code or "",
                               f"安徽省宿州市{names[town.parent_code or '']}{town.name}", point))
    return out


def build_stock(p: dict, depots: list[DepotRecord], items: list[dict], seed: int,
                as_of: dt.date) -> list[StockRecord]:
    """Opening stock per depot: the level's base amounts ±20 %, whole packs, dated lots."""
    catalogue = {i["code"]: i for i in items}
    out: list[StockRecord] = []
    for depot in depots:
        rng = stream(seed, "stock", depot.code)
        for item_code, base in p["depots"]["stock"][depot.level].items():
            item = catalogue[item_code]
            pack = item["pack_size"] or 1
            quantity = max(pack, round(base * rng.uniform(0.8, 1.2) / pack) * pack)
            life = item["shelf_life_days"]
            if life:
                # Two lots of perishables: an older one due to expire within 20–60 days (to be
                # rotated out first) and a fresh one.
                old = (quantity // 3 // pack) * pack
                expiring = as_of + dt.timedelta(days=int(rng.integers(20, 61)))
                fresh_received = as_of - dt.timedelta(days=int(rng.integers(15, life // 3)))
                lots = ((old, expiring - dt.timedelta(days=life)),
                        (quantity - old, fresh_received))
                for part, (qty, received) in enumerate(lots, start=1):
                    if qty <= 0:
                        continue
                    out.append(StockRecord(depot.code, item_code, qty,
                                           f"L{received:%Y%m}-{part}", received,
                                           received + dt.timedelta(days=life)))
            else:
                received = as_of - dt.timedelta(days=int(rng.integers(30, 720)))
                out.append(StockRecord(depot.code, item_code, quantity, "", received, None))
    return out
