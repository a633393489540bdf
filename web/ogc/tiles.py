"""Mapbox Vector Tiles of the communities (OGC API – Tiles, WebMercatorQuad).

PostGIS encodes with ``ST_AsMVT`` (:func:`gis.spatial.communities_mvt`). SpatiaLite has no
encoder: there the geometry cache's polygons are projected, clipped and snapped to the tile
grid with vectorised shapely calls and encoded by the ``mapbox-vector-tile`` library; the
result is kept per tile (both backends) for a minute, or until communities are added or
removed or a warning level changes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.communities import Community
from disaster.warnings.state import community_max_levels
from gis.spatial import communities_mvt
from web.api import geojson
from web.ogc.collections import rows_by_id

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
EARTH_RADIUS = 6378137.0
ORIGIN = math.pi * EARTH_RADIUS  # half the width of the WebMercatorQuad square, metres
TILE_CACHE_SIZE = 512
TILE_TTL = 60.0
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds (metres) of tile ``z/x/y`` (row ``y`` counted from the north)."""
    size = 2 * ORIGIN / 2 ** z
    return (-ORIGIN + x * size, ORIGIN - (y + 1) * size, -ORIGIN + (x + 1) * size, ORIGIN - y * size)


def _to_lonlat(mx: float, my: float) -> tuple[float, float]:
    lon = math.degrees(mx / EARTH_RADIUS)
    lat = math.degrees(2 * math.atan(math.exp(my / EARTH_RADIUS)) - math.pi / 2)
    return lon, lat


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether ``z/x/y`` names a tile of WebMercatorQuad."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z


class TileCache:
    """Encoded tiles by (tile, rows signature, warning levels), each kept ``ttl`` seconds.

    A new or deleted community or a changed warning level makes a new key at once; a name or
    outline edited in place shows within ``ttl`` (the tiles' own ``max-age``). Least recently
    used tiles are dropped beyond ``size``.
    """

    def __init__(self, size: int = TILE_CACHE_SIZE, ttl: float = TILE_TTL) -> None:
        self._tiles: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size
        self.ttl = ttl

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            entry = self._tiles.get(key)
            if entry is None or time.monotonic() - entry[0] > self.ttl:
                return None
            self._tiles.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, data: bytes) -> None:
        with self._lock:
            self._tiles[key] = (time.monotonic(), data)
            while len(self._tiles) > self.size:
                self._tiles.popitem(last=False)


def _tile_cache() -> TileCache:
    return current_app.extensions.setdefault("ogc_tile_cache", TileCache())


def community_tile(session: Session, z: int, x: int, y: int) -> bytes:
    """The MVT of tile ``z/x/y`` of the ``communities`` layer (may be empty bytes)."""
    levels = {code: level.value for code, level in community_max_levels(session).items()}
    signature = tuple(session.execute(select(func.count(Community.id),
                                             func.max(Community.id))).one())
    key = (z, x, y, signature, hash(frozenset(levels.items())))
    cached = _tile_cache().get(key)
    if cached is not None:
        return cached
    data = communities_mvt(session, z, x, y, levels, EXTENT, BUFFER)
    if data is None:  # SpatiaLite: no encoder in the database
        data = encode_layer(session, geojson.cache().layer(session, Community), z, x, y, levels)
    _tile_cache().put(key, data)
    return data


def encode_layer(session: Session, layer: geojson.Layer, z: int, x: int, y: int,
                 levels: dict[str, str]) -> bytes:
    """Encode the communities of ``layer`` meeting tile ``z/x/y`` with the library encoder."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    margin = (maxx - minx) * BUFFER / EXTENT
    west, south = _to_lonlat(minx - margin, miny - margin)
    east, north = _to_lonlat(maxx + margin, maxy + margin)
    positions = geojson.select_ids(layer, (west, south, east, north))
    if not len(positions):
        return b""
    scale = EXTENT / (maxx - minx)

    def to_tile(coords: np.ndarray) -> np.ndarray:
        # lon/lat → Web Mercator metres → tile units with y down (as MVT stores them).
        mx = np.radians(coords[:, 0]) * EARTH_RADIUS
        lat = np.clip(np.radians(coords[:, 1]), -1.4844, 1.4844)
        my = np.log(np.tan(np.pi / 4 + lat / 2)) * EARTH_RADIUS
        return np.column_stack(((mx - minx) * scale, (maxy - my) * scale))

    geoms = shapely.transform(layer.geoms[positions], to_tile)
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    # Snap to the integer grid of the tile (as ST_AsMVTGeom does); slivers below it vanish.
    geoms = shapely.set_precision(geoms, 1.0)
    keep = ~shapely.is_empty(geoms) & np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = shapely.orient_polygons(geoms[keep], exterior_cw=False)
    ids = layer.ids[positions][keep].tolist()
    props: dict[int, dict[str, Any]] = {}
    for row_id, code, name, township, county, population in rows_by_id(
            session, Community, (Community.code, Community.name, Community.township_code,
                                 Community.county_code, Community.population), sorted(ids)):
        props[row_id] = {"code": code, "name": name, "township_code": township,
                         "county_code": county, "population": population}
        if code in levels:
            props[row_id]["warning_level"] = levels[code]
    features = [{"geometry": g, "properties": props[i]}
                for i, g in zip(ids, geoms.tolist(), strict=True) if i in props]
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": "communities", "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": True,
                         "check_winding_order": False})
