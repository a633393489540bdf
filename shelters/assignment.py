"""Exact capacitated assignment of people to shelters: min-cost flow with column generation.

The full problem (every community to every shelter) is too large to hand to a solver at city
scale, and almost all of its arcs are useless. So each community starts with its ``k`` nearest
shelters (SciPy cKDTree on UTM 50N coordinates, DESIGN.md §3), OR-Tools' ``SimpleMinCostFlow``
solves that restricted problem exactly, and the optimal dual prices prove or disprove that
no left-out arc could lower the cost:

- ``u_i`` = the marginal cost of one more person from community ``i`` (at most the penalty),
- ``v_j`` ≥ 0 = the price of one place at shelter ``j`` (0 unless it is full),

read off the residual graph as shortest-path distances to the sink. A left-out arc improves
the plan only if ``cost_ij + v_j < u_i``. Its cost is at least its UTM distance (within
:data:`UTM_SLACK`), so a community whose nearest left-out shelter is farther than ``u_i``
is certified at once; for the others, every shelter within ``u_i`` is checked exactly and
the improving arcs are added. Repeat until none is left: the result is then optimal for the
problem over all shelters, not only over the arcs it kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from gis.geometry import haversine_km, project_utm
from gis.messages import msg
from shelters.errors import ShelterError

# Road (or great-circle) distance ≥ (1 - UTM_SLACK) × UTM 50N distance. Around 宿州 the UTM
# scale error is below 0.05 % and the spherical haversine differs from the ellipsoid by
# under 0.5 %; 2 % leaves a wide margin so that the certificate never relies on luck.
UTM_SLACK = 0.02

# Left-out arcs within this margin of improving (share of u_i, at most so many metres) are
# taken in along with the improving ones.
LOOKAHEAD = 0.1
LOOKAHEAD_MAX_M = 2000.0

#: ``road_km(lon1, lat1, lon2, lat2) -> km`` for arrays of pairs (a loaded road network).
RoadDistance = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Solution:
    """Optimal flows over the arcs kept; costs in whole metres."""

    arc_community: np.ndarray   # community index of each kept arc
    arc_shelter: np.ndarray     # shelter index of each kept arc
    arc_cost_m: np.ndarray      # cost of each kept arc (metres)
    arc_flow: np.ndarray        # people sent along each kept arc
    unassigned: np.ndarray      # people left unplaced per community
    objective_m: int            # Σ cost × people + penalty × unplaced (metre·people)
    rounds: int                 # solves until the certificate held
    certified: bool             # no left-out arc could lower the cost


def pair_costs_m(c_lon: np.ndarray, c_lat: np.ndarray, s_lon: np.ndarray, s_lat: np.ndarray,
                 road: RoadDistance | None = None) -> np.ndarray:
    """Whole-metre cost of each (community, shelter) pair given as aligned arrays.

    Road distances are floored at the great-circle distance, so that the KD-tree's straight
    line stays a lower bound even where a network snaps points onto nearby roads.
    """
    km = haversine_km(c_lon, c_lat, s_lon, s_lat)
    if road is not None and len(km):
        km = np.maximum(km, np.asarray(road(c_lon, c_lat, s_lon, s_lat), dtype=float))
    return np.rint(km * 1000.0).astype(np.int64)


def solve_assignment(people: np.ndarray, c_lon: np.ndarray, c_lat: np.ndarray,
                     s_lon: np.ndarray, s_lat: np.ndarray, available: np.ndarray,
                     penalty_m: int, *, road: RoadDistance | None = None, k: int = 8,
                     max_rounds: int = 100) -> Solution:
    """Place ``people[i]`` of each community into shelters with ``available[j]`` free places.

    Minimises Σ cost × people + ``penalty_m`` × unplaced people, exactly.

    Parameters
    ----------
    people, available
        Non-negative integers per community and per shelter.
    c_lon, c_lat, s_lon, s_lat
        Community and shelter locations (EPSG:4326).
    penalty_m
        Cost of leaving one person unplaced, in metres of travel it is worth.
    road
        Road distance function, or ``None`` for great-circle distance.
    k
        Initial number of nearest shelters per community.
    """
    people = np.asarray(people, dtype=np.int64)
    available = np.asarray(available, dtype=np.int64)
    n, m = len(people), len(available)
    if (people < 0).any() or (available < 0).any() or penalty_m < 0:
        raise ShelterError(msg("people, free places and the penalty must not be negative"))
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or m == 0 or people.sum() == 0:
        return Solution(empty, empty, empty, empty, people.copy(),
                        int(penalty_m) * int(people.sum()), 0, True)

    cx, cy = project_utm(c_lon, c_lat)
    sx, sy = project_utm(s_lon, s_lat)
    cxy = np.column_stack([cx, cy])
    sxy = np.column_stack([sx, sy])
    tree = cKDTree(sxy)
    k = max(1, min(k, m))
    if k < m:
        dist, idx = tree.query(cxy, k=k + 1)
        # Every left-out shelter is at least as far (UTM) as the (k+1)-th nearest.
        bound = dist[:, k] * (1.0 - UTM_SLACK)
        idx = idx[:, :k]
    else:
        idx = np.tile(np.arange(m), (n, 1))
        bound = np.full(n, np.inf)
    arc_c = np.repeat(np.arange(n), idx.shape[1])
    arc_s = idx.reshape(-1).astype(np.int64)
    arc_cost = pair_costs_m(c_lon[arc_c], c_lat[arc_c], s_lon[arc_s], s_lat[arc_s], road)

    for rounds in range(1, max_rounds + 1):
        flow, to_shelter, unplaced, objective = _solve(people, available, penalty_m,
                                                       arc_c, arc_s, arc_cost)
        u, v = _duals(n, m, people, available, penalty_m, arc_c, arc_s, arc_cost,
                      flow, to_shelter, unplaced)
        added = _improving_arcs(u, v, bound, cxy, sxy, arc_c, arc_s,
                                c_lon, c_lat, s_lon, s_lat, road)
        if added is None:
            return Solution(arc_c, arc_s, arc_cost, flow, unplaced, objective, rounds, True)
        arc_c = np.concatenate([arc_c, added[0]])
        arc_s = np.concatenate([arc_s, added[1]])
        arc_cost = np.concatenate([arc_cost, added[2]])
    return Solution(arc_c, arc_s, arc_cost, flow, unplaced, objective, max_rounds, False)


def _solve(people: np.ndarray, available: np.ndarray, penalty_m: int, arc_c: np.ndarray,
           arc_s: np.ndarray, arc_cost: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One exact min-cost flow: communities → shelters → sink, plus a penalty arc to the sink."""
    n, m = len(people), len(available)
    sink = n + m
    total = int(people.sum())
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([arc_c, n + np.arange(m), np.arange(n)])
    heads = np.concatenate([n + arc_s, np.full(m, sink), np.full(n, sink)])
    # A community never sends more than its people, so its own count caps its arcs.
    caps = np.concatenate([people[arc_c], available, people])
    costs = np.concatenate([arc_cost, np.zeros(m, np.int64), np.full(n, penalty_m, np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                              caps.astype(np.int64), costs.astype(np.int64))
    supplies = np.concatenate([people, np.zeros(m, np.int64), [-total]])
    smcf.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), supplies.astype(np.int64))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise ShelterError(msg("the min-cost flow solver failed with status %(status)s",
                               status=status))
    flows = smcf.flows(np.arange(len(tails), dtype=np.int32))
    a = len(arc_c)
    return (flows[:a].astype(np.int64), flows[a:a + m].astype(np.int64),
            flows[a + m:].astype(np.int64), int(smcf.optimal_cost()))


def _duals(n: int, m: int, people: np.ndarray, available: np.ndarray, penalty_m: int,
           arc_c: np.ndarray, arc_s: np.ndarray, arc_cost: np.ndarray, flow: np.ndarray,
           to_shelter: np.ndarray, unplaced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal duals ``u`` (communities) and ``v`` (shelters) from residual shortest paths.

    With ``d(x)`` the cheapest residual path from ``x`` to the sink (no negative cycle exists
    at an optimum), ``u = min(d, penalty)`` and ``v = d`` satisfy dual feasibility and
    complementary slackness: ``u_i - v_j <= c_ij``, ``u_i <= penalty``, ``v_j >= 0``.
    """
    sink = n + m
    shelter = n + np.arange(m)
    comm = np.arange(n)
    used = flow > 0
    parts = [
        (arc_c, n + arc_s, arc_cost),                              # forward: never binding
        (n + arc_s[used], arc_c[used], -arc_cost[used]),           # send back along used arcs
        (shelter[to_shelter < available], np.full(int((to_shelter < available).sum()), sink),
         np.zeros(int((to_shelter < available).sum()), np.int64)),  # shelter with room
        (np.full(int((to_shelter > 0).sum()), sink), shelter[to_shelter > 0],
         np.zeros(int((to_shelter > 0).sum()), np.int64)),          # undo a used place
        (comm[unplaced < people], np.full(int((unplaced < people).sum()), sink),
         np.full(int((unplaced < people).sum()), penalty_m, np.int64)),  # leave one unplaced
        (np.full(int((unplaced > 0).sum()), sink), comm[unplaced > 0],
         np.full(int((unplaced > 0).sum()), -penalty_m, np.int64)),  # place an unplaced one
    ]
    tail = np.concatenate([p[0] for p in parts]).astype(np.int64)
    head = np.concatenate([p[1] for p in parts]).astype(np.int64)
    weight = np.concatenate([p[2] for p in parts]).astype(np.float64)
    order = np.argsort(tail, kind="stable")
    tail, head, weight = tail[order], head[order], weight[order]
    starts = np.flatnonzero(np.r_[True, tail[1:] != tail[:-1]])
    owners = tail[starts]
    d = np.full(n + m + 1, np.inf)
    d[sink] = 0.0
    # Vectorised Bellman-Ford; terminates because an optimal flow leaves no negative cycle.
    for _ in range(n + m + 2):
        best = np.minimum.reduceat(weight + d[head], starts)
        new = d.copy()
        new[owners] = np.minimum(d[owners], best)
        new[sink] = 0.0
        if np.array_equal(new, d):
            break
        d = new
    else:  # pragma: no cover - impossible for an optimal flow
        raise ShelterError(msg("negative cycle in the residual graph: flow is not optimal"))
    u = np.minimum(d[:n], float(penalty_m))
    v = np.maximum(d[n:n + m], 0.0)
    return u, v


def _improving_arcs(u: np.ndarray, v: np.ndarray, bound: np.ndarray, cxy: np.ndarray,
                    sxy: np.ndarray, arc_c: np.ndarray, arc_s: np.ndarray,
                    c_lon: np.ndarray, c_lat: np.ndarray, s_lon: np.ndarray,
                    s_lat: np.ndarray, road: RoadDistance | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Left-out arcs with ``cost + v_j < u_i``, or ``None`` when there is none (optimal)."""
    suspect = np.flatnonzero(u > bound)
    if len(suspect) == 0:
        return None
    m = len(v)
    # Search from the shelters: a full shelter (high price v_j) can only attract communities
    # closer than u_max - v_j, which keeps the pairs to check few even when places are scarce.
    # Arcs nearly improving now are added with the improving ones: prices move after the
    # re-solve, and taking them in at once saves solver rounds (the result stays exact).
    reach = u + np.minimum(u * LOOKAHEAD, LOOKAHEAD_MAX_M)
    radius = (reach[suspect].max() - v) / (1.0 - UTM_SLACK) + 1.0
    active = np.flatnonzero(radius > 1.0)
    if len(active) == 0:
        return None
    hits = cKDTree(cxy[suspect]).query_ball_point(sxy[active], r=radius[active],
                                                  return_sorted=False)
    lengths = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
    total = int(lengths.sum())
    if total == 0:
        return None
    cand_s = np.repeat(active, lengths)
    cand_c = suspect[np.fromiter(chain.from_iterable(hits), dtype=np.int64, count=total)]
    # Cheap UTM filter with the slack, then drop arcs already kept.
    utm = np.hypot(cxy[cand_c, 0] - sxy[cand_s, 0], cxy[cand_c, 1] - sxy[cand_s, 1])
    keep = utm * (1.0 - UTM_SLACK) + v[cand_s] < reach[cand_c]
    cand_c, cand_s = cand_c[keep], cand_s[keep]
    keys = cand_c * m + cand_s
    kept = np.sort(arc_c * m + arc_s)
    pos = np.minimum(np.searchsorted(kept, keys), len(kept) - 1)
    new = kept[pos] != keys
    cand_c, cand_s = cand_c[new], cand_s[new]
    # Great-circle next (a lower bound of the road cost), then the real cost of what survives.
    cost = pair_costs_m(c_lon[cand_c], c_lat[cand_c], s_lon[cand_s], s_lat[cand_s])
    keep = cost + v[cand_s] < reach[cand_c]
    cand_c, cand_s, cost = cand_c[keep], cand_s[keep], cost[keep]
    if road is not None and len(cand_c):
        cost = pair_costs_m(c_lon[cand_c], c_lat[cand_c], s_lon[cand_s], s_lat[cand_s], road)
        keep = cost + v[cand_s] < reach[cand_c]
        cand_c, cand_s, cost = cand_c[keep], cand_s[keep], cost[keep]
    # Optimal unless some left-out arc has a negative reduced cost.
    if not (cost + v[cand_s] < u[cand_c]).any():
        return None
    return cand_c, cand_s, cost
