"""Shares of each community's area inside hazard zones, by kind and by the highest level.

Shares are ratios of areas inside one community, so they are taken in lon/lat: the scale factor
of a degree barely changes across one community and cancels out in the ratio. Distances
elsewhere are never taken in degrees.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

LEVELS = (1, 2, 3)
# Kinds standing for low-lying ground: where water collects is where the land is low.
LOW_LYING_KINDS = ("flood_prone", "waterlogging")


@dataclass
class HazardShares:
    """``by_kind[kind]`` is an (n, 3) array: share of each community whose highest covering
    zone of that kind has level 1, 2, 3 (rows sum to at most 1). ``low_lying`` is the share
    inside any flood-prone or waterlogging zone."""

    n: int
    by_kind: dict[str, np.ndarray] = field(default_factory=dict)
    low_lying: np.ndarray | None = None

    def kind(self, kind: str) -> np.ndarray:
        """The (n, 3) level shares of ``kind`` (zeros when there is no such zone)."""
        return self.by_kind.get(kind, np.zeros((self.n, 3)))

    def any_share(self, kind: str) -> np.ndarray:
        """Share of each community inside any zone of ``kind``."""
        return self.kind(kind).sum(axis=1)

    def scored(self, kind: str, level_scores: Sequence[float]) -> np.ndarray:
        """Σ share at level L × score of L: 0 outside zones, 1 wholly inside a top-level zone."""
        return self.kind(kind) @ np.asarray(level_scores, dtype=float)

    def geohazard_kinds(self) -> list[str]:
        return [k for k in self.by_kind if k not in LOW_LYING_KINDS]


def zone_faces(zones: np.ndarray, kinds: np.ndarray,
               levels: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Split the hazard zones into faces that no zone boundary crosses.

    Returns the faces and, per kind, the highest level of the zones covering each face (0:
    none). Overlaps are resolved once here, so one pass over the communities gives every
    kind and level at once.
    """
    rings = shapely.get_parts(shapely.boundary(zones))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(rings))))
    faces = faces[shapely.area(faces) > 0] if faces.size else faces
    points = shapely.point_on_surface(faces)
    face_idx, zone_idx = shapely.STRtree(zones).query(points, predicate="within")
    attrs: dict[str, np.ndarray] = {}
    for kind in sorted(set(kinds.tolist())):
        level = np.zeros(faces.size, dtype=np.int64)
        mask = kinds[zone_idx] == kind
        np.maximum.at(level, face_idx[mask], levels[zone_idx[mask]])
        attrs[kind] = level
    covered = np.zeros(faces.size, dtype=bool)
    for level in attrs.values():
        covered |= level > 0
    return faces[covered], {k: v[covered] for k, v in attrs.items()}


def dice(faces: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut faces along a ``cells`` × ``cells`` grid: ``(pieces, index of their face)``.

    Intersecting a small community with a long river corridor costs time in proportion to the
    corridor; with the pieces, each community meets only the few small ones nearby.
    """
    if faces.size == 0 or cells <= 1:
        return faces, np.arange(faces.size)
    minx, miny, maxx, maxy = shapely.total_bounds(faces)
    xs = np.linspace(minx, maxx, cells + 1)
    ys = np.linspace(miny, maxy, cells + 1)
    bounds = shapely.bounds(faces)
    pieces, owners = [], []
    for i in range(cells):
        for j in range(cells):
            near = np.flatnonzero((bounds[:, 0] <= xs[i + 1]) & (bounds[:, 2] >= xs[i])
                                  & (bounds[:, 1] <= ys[j + 1]) & (bounds[:, 3] >= ys[j]))
            if near.size == 0:
                continue
            cut = shapely.clip_by_rect(faces[near], xs[i], ys[j], xs[i + 1], ys[j + 1])
            keep = ~shapely.is_empty(cut) & (shapely.area(cut) > 0)
            pieces.append(cut[keep])
            owners.append(near[keep])
    if not pieces:
        return faces[:0], np.zeros(0, dtype=np.int64)
    return np.concatenate(pieces), np.concatenate(owners)


def hazard_shares(communities: Sequence[BaseGeometry] | np.ndarray,
                  zones: Sequence[BaseGeometry] | np.ndarray,
                  kinds: Sequence[str], levels: Sequence[int]) -> HazardShares:
    """Overlay community polygons with hazard zones.

    Parameters
    ----------
    communities
        Community polygons (EPSG:4326); ``None`` entries get zero shares.
    zones, kinds, levels
        Hazard zone polygons with their kind (``flood_prone``…) and level 1..3.
    """
    geoms = np.asarray(communities, dtype=object)
    n = len(geoms)
    result = HazardShares(n=n, low_lying=np.zeros(n))
    zones_arr = np.array([*list(zones), None], dtype=object)[:-1]
    kinds_arr = np.asarray([str(k) for k in kinds], dtype=object)
    levels_arr = np.clip(np.asarray(levels, dtype=np.int64), 1, 3) if len(levels) else \
        np.zeros(0, np.int64)
    valid = np.array([z is not None and not z.is_empty for z in zones_arr], dtype=bool)
    for kind in sorted(set(kinds_arr.tolist())):
        result.by_kind[kind] = np.zeros((n, 3))
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if n == 0 or not valid.any() or not present.any():
        return result
    faces, attrs = zone_faces(zones_arr[valid], kinds_arr[valid], levels_arr[valid])
    if faces.size == 0:
        return result
    # A few hundred vertices per piece keeps each intersection cheap.
    cells = int(np.clip(np.sqrt(shapely.get_num_coordinates(faces).sum() / 300.0), 1, 32))
    pieces, owner = dice(faces, cells)
    rows = np.flatnonzero(present)
    comm = geoms[rows]
    areas = shapely.area(comm)
    c_idx, p_idx = shapely.STRtree(pieces).query(comm, predicate="intersects")
    shapely.prepare(pieces)
    inside = shapely.contains_properly(pieces[p_idx], comm[c_idx])
    cut = np.where(inside, areas[c_idx], 0.0)
    partial = ~inside
    if partial.any():
        cut[partial] = shapely.area(shapely.intersection(comm[c_idx[partial]],
                                                         pieces[p_idx[partial]]))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(areas[c_idx] > 0, cut / areas[c_idx], 0.0)
    m = rows.size
    low = np.zeros(pieces.size, dtype=bool)
    for kind, face_level in attrs.items():
        piece_level = face_level[owner][p_idx]
        exact = np.zeros((n, 3))
        for level in (1, 2, 3):
            sel = piece_level == level
            exact[rows, level - 1] = np.bincount(c_idx[sel], weights=share[sel], minlength=m)
        result.by_kind[kind] = np.clip(exact, 0.0, 1.0)
        if kind in LOW_LYING_KINDS:
            low |= face_level[owner] > 0
    sel = low[p_idx]
    result.low_lying[rows] = np.clip(np.bincount(c_idx[sel], weights=share[sel], minlength=m),
                                     0.0, 1.0)
    return result


_CACHE: OrderedDict[bytes, HazardShares] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _digest(communities: np.ndarray, zones: np.ndarray, kinds: Sequence[str],
            levels: Sequence[int]) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for arr in (communities, zones):
        present = np.array([g is not None for g in arr], dtype=bool)
        h.update(present.tobytes())
        h.update(b"".join(shapely.to_wkb(arr[present])) if present.any() else b"")
        h.update(b"|")
    h.update(repr((list(map(str, kinds)), list(map(int, levels)))).encode())
    return h.digest()


def cached_hazard_shares(communities: Sequence[BaseGeometry] | np.ndarray,
                         zones: Sequence[BaseGeometry] | np.ndarray,
                         kinds: Sequence[str], levels: Sequence[int]) -> HazardShares:
    """:func:`hazard_shares`, remembered per process and keyed by the geometries themselves.

    Communities and hazard zones change rarely while the index and the assessment are asked
    for often: the key is a hash of every polygon's WKB with the kinds and levels, so any edit
    gives a new key and a stale overlay is never served (DESIGN.md §3: caches keyed by the
    data's version).
    """
    geoms = np.asarray(communities, dtype=object)
    zone_arr = np.array([*list(zones), None], dtype=object)[:-1]
    key = _digest(geoms, zone_arr, kinds, levels)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    shares = hazard_shares(geoms, zone_arr, kinds, levels)
    with _CACHE_LOCK:
        _CACHE[key] = shares
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return shares
