"""GeoJSON layers for the console: geometry cached in memory, simplified for the zoom level.

DESIGN.md §3: the database is the system of record, hot spatial work runs in memory on shapely
2. Polygons of a table are read once (WKB → shapely arrays) and kept per process, keyed by the
table's signature (row count and highest id) and re-read at least every ``TTL`` seconds; the
simplified GeoJSON text of each geometry is cached per tolerance. Properties are always read
fresh, so names, populations and warning levels are never stale.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from flask import Flask, Response, current_app, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.errors import ValidationError

log = logging.getLogger(__name__)

TTL = 120.0
MAX_ZOOM = 20
# Tolerance = this share of one screen pixel at the requested zoom (Web Mercator, 256 px tiles).
PIXEL_SHARE = 0.7


@dataclass
class Layer:
    """The geometries of one table at one signature, and their simplified GeoJSON texts."""

    signature: tuple
    loaded_at: float
    ids: np.ndarray
    geoms: np.ndarray
    bounds: np.ndarray  # (n, 4): minx, miny, maxx, maxy
    by_tolerance: dict[float, np.ndarray] = field(default_factory=dict)


class GeometryCache:
    """Per-process cache of table geometries (thread-safe; one per app).

    Parameters
    ----------
    sessions
        A session factory for refreshing a layer in the background; without one a layer
        past its ``TTL`` is re-read in the request that finds it so.
    """

    def __init__(self, sessions: Callable[[], Session] | None = None) -> None:
        self._layers: dict[str, Layer] = {}
        self._lock = threading.Lock()
        self._sessions = sessions
        self._refreshing: set[str] = set()
        # A worker forked while a warming or refreshing thread held the lock (gunicorn
        # --preload) would inherit it locked, with no thread left to release it.
        ref = weakref.ref(self)

        def in_child() -> None:
            alive = ref()
            if alive is not None:
                alive._lock = threading.Lock()
                alive._refreshing = set()

        os.register_at_fork(after_in_child=in_child)

    def layer(self, session: Session, model: Any) -> Layer:
        """The current :class:`Layer` of ``model``.

        The signature (row count, highest id: two index reads) is checked on every call, so
        added or deleted rows show at once. Geometry edited in place shows within ``TTL``:
        a layer past it is still served while a background thread re-reads it, so that no
        request (a console waiting to draw 20,000 polygons) waits for the re-read.
        """
        name = model.__tablename__
        signature = self._signature(session, model)
        with self._lock:
            cached = self._layers.get(name)
        if cached is not None and cached.signature == signature:
            if time.monotonic() - cached.loaded_at >= TTL:
                if self._sessions is None:
                    return self._load(session, model, signature)
                self._refresh_in_background(model)
            return cached
        return self._load(session, model, signature)

    @staticmethod
    def _signature(session: Session, model: Any) -> tuple:
        return tuple(session.execute(select(func.count(model.id), func.max(model.id))).one())

    def _load(self, session: Session, model: Any, signature: tuple) -> Layer:
        now = time.monotonic()
        rows = session.execute(select(model.id, model.geom).where(model.geom.is_not(None))).all()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        geoms = shapely.from_wkb([_wkb(r[1]) for r in rows]) if rows else np.empty(0, object)
        bounds = shapely.bounds(geoms) if rows else np.empty((0, 4))
        layer = Layer(signature, now, ids, geoms, bounds)
        with self._lock:
            self._layers[model.__tablename__] = layer
        return layer

    def _refresh_in_background(self, model: Any) -> None:
        name = model.__tablename__
        with self._lock:
            if name in self._refreshing:
                return
            self._refreshing.add(name)

        def refresh() -> None:
            try:
                assert self._sessions is not None
                with self._sessions() as session:
                    self._load(session, model, self._signature(session, model))
            except Exception:
                # The stale layer stays in place; the next request past the TTL retries.
                log.exception("refreshing the %s geometry cache failed", name)
            finally:
                with self._lock:
                    self._refreshing.discard(name)

        threading.Thread(target=refresh, name=f"geometry-cache-{name}", daemon=True).start()

    def warm(self, session: Session, model: Any, zooms: Iterable[int] = ()) -> Layer:
        """Load ``model``'s layer and its GeoJSON texts simplified for ``zooms`` now."""
        layer = self.layer(session, model)
        everything = np.arange(len(layer.ids))
        for zoom in zooms:
            geometry_texts(layer, everything, zoom_tolerance(zoom))
        return layer

    def clear(self) -> None:
        with self._lock:
            self._layers.clear()


def _wkb(element: Any) -> bytes | str | None:
    """WKB bytes (PostGIS) or hex text (SpatiaLite) of a geoalchemy2 element; shapely reads both."""
    if element is None:
        return None
    data = element.data
    return data if isinstance(data, str) else bytes(data)


def cache() -> GeometryCache:
    """The app's geometry cache."""
    found = current_app.extensions.get("geometry_cache")
    if found is None:
        sessions = current_app.extensions["disaster_runtime"].sessions
        found = current_app.extensions.setdefault("geometry_cache", GeometryCache(sessions))
    return found


# The zoom levels a console opens at: a county (about 9–10) to a province (about 6–7) on
# screens from a laptop to a wall display.
WARM_ZOOMS = (6, 7, 8, 9, 10)


def warm_in_background(app: Flask, zooms: Iterable[int] = WARM_ZOOMS) -> threading.Thread:
    """Fill the geometry cache of outlines and communities in a daemon thread.

    A server calls this as it starts, so that the first console to open does not wait for
    20,000 polygons to be read and simplified (about 1.5 s on two cores).
    """
    from disaster.areas import Area
    from disaster.communities import Community

    def warm() -> None:
        try:
            with app.app_context():
                geometry_cache = cache()
                with app.extensions["disaster_runtime"].sessions() as session:
                    geometry_cache.warm(session, Area, zooms)
                    geometry_cache.warm(session, Community, zooms)
        except Exception:
            # A cold cache is only slower, never wrong: log and let requests fill it.
            log.exception("warming the geometry cache failed")

    thread = threading.Thread(target=warm, name="geometry-cache-warm", daemon=True)
    thread.start()
    return thread


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees, or ``None``; 422 naming ``bbox`` when malformed."""
    if not value:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(v) for v in parts):
        raise ValidationError("bbox must be west,south,east,north in degrees",
                              fields={"bbox": ["expected four numbers west,south,east,north"]})
    w, s, e, n = parts
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise ValidationError("bbox is not a valid lon/lat box",
                              fields={"bbox": ["need -180 ≤ west < east ≤ 180 and "
                                               "-90 ≤ south < north ≤ 90"]})
    return w, s, e, n


def tolerance_from_request() -> float:
    """Simplification tolerance in degrees from ``simplify`` (degrees) or ``zoom`` (0–20)."""
    simplify, zoom = request.args.get("simplify"), request.args.get("zoom")
    if simplify not in (None, ""):
        try:
            tol = float(simplify)
        except ValueError:
            tol = -1.0
        if not (0 <= tol <= 1) or not math.isfinite(tol):
            raise ValidationError("simplify must be a tolerance in degrees between 0 and 1",
                                  fields={"simplify": ["expected a number from 0 to 1"]})
        return tol
    if zoom not in (None, ""):
        try:
            z = int(zoom)
        except ValueError:
            z = -1
        if not 0 <= z <= MAX_ZOOM:
            raise ValidationError(f"zoom must be an integer from 0 to {MAX_ZOOM}",
                                  fields={"zoom": [f"expected 0–{MAX_ZOOM}"]})
        return zoom_tolerance(z)
    return 0.0


def zoom_tolerance(zoom: int) -> float:
    """Degrees per screen pixel at ``zoom`` (at the equator, so a safe upper bound), times a share."""
    return PIXEL_SHARE * 360.0 / (256 * 2 ** zoom)


def _decimals(tolerance: float) -> int:
    # A grid finer than the tolerance (itself under a pixel); 6 (≈0.1 m) when not simplifying.
    if tolerance <= 0:
        return 6
    return int(min(6, max(3, math.ceil(-math.log10(tolerance)))))


def geometry_texts(layer: Layer, index: np.ndarray, tolerance: float) -> np.ndarray:
    """GeoJSON geometry strings of ``layer.geoms[index]`` simplified to ``tolerance`` (cached)."""
    key = round(tolerance, 9)
    texts = layer.by_tolerance.get(key)
    if texts is None:
        texts = np.empty(len(layer.geoms), dtype=object)
        layer.by_tolerance[key] = texts
    todo = index[np.fromiter((t is None for t in texts[index]), dtype=bool, count=len(index))]
    if len(todo):
        geoms = layer.geoms[todo]
        if tolerance > 0:
            simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
            # A polygon smaller than the tolerance may vanish: keep the original then.
            empty = shapely.is_empty(simplified)
            simplified[empty] = geoms[empty]
            geoms = simplified
        grid = 10.0 ** -_decimals(tolerance)
        geoms = shapely.set_precision(geoms, grid, mode="pointwise")
        texts[todo] = shapely.to_geojson(geoms)
    return texts[index]


def select_ids(layer: Layer, bbox: tuple[float, float, float, float] | None,
               ids: Iterable[int] | None = None) -> np.ndarray:
    """Positions in ``layer`` of the geometries meeting ``bbox`` (and among ``ids``)."""
    mask = np.ones(len(layer.ids), dtype=bool)
    if bbox is not None:
        w, s, e, n = bbox
        b = layer.bounds
        mask &= (b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s)
    if ids is not None:
        mask &= np.isin(layer.ids, np.fromiter(ids, dtype=np.int64))
    return np.flatnonzero(mask)


_GEOMETRY_SLOT = re.compile(r'"geometry":"@@(\d+)@@"')


def feature_collection(layer: Layer, positions: np.ndarray, tolerance: float,
                       properties: dict[int, dict[str, Any]]) -> Response:
    """A GeoJSON FeatureCollection response, written as text without re-parsing geometries.

    One C-speed ``json.dumps`` writes every feature with a numbered slot for its geometry,
    then the cached geometry texts fill the slots. A slot cannot be forged by stored text:
    a quote inside a name is escaped, so ``"geometry":"`` only ever comes from here.
    """
    texts = geometry_texts(layer, positions, tolerance).tolist()
    features = []
    slots = []
    for row_id, text in zip(layer.ids[positions].tolist(), texts, strict=True):
        props = properties.get(row_id)
        if props is None:
            continue
        features.append({"type": "Feature", "geometry": f"@@{len(slots)}@@",
                         "properties": props})
        slots.append(text)
    body = json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":"))
    body = _GEOMETRY_SLOT.sub(lambda m: '"geometry":' + slots[int(m.group(1))], body)
    return Response(body, mimetype="application/geo+json")


def point_collection(rows: Sequence[tuple[Any, dict[str, Any]]]) -> Response:
    """GeoJSON of point rows ``(wkb_element | None, properties)``."""
    geoms = shapely.from_wkb([_wkb(g) for g, _ in rows])
    features = []
    for geom, (_, props) in zip(geoms, rows, strict=True):
        geometry = None if geom is None else {"type": "Point",
                                              "coordinates": [round(geom.x, 6), round(geom.y, 6)]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    body = json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, separators=(",", ":"))
    return Response(body, mimetype="application/geo+json")
