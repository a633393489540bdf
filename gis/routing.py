"""Road distances: imported road lines as a networkx graph, shortest paths between points.

Used by the dispatch planner when a road network has been imported; otherwise it takes the
great-circle distance times a detour factor (:func:`gis.geometry.haversine_km`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from gis.errors import GisError, InvalidGeometry
from gis.geometry import haversine_km, parse_crs, project_utm, to_wgs84
from gis.messages import msg

# Vertices closer than this (degrees, ≈0.1 m) are the same road junction.
SNAP_DECIMALS = 6


def read_road_lines(path: str | Path, crs: str | None = None) -> list[LineString]:
    """Read the line features of a GeoPackage, Shapefile or GeoJSON in EPSG:4326.

    Raises :class:`gis.errors.GisError` naming the file when it holds no lines.
    """
    import pyogrio

    path = Path(path)
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure names the file
        raise GisError(msg("%(file)s: cannot read road lines (%(reason)s)", file=path.name,
                           reason=str(exc)),
                       fields={"file": [msg("not a readable file of road lines: %(reason)s",
                                            reason=str(exc))]}) from None
    source_crs = parse_crs(crs) if crs else frame.crs
    geoms = list(to_wgs84(list(frame.geometry.values), source_crs, source=path.name)) \
        if len(frame) else []
    lines: list[LineString] = []
    for n, geom in enumerate(geoms, start=1):
        lines.extend(_lines(geom, path.name, n))
    if not lines:
        raise InvalidGeometry(msg("%(file)s: no line features", file=path.name),
                              fields={"file": [msg("no line features found")]})
    return lines


def _lines(geom: BaseGeometry | None, file: str, n: int) -> list[LineString]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    if isinstance(geom, MultiLineString):
        return list(geom.geoms)
    raise InvalidGeometry(msg("%(file)s feature %(n)s: a %(type)s is not a line", file=file,
                              n=n, type=msg(geom.geom_type)),
                          fields={f"{file} feature {n}": [msg("a %(type)s is not a line",
                                                              type=msg(geom.geom_type))]})


class RoadNetwork:
    """An undirected graph of road vertices weighted by great-circle length in km."""

    def __init__(self, lines: Sequence[LineString]) -> None:
        self.graph = nx.Graph()
        for line in lines:
            coords = [(round(x, SNAP_DECIMALS), round(y, SNAP_DECIMALS))
                      for x, y, *_ in line.coords]
            for a, b in itertools.pairwise(coords):
                if a == b:
                    continue
                km = float(haversine_km(a[0], a[1], b[0], b[1]))
                old = self.graph.get_edge_data(a, b)
                if old is None or old["km"] > km:
                    self.graph.add_edge(a, b, km=km)
        self.nodes = list(self.graph.nodes)
        if not self.nodes:
            raise InvalidGeometry(msg("the road network is empty"),
                                  fields={"roads": [msg("no road segments")]})
        xy = np.array(self.nodes, dtype=float)
        ex, ny = project_utm(xy[:, 0], xy[:, 1])
        self._tree = cKDTree(np.column_stack([ex, ny]))

    def _snap(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = project_utm(np.asarray(lon, float), np.asarray(lat, float))
        dist_m, idx = self._tree.query(np.column_stack([x, y]))
        return np.asarray(idx), np.asarray(dist_m) / 1000.0

    def distances_km(self, origins: Sequence[tuple[float, float]],
                     targets: Sequence[tuple[float, float]],
                     detour: float = 1.3) -> np.ndarray:
        """Road distance matrix ``origins × targets`` in km.

        Each point joins the network at its nearest vertex (the access leg counts as straight
        line × ``detour``); pairs the network does not connect fall back to great circle ×
        ``detour``.
        """
        o = np.asarray(origins, float).reshape(-1, 2)
        t = np.asarray(targets, float).reshape(-1, 2)
        o_idx, o_leg = self._snap(o[:, 0], o[:, 1])
        t_idx, t_leg = self._snap(t[:, 0], t[:, 1])
        fallback = haversine_km(o[:, None, 0], o[:, None, 1], t[None, :, 0], t[None, :, 1]) * detour
        out = np.array(fallback, dtype=float)
        for i, node in enumerate(o_idx):
            lengths = nx.single_source_dijkstra_path_length(self.graph, self.nodes[node],
                                                            weight="km")
            road = np.array([lengths.get(self.nodes[j], np.inf) for j in t_idx])
            total = road + (o_leg[i] + t_leg) * detour
            out[i] = np.where(np.isfinite(total), total, out[i])
        return out
