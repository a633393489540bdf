"""Reproducible tilings of a polygon into compact, contiguous cells (generated boundaries).

Cells are Voronoi regions of seed points relaxed by Lloyd's algorithm in UTM 50N metres, so
that they are compact and of similar size; the Voronoi edges are then mapped back to lon/lat
and intersected with the ORIGINAL parent polygon. Neighbouring cells therefore share their
edges vertex for vertex, and together they cover the parent exactly.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis.geometry import UTM50N, WGS84

_TO_UTM = Transformer.from_crs(WGS84, UTM50N, always_xy=True)
TO_LONLAT = Transformer.from_crs(UTM50N, WGS84, always_xy=True)


def to_utm(geom: BaseGeometry) -> BaseGeometry:
    """Project a lon/lat geometry to UTM 50N metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Project a UTM 50N geometry back to lon/lat."""
    return shapely.transform(geom, lambda xy: np.column_stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))


def random_points(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` (rejection sampling), shape (n, 2)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(2 * n, 16), 2))
        inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        out.append(inside)
        count += len(inside)
    return np.concatenate(out)[:n]


def _cells(seeds: np.ndarray, polygon: BaseGeometry) -> list[BaseGeometry]:
    # Voronoi regions in seed order, clipped to the parent polygon (same CRS as the seeds).
    envelope = polygon.envelope.buffer(max(polygon.bounds[2] - polygon.bounds[0],
                                           polygon.bounds[3] - polygon.bounds[1]))
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=envelope, ordered=True)
    return list(shapely.intersection(np.asarray(regions.geoms, dtype=object), polygon))


def relax(polygon_m: BaseGeometry, seeds: np.ndarray, iterations: int,
          fixed: int = 0) -> np.ndarray:
    """Lloyd relaxation in metres: move each seed to the centroid of its cell.

    The first ``fixed`` seeds stay where they are (real places such as a county seat).
    """
    seeds = seeds.copy()
    for _ in range(iterations):
        cells = _cells(seeds, polygon_m)
        for i, cell in enumerate(cells):
            if i < fixed or cell.is_empty:
                continue
            c = cell.centroid
            if not cell.contains(c):
                c = cell.point_on_surface()
            seeds[i] = (c.x, c.y)
    return seeds


def tile(parent: BaseGeometry, n: int, rng: np.random.Generator, *,
         seeds_lonlat: np.ndarray | None = None, fixed: int = 0,
         iterations: int = 6) -> list[MultiPolygon]:
    """Split a lon/lat polygon into ``n`` contiguous cells that cover it exactly.

    Parameters
    ----------
    parent
        Polygon or MultiPolygon in lon/lat.
    n
        Number of cells.
    seeds_lonlat
        Optional starting seeds (lon/lat, at least ``n`` rows); random otherwise.
    fixed
        How many leading seeds Lloyd's relaxation keeps in place.

    Returns
    -------
    list of MultiPolygon
        Cells in seed order; each is one polygon (detached fragments are merged into the
        neighbour they share most boundary with).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if n == 1:
        return [_as_multi(parent)]
    parent_m = to_utm(parent)
    if seeds_lonlat is None:
        seeds = random_points(parent_m, n, rng)
    else:
        seeds = np.column_stack(_TO_UTM.transform(seeds_lonlat[:n, 0], seeds_lonlat[:n, 1]))
    seeds = relax(parent_m, seeds, iterations, fixed)
    # Voronoi in metres, edges mapped to lon/lat, clipped by the original parent.
    envelope = parent_m.envelope.buffer(max(parent_m.bounds[2] - parent_m.bounds[0],
                                            parent_m.bounds[3] - parent_m.bounds[1]))
    regions = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=envelope, ordered=True)
    regions_ll = [to_lonlat(r) for r in regions.geoms]
    cells = list(shapely.intersection(np.asarray(regions_ll, dtype=object), parent))
    return [_as_multi(c) for c in _merge_fragments(cells)]


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and g.area > 0]


def _merge_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Keep each cell's largest part and hand every other part to its best neighbour.

    Clipping a convex Voronoi region by a non-convex parent can leave detached pieces; a
    generated village made of two islands would look wrong on a map.
    """
    main = []
    loose: list[Polygon] = []
    for cell in cells:
        parts = sorted(_polygons(cell), key=lambda p: p.area, reverse=True)
        if not parts:
            main.append(Polygon())
            continue
        main.append(parts[0])
        loose.extend(parts[1:])
    # Largest fragments first, so that small ones can attach to an enlarged neighbour.
    for piece in sorted(loose, key=lambda p: p.area, reverse=True):
        shared = [piece.boundary.intersection(m.boundary).length if not m.is_empty else 0.0
                  for m in main]
        best = int(np.argmax(shared))
        if shared[best] <= 0:
            best = int(np.argmin([piece.distance(m) if not m.is_empty else np.inf for m in main]))
        merged = shapely.union(main[best], piece)
        parts = sorted(_polygons(merged), key=lambda p: p.area, reverse=True)
        main[best] = parts[0] if len(parts) == 1 else merged
    return main


def _as_multi(geom: BaseGeometry) -> MultiPolygon:
    parts = _polygons(geom)
    return MultiPolygon(parts)
