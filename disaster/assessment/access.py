"""Supply within reach per resident: the two-step floating catchment area (2SFCA).

Luo & Wang (2003), "Measures of spatial accessibility to health care in a GIS environment":
step 1 divides each supply (free shelter places, relief stock) by the people within reach of
it; step 2 sums, for each community, those ratios over the supplies within its reach. A
shelter shared by many villages counts for each only by its share, so places are never
counted twice. Distances are in UTM 50N metres (never degrees).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from gis.geometry import project_utm


def supply_per_person(demand_lon: np.ndarray, demand_lat: np.ndarray, demand: np.ndarray,
                      supply_lon: np.ndarray, supply_lat: np.ndarray, supply: np.ndarray,
                      reach_km: float) -> np.ndarray:
    """Units of supply within ``reach_km`` per resident of each community (2SFCA).

    Parameters
    ----------
    demand_lon, demand_lat, demand
        Community representative points and their populations.
    supply_lon, supply_lat, supply
        Points of shelters or depots and their free places or stock (in person-equivalents).
    reach_km
        Catchment radius.
    """
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    n = demand.size
    if n == 0 or supply.size == 0 or reach_km <= 0:
        return np.zeros(n)
    dx, dy = project_utm(demand_lon, demand_lat)
    sx, sy = project_utm(supply_lon, supply_lat)
    dtree = cKDTree(np.column_stack([dx, dy]))
    radius = reach_km * 1000.0
    # Supplies are few (shelters, depots): one ball query each against the communities' tree.
    reached = dtree.query_ball_point(np.column_stack([sx, sy]), r=radius)
    counts = np.array([len(lst) for lst in reached], dtype=int)
    s_idx = np.repeat(np.arange(supply.size), counts)
    d_idx = (np.concatenate([np.asarray(lst, dtype=int) for lst in reached])
             if counts.sum() else np.zeros(0, dtype=int))
    people_in_reach = np.bincount(s_idx, weights=demand[d_idx], minlength=supply.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(people_in_reach > 0, supply / people_in_reach, 0.0)
    return np.bincount(d_idx, weights=ratio[s_idx], minlength=n)
