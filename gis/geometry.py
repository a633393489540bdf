"""Geometry helpers: CRS normalisation to EPSG:4326, validity, distances never in degrees."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as PyprojCRSError
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.errors import CRSError, InvalidGeometry
from gis.messages import Message, msg

WGS84 = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)
# UTM zone 50N covers 宿州 (116.4°–118.2° E); distances and buffers are computed there.
UTM50N = CRS.from_epsg(32650)
# Plausible lon/lat extent of China (with a margin) for input that declares no CRS.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
GCJ02_NAMES = {"gcj02", "gcj-02", "gcj_02", "gcj"}
EARTH_RADIUS_KM = 6371.0088


def parse_crs(value: str | int | CRS | None) -> CRS | None:
    """Parse a user-given CRS (``EPSG:4490``, ``4326``, WKT…); GCJ-02 is refused by name."""
    if value is None or value == "":
        return None
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.lower().replace(" ", "") in GCJ02_NAMES:
        raise CRSError(
            msg("GCJ-02 coordinates are offset by design and are not accepted; convert them to "
                "WGS 84 or CGCS2000 first (disaster import ... --from-gcj02 does this explicitly)"),
            fields={"crs": [msg("GCJ-02 not accepted")]},
        )
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except PyprojCRSError as exc:
        unknown = msg("unknown CRS %(crs)s", crs=text)
        raise CRSError(unknown, fields={"crs": [unknown]}) from exc


def is_geographic_equivalent(crs: CRS) -> bool:
    """EPSG:4326 and CGCS2000 differ by centimetres: both are taken as lon/lat without transform."""
    return crs.equals(WGS84, ignore_axis_order=True) or crs.equals(
        CGCS2000, ignore_axis_order=True
    )


def check_plausible_lonlat(bounds: Sequence[float], source: str = "input") -> None:
    """Refuse coordinates without a CRS that are not plausible lon/lat in China."""
    minx, miny, maxx, maxy = bounds
    x0, y0, x1, y1 = CHINA_BOUNDS
    if not (x0 <= minx <= x1 and x0 <= maxx <= x1 and y0 <= miny <= y1 and y0 <= maxy <= y1):
        raise CRSError(
            msg("%(source)s declares no CRS and its coordinates (%(bounds)s) are not plausible "
                "longitude/latitude for China; give --crs",
                source=_name(source),
                bounds=f"{minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}"),
            fields={"crs": [msg("missing CRS and coordinates are not lon/lat in China")]},
        )


def to_wgs84(geoms: Sequence[BaseGeometry] | np.ndarray, crs: CRS | None,
             source: str = "input") -> np.ndarray:
    """Return ``geoms`` in EPSG:4326 (lon, lat order).

    Parameters
    ----------
    geoms
        Shapely geometries in ``crs``.
    crs
        Their CRS; ``None`` means undeclared, accepted only when the coordinates look like
        lon/lat in China.
    """
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return arr
    if crs is None:
        check_plausible_lonlat(shapely.total_bounds(arr), source)
        return arr
    if is_geographic_equivalent(crs):
        return arr
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    out = shapely.transform(arr, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    check_plausible_lonlat(shapely.total_bounds(out), source)
    return out


def _name(what: str) -> Message:
    # A name given by the caller is a catalogue key ("geometry") or passes through as it is.
    return what if isinstance(what, Message) else msg(what)


def as_multipolygon(geom: BaseGeometry | None, what: str = "geometry") -> MultiPolygon:
    """Validate and normalise an areal geometry to a MultiPolygon, repairing simple faults."""
    if geom is None or geom.is_empty:
        raise InvalidGeometry(msg("%(what)s is empty", what=_name(what)),
                              fields={"geometry": [msg("empty")]})
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        geom = shapely.get_parts(geom)
        polys = [g for g in geom if isinstance(g, Polygon | MultiPolygon)]
        if not polys:
            raise InvalidGeometry(msg("%(what)s is invalid and cannot be repaired",
                                      what=_name(what)),
                                  fields={"geometry": [msg("invalid")]})
        geom = shapely.union_all(polys)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    raise InvalidGeometry(msg("%(what)s must be a polygon, not a %(type)s", what=_name(what),
                              type=msg(geom.geom_type)),
                          fields={"geometry": [msg("expected a polygon, not a %(type)s",
                                                   type=msg(geom.geom_type))]})


def as_point(geom: BaseGeometry | None, what: str = "geometry") -> Point:
    """Validate a point geometry."""
    if geom is None or geom.is_empty:
        raise InvalidGeometry(msg("%(what)s is empty", what=_name(what)),
                              fields={"geometry": [msg("empty")]})
    if not isinstance(geom, Point):
        raise InvalidGeometry(msg("%(what)s must be a point, not a %(type)s", what=_name(what),
                                  type=msg(geom.geom_type)),
                              fields={"geometry": [msg("expected a point, not a %(type)s",
                                                       type=msg(geom.geom_type))]})
    if not (math.isfinite(geom.x) and math.isfinite(geom.y)):
        raise InvalidGeometry(msg("%(what)s has non-finite coordinates", what=_name(what)),
                              fields={"geometry": [msg("coordinates are not finite numbers")]})
    return geom


def haversine_km(lon1: np.ndarray | float, lat1: np.ndarray | float,
                 lon2: np.ndarray | float, lat2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km (vectorised); never compare distances in degrees."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


_to_utm = Transformer.from_crs(WGS84, UTM50N, always_xy=True)


def project_utm(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat to UTM 50N metres (for KD-trees, buffers and areas around 宿州)."""
    return _to_utm.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def area_km2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry in km² (projected to UTM 50N)."""
    projected = shapely.transform(geom, lambda xy: np.column_stack(_to_utm.transform(xy[:, 0], xy[:, 1])))
    return float(projected.area) / 1e6


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Invert the published GCJ-02 obfuscation by fixed-point iteration (metre accuracy)."""

    def _forward(wlon: float, wlat: float) -> tuple[float, float]:
        a, ee = 6378245.0, 0.00669342162296594323
        x, y = wlon - 105.0, wlat - 35.0
        dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
                + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
                + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
                + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
        dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
                + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
                + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
                + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3)
        radlat = wlat / 180.0 * math.pi
        magic = 1 - ee * math.sin(radlat) ** 2
        sqrtmagic = math.sqrt(magic)
        dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * math.pi)
        dlon = (dlon * 180.0) / (a / sqrtmagic * math.cos(radlat) * math.pi)
        return wlon + dlon, wlat + dlat

    wlon, wlat = lon, lat
    for _ in range(8):
        glon, glat = _forward(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat
