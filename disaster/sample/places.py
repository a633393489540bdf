"""Generated townships and communities inside the real county outlines.

Townships: each county is split into an urban core (a disc around the real county seat,
shared by the seat township, the urban streets and development zones) and the rest, each
tiled by :func:`disaster.sample.tiling.tile`. Communities tile their township. Populations
are drawn per community and then scaled so that every county adds up to its census figure
exactly (largest-remainder rounding); households are population / 2.74.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point

from disaster.sample.inputs import Township
from disaster.sample.records import AreaRecord, CommunityRecord
from disaster.sample.tiling import random_points, tile, to_lonlat, to_utm
from gis.geometry import area_km2

GENERATED_TOWNSHIP = "generated: polygon tiling the real county outline (名称与代码为真实)"
GENERATED_COMMUNITY = "generated"


def stream(seed: int, *keys: str) -> np.random.Generator:
    """An independent random stream per (seed, purpose): one stage never shifts another."""
    words = [int.from_bytes(hashlib.sha256(k.encode()).digest()[:4], "little") for k in keys]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))


def allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), each
    at least ``minimum``; the parts always add up to ``total`` exactly."""
    w = np.asarray(weights, dtype=float)
    spare = total - minimum * len(w)
    if spare < 0 or w.sum() <= 0:
        raise ValueError("cannot allocate: total below the minimum or no positive weight")
    raw = spare * w / w.sum()
    parts = np.floor(raw).astype(int)
    short = spare - int(parts.sum())
    order = np.argsort(-(raw - parts), kind="stable")
    if short >= 0:
        parts[order[:short]] += 1
    else:  # floating-point error made floor() overshoot: take back from the smallest remainders
        for i in [j for j in order[::-1] if parts[j] > 0][:-short]:
            parts[i] -= 1
    return [int(p) + minimum for p in parts]


def townships_for_county(county_code: str, outline: MultiPolygon, towns: list[Township],
                         county: dict, seed: int) -> dict[str, MultiPolygon]:
    """Township polygons tiling ``outline``: seat townships in the core, others around it."""
    seat_codes = [c for c in county["seat_townships"] if any(t.code == c for t in towns)]
    rest = [t.code for t in towns if t.code not in seat_codes]
    seat = Point(county["seat"])
    disc = to_lonlat(to_utm(seat).buffer(county["core_radius_km"] * 1000.0, quad_segs=16))
    core = shapely.intersection(outline, disc)
    outer = shapely.difference(outline, core)
    rng = stream(seed, "townships", county_code)
    out: dict[str, MultiPolygon] = {}
    # The first seat township keeps the real county seat as its (fixed) seed.
    seeds = np.vstack([[seat.x, seat.y], random_points(core, len(seat_codes), rng)])
    for code, cell in zip(seat_codes, tile(core, len(seat_codes), rng, seeds_lonlat=seeds,
                                           fixed=1), strict=True):
        out[code] = cell
    for code, cell in zip(rest, tile(outer, len(rest), rng), strict=True):
        out[code] = cell
    return out


def community_counts(towns: list[Township], polygons: dict[str, MultiPolygon], county: dict,
                     p: dict, rng: np.random.Generator) -> dict[str, tuple[int, int]]:
    """(urban communities, villages) per township; the county total is ``county['communities']``."""
    cp = p["community"]
    seat_town = county["seat_townships"][0]
    urban: dict[str, int] = {}
    villages_min: dict[str, int] = {}
    for t in towns:
        if t.kind == "street":
            urban[t.code], villages_min[t.code] = int(rng.integers(*cp["urban_per_street"],
                                                                   endpoint=True)), 0
        elif t.kind == "zone":
            urban[t.code], villages_min[t.code] = int(rng.integers(*cp["urban_per_zone"],
                                                                   endpoint=True)), 2
        elif t.code == seat_town:
            urban[t.code] = int(rng.integers(*cp["urban_per_seat_town"], endpoint=True))
            villages_min[t.code] = cp["min_villages_per_township"]
        else:
            urban[t.code], villages_min[t.code] = 0, cp["min_villages_per_township"]
    rural = [t.code for t in towns if t.kind in ("town", "xiang")]
    fixed_villages = sum(villages_min[c] for c in villages_min if c not in rural)
    spare = county["communities"] - sum(urban.values()) - fixed_villages
    weights = [area_km2(polygons[c]) for c in rural]
    per_rural = allocate(spare, weights, minimum=cp["min_villages_per_township"])
    villages = dict(villages_min) | dict(zip(rural, per_rural, strict=True))
    return {t.code: (urban[t.code], villages[t.code]) for t in towns}


class _Names:
    """Plausible, unique-within-township names for communities (generated)."""

    def __init__(self, names: dict, rng: np.random.Generator) -> None:
        self.n = names
        self.rng = rng

    def _pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def urban(self, used: set[str]) -> str:
        for _ in range(200):
            name = self._pick(self.n["urban_words"]) + "社区"
            if name not in used:
                return name
        return f"第{len(used) + 1}社区"

    def village(self, used: set[str]) -> str:
        for _ in range(200):
            if self.rng.random() < 0.7:
                name = self._pick(self.n["surnames"]) + self._pick(self.n["village_suffixes"]) + "村"
            else:
                name = self._pick(self.n["village_words"]) + "村"
            if name not in used:
                return name
        return f"第{len(used) + 1}村"


def communities_for_county(county_code: str, towns: list[Township],
                           polygons: dict[str, MultiPolygon], county: dict, p: dict,
                           seed: int) -> list[CommunityRecord]:
    """The communities of one county, tiling each township, with census-exact population."""
    rng = stream(seed, "communities", county_code)
    counts = community_counts(towns, polygons, county, p, rng)
    names = _Names(p["names"], stream(seed, "community-names", county_code))
    seat = Point(county["seat"])
    cells: list[tuple[Township, MultiPolygon, bool]] = []
    for t in towns:
        n_urban, n_villages = counts[t.code]
        parts = tile(polygons[t.code], n_urban + n_villages, stream(seed, "tiling", t.code))
        reps = [c.representative_point() for c in parts]
        # Urban communities are the cells nearest the town centre (the county seat for the
        # seat township), villages the rest.
        centre = seat if t.code in county["seat_townships"] else polygons[t.code].centroid
        order = np.argsort([r.distance(centre) for r in reps], kind="stable")
        urban_idx = set(order[:n_urban].tolist())
        cells.extend((t, parts[i], i in urban_idx) for i in range(len(parts)))

    cp = p["community"]
    sigma = cp["lognormal_sigma"]
    areas = np.array([area_km2(c) for _, c, _ in cells])
    is_urban = np.array([u for _, _, u in cells])
    noise = rng.lognormal(0.0, sigma, size=len(cells))
    urban_total = round(county["population"] * county["urban_share"])
    pops = np.zeros(len(cells), dtype=int)
    if is_urban.any():
        pops[is_urban] = allocate(urban_total, noise[is_urban], minimum=800)
    else:
        urban_total = 0
    rural_weight = np.sqrt(areas[~is_urban]) * noise[~is_urban]
    pops[~is_urban] = allocate(county["population"] - urban_total, rural_weight, minimum=300)

    per_household = p["city"]["people_per_household"]
    out: list[CommunityRecord] = []
    numbering: dict[str, list[int]] = {}
    used: dict[str, set[str]] = {}
    for (t, cell, urban), pop in zip(cells, pops, strict=True):
        nums = numbering.setdefault(t.code, [0, 200])
        names_used = used.setdefault(t.code, set())
        # 统计用区划代码: 居委会 (communities) 001–199, 村委会 (villages) 200–399.
        if urban:
            nums[0] += 1
            code, name = f"{t.code}{nums[0]:03d}", names.urban(names_used)
        else:
            nums[1] += 1
            code, name = f"{t.code}{nums[1]:03d}", names.village(names_used)
        names_used.add(name)
        kind = "urban" if urban else "rural"
        rates = {k: max(0.0, rng.normal(cp[f"{k}_rate"][kind], cp[f"{k}_rate"]["spread"]))
                 for k in ("elderly", "children", "disabled")}
        lo, hi = cp["farmland_share"][kind]
        centroid = cell.centroid
        point = centroid if cell.contains(centroid) else cell.representative_point()
        out.append(CommunityRecord(
            code=code, name=name, township_code=t.code, county_code=county_code,
            population=int(pop), households=max(1, round(int(pop) / per_household)),
            elderly=round(pop * rates["elderly"]), children=round(pop * rates["children"]),
            disabled=round(pop * rates["disabled"]),
            farmland_share=round(float(rng.uniform(lo, hi)), 3), urban=bool(urban),
            geom=cell, point=Point(round(point.x, 6), round(point.y, 6)),
        ))
    out.sort(key=lambda c: c.code)
    return out


def build_areas(outlines: dict[str, MultiPolygon], towns: list[Township], p: dict, seed: int,
                source: str) -> tuple[list[AreaRecord], list[CommunityRecord]]:
    """City, counties, townships (generated shapes) and communities (generated)."""
    city = p["city"]
    # The city carries the sum of the county figures (published rounded to hundreds), so that
    # every level adds up; the census's exact 5,324,476 stays in data/suzhou_sample.json.
    total = sum(c["population"] for c in p["counties"])
    areas = [AreaRecord(city["code"], city["name"], "city", None, total,
                        _multi(shapely.union_all(list(outlines.values()))), False, source)]
    communities: list[CommunityRecord] = []
    township_areas: list[AreaRecord] = []
    for county in p["counties"]:
        code = county["code"]
        areas.append(AreaRecord(code, county["name"], "county", city["code"],
                                county["population"], outlines[code], False, source))
        county_towns = [t for t in towns if t.county_code == code]
        polygons = townships_for_county(code, outlines[code], county_towns, county, seed)
        county_communities = communities_for_county(code, county_towns, polygons, county, p, seed)
        communities.extend(county_communities)
        for t in county_towns:
            pop = sum(c.population for c in county_communities if c.township_code == t.code)
            township_areas.append(AreaRecord(t.code, t.name, "township", code, pop,
                                             polygons[t.code], True, GENERATED_TOWNSHIP))
    return areas + township_areas, communities


def _multi(geom: shapely.Geometry) -> MultiPolygon:
    return MultiPolygon([g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"])
