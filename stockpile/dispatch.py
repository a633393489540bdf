"""Optimal dispatch: which depot sends how much of which item to which destination.

The problem (CONTRACT.md ``dispatch plan``): minimise Σ cost × quantity + Σ unmet_penalty ×
priority × unmet quantity, subject to never sending more than a depot holds and covering each
demand either by shipments or as unmet. ``costs`` lists the allowed (depot, destination)
pairs; a pair not listed cannot be used.

Solver choice, by measurement (bench/dispatch_plan.py):
- Without vehicle limits the problem separates by item into transportation problems, each a
  min-cost flow. OR-Tools' network simplex (``SimpleMinCostFlow``) solves them exactly on
  integer data; it solved 500 depots × 20 items × 20,000 destinations well inside the 30 s
  target where HiGHS on the equivalent dense LP took orders of magnitude longer.
- Truck capacities (vehicles with a number of trips) couple the items through a weight and a
  volume budget per depot; that is no longer a network, so it is solved as a MILP with HiGHS
  (``scipy.optimize.milp``); such problems are small (few depots have trips configured).

Costs (km, to 100 m) and priorities (2 decimals) are rounded as stated in ``problem``, so a
power of ten turns them into exact integers for the flow solver: the plan is optimal for the
stated problem.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from gis.errors import AppError
from gis.messages import msg
from stockpile.errors import StockValidationError

DEFAULT_UNMET_PENALTY = 1000.0  # per unit × priority; above any road distance within a city
DEFAULT_DETOUR = 1.3            # road km per great-circle km where no road network exists
# Candidate depots per destination (nearest first). On 500 depots × 20,000 destinations,
# 10 instead of 25 cost 0.04 % in objective and halved the solve time; a city's few dozen
# depots are all candidates anyway.
DEFAULT_MAX_DEPOTS = 10


class DispatchError(AppError):
    status = 500
    code = "dispatch_failed"


@dataclass
class Problem:
    """A dispatch problem in arrays (the JSON ``problem`` is :meth:`as_dict`).

    ``supply``: depots × items; demand rows ``(dest, item, quantity, priority)``; candidate
    arcs ``(depot, dest, cost)``.
    """

    depots: list[str]
    destinations: list[str]
    items: list[str]
    supply: np.ndarray
    dem_dest: np.ndarray
    dem_item: np.ndarray
    dem_qty: np.ndarray
    dem_priority: np.ndarray
    arc_depot: np.ndarray
    arc_dest: np.ndarray
    arc_cost: np.ndarray
    unmet_penalty: float = DEFAULT_UNMET_PENALTY
    item_weight: np.ndarray | None = None   # kg per unit
    item_volume: np.ndarray | None = None   # m³ per unit
    depot_weight: np.ndarray | None = None  # kg a depot can move in this plan (inf: no limit)
    depot_volume: np.ndarray | None = None

    @property
    def coupled(self) -> bool:
        return self.depot_weight is not None and bool(
            np.isfinite(self.depot_weight).any() or np.isfinite(self.depot_volume).any())

    def as_dict(self) -> dict[str, Any]:
        """The CONTRACT.md ``problem`` object (plus capacities when vehicles couple items)."""
        d, i = np.nonzero(self.supply > 0)
        out: dict[str, Any] = {
            "supplies": [{"depot": self.depots[a], "item": self.items[b],
                          "quantity": int(self.supply[a, b])} for a, b in zip(d, i, strict=True)],
            "demands": [{"destination": self.destinations[j], "item": self.items[k],
                         "quantity": int(q), "priority": float(p)}
                        for j, k, q, p in zip(self.dem_dest, self.dem_item, self.dem_qty,
                                              self.dem_priority, strict=True)],
            "costs": [{"depot": self.depots[a], "destination": self.destinations[b],
                       "cost": float(c)}
                      for a, b, c in zip(self.arc_depot, self.arc_dest, self.arc_cost,
                                         strict=True)],
            "unmet_penalty": float(self.unmet_penalty),
        }
        if self.coupled:
            out["items"] = [{"item": code, "weight_kg": float(w), "volume_m3": float(v)}
                            for code, w, v in zip(self.items, self.item_weight,
                                                  self.item_volume, strict=True)]
            out["depot_capacities"] = [
                {"depot": code, "weight_kg": float(w) if np.isfinite(w) else None,
                 "volume_m3": float(v) if np.isfinite(v) else None}
                for code, w, v in zip(self.depots, self.depot_weight, self.depot_volume,
                                      strict=True)
                if np.isfinite(w) or np.isfinite(v)]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Rebuild a problem from its JSON form (for re-solving a stored plan)."""
        depots = sorted({s["depot"] for s in data["supplies"]} | {c["depot"] for c in data["costs"]})
        dests = sorted({d["destination"] for d in data["demands"]}
                       | {c["destination"] for c in data["costs"]})
        items = sorted({s["item"] for s in data["supplies"]} | {d["item"] for d in data["demands"]})
        di, ji, ii = ({c: n for n, c in enumerate(x)} for x in (depots, dests, items))
        supply = np.zeros((len(depots), len(items)), dtype=np.int64)
        for s in data["supplies"]:
            supply[di[s["depot"]], ii[s["item"]]] += int(s["quantity"])
        dem = data["demands"]
        coupled: dict[str, Any] = {}
        if data.get("depot_capacities"):
            specs = {i["item"]: i for i in data.get("items", [])}
            caps = {c["depot"]: c for c in data["depot_capacities"]}

            def budget(key: str) -> np.ndarray:
                return np.array([float(caps[d][key]) if d in caps and caps[d][key] is not None
                                 else np.inf for d in depots])

            coupled = {"item_weight": np.array([float(specs[c]["weight_kg"]) for c in items]),
                       "item_volume": np.array([float(specs[c]["volume_m3"]) for c in items]),
                       "depot_weight": budget("weight_kg"), "depot_volume": budget("volume_m3")}
        return cls(
            depots=depots, destinations=dests, items=items, supply=supply,
            dem_dest=np.array([ji[d["destination"]] for d in dem], dtype=np.int64),
            dem_item=np.array([ii[d["item"]] for d in dem], dtype=np.int64),
            dem_qty=np.array([int(d["quantity"]) for d in dem], dtype=np.int64),
            dem_priority=np.array([float(d["priority"]) for d in dem], dtype=float),
            arc_depot=np.array([di[c["depot"]] for c in data["costs"]], dtype=np.int64),
            arc_dest=np.array([ji[c["destination"]] for c in data["costs"]], dtype=np.int64),
            arc_cost=np.array([float(c["cost"]) for c in data["costs"]], dtype=float),
            unmet_penalty=float(data["unmet_penalty"]), **coupled)


@dataclass
class Solution:
    """Shipments ``(depot, dest, item, quantity)`` and unmet ``(demand row, quantity)``."""

    ship_depot: np.ndarray
    ship_dest: np.ndarray
    ship_item: np.ndarray
    ship_qty: np.ndarray
    ship_cost: np.ndarray
    unmet_qty: np.ndarray  # per demand row
    objective: float
    solver: str
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def objective_of(problem: Problem, ship_cost: np.ndarray, ship_qty: np.ndarray,
                 unmet_qty: np.ndarray) -> float:
    """Σ cost × quantity + Σ unmet_penalty × priority × unmet (CONTRACT.md)."""
    return float(np.dot(ship_cost, ship_qty)
                 + problem.unmet_penalty * np.dot(problem.dem_priority, unmet_qty))


def solve(problem: Problem, *, workers: int = 1) -> Solution:
    """Solve exactly: min-cost flow per item, or the coupled MILP when vehicles limit depots.

    ``workers`` > 1 solves the items in that many forked processes (for big plans from the
    command line; keep 1 inside threaded web servers).
    """
    started = time.perf_counter()
    solution = (_solve_coupled(problem) if problem.coupled
                else _solve_flows(problem, workers))
    solution.seconds = time.perf_counter() - started
    return solution


def integer_scale(problem: Problem) -> int:
    """Smallest power of ten that makes every cost and penalty × priority an integer.

    Smaller integers make the cost-scaling flow solver faster (measured 4.3 s → 2.4 s for
    one item of 500 × 20,000 going from ×1000 to ×10); exactness needs all of them integral.
    """
    values = np.concatenate([problem.arc_cost, problem.unmet_penalty * problem.dem_priority])
    for scale in (1, 10, 100, 1000, 10_000, 100_000):
        scaled = values * scale
        if np.allclose(scaled, np.rint(scaled), rtol=0, atol=1e-6):
            return scale
    return 1_000_000  # costs beyond 6 decimals: optimal to within 1e-6 per unit


def _solve_item(problem: Problem, k: int, scale: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Min-cost flow of item ``k``: (arc indices used, their flows, demand rows, unmet)."""
    from ortools.graph.python import min_cost_flow

    rows = np.nonzero((problem.dem_item == k) & (problem.dem_qty > 0))[0]
    supply = problem.supply[:, k]
    if rows.size == 0 or supply.sum() == 0:
        return None
    n_dep = len(problem.depots)
    local = np.full(len(problem.destinations), -1, dtype=np.int64)
    local[problem.dem_dest[rows]] = np.arange(rows.size)
    mask = (local[problem.arc_dest] >= 0) & (supply[problem.arc_depot] > 0)
    a_dep, a_dst = problem.arc_depot[mask], problem.arc_dest[mask]
    dem = problem.dem_qty[rows]
    reward = np.rint(problem.unmet_penalty * problem.dem_priority[rows] * scale).astype(np.int64)
    # Serving a unit earns its unmet penalty: minimise Σ cost·x − Σ penalty·served, which
    # differs from the contract objective by the constant Σ penalty·demand. Nodes: depots,
    # demand rows, one sink T that takes every depot's whole supply (unsent stock goes
    # straight depot → T at no cost).
    sink = n_dep + rows.size
    tails = np.concatenate([a_dep, n_dep + np.arange(rows.size), np.arange(n_dep)])
    heads = np.concatenate([n_dep + local[a_dst], np.full(rows.size, sink), np.full(n_dep, sink)])
    caps = np.concatenate([np.minimum(supply[a_dep], dem[local[a_dst]]), dem, supply])
    costs = np.concatenate([np.rint(problem.arc_cost[mask] * scale).astype(np.int64), -reward,
                            np.zeros(n_dep, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64),
        costs.astype(np.int64))
    node_supply = np.zeros(sink + 1, dtype=np.int64)
    node_supply[:n_dep] = supply
    node_supply[sink] = -int(supply.sum())
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), node_supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise DispatchError(msg("min-cost flow failed for item %(item)s (status %(status)s)",
                                item=problem.items[k], status=status))
    values = flow.flows(arcs)
    n_real = a_dep.size
    used = values[:n_real] > 0
    return (np.nonzero(mask)[0][used], values[:n_real][used].astype(np.int64), rows,
            dem - values[n_real:n_real + rows.size])


def _solve_items(args: tuple[Problem, list[int], int]) -> list[tuple[int, Any]]:
    problem, ks, scale = args
    return [(k, _solve_item(problem, k, scale)) for k in ks]


def _solve_flows(problem: Problem, workers: int = 1) -> Solution:
    scale = integer_scale(problem)
    ks = list(range(len(problem.items)))
    if workers > 1 and len(ks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Items are independent; fork shares the arrays with the workers without copying.
        chunks = [ks[w::workers] for w in range(workers)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = [r for part in pool.map(_solve_items, [(problem, c, scale) for c in chunks])
                       for r in part]
    else:
        results = _solve_items((problem, ks, scale))
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    unmet = problem.dem_qty.astype(np.int64).copy()
    for k, result in sorted(results, key=lambda r: r[0]):
        if result is None:
            continue
        idx, qty, rows, left = result
        parts["depot"].append(problem.arc_depot[idx])
        parts["dest"].append(problem.arc_dest[idx])
        parts["item"].append(np.full(idx.size, k, dtype=np.int64))
        parts["qty"].append(qty)
        parts["cost"].append(problem.arc_cost[idx])
        unmet[rows] = left
    return _assemble(problem, parts, unmet, "ortools-min-cost-flow")


def _assemble(problem: Problem, parts: dict[str, list[np.ndarray]], unmet: np.ndarray,
              solver: str) -> Solution:
    def cat(key: str, dtype: Any) -> np.ndarray:
        return np.concatenate(parts[key]).astype(dtype) if parts[key] else np.zeros(0, dtype)

    qty, cost = cat("qty", np.int64), cat("cost", float)
    return Solution(ship_depot=cat("depot", np.int64), ship_dest=cat("dest", np.int64),
                    ship_item=cat("item", np.int64), ship_qty=qty, ship_cost=cost,
                    unmet_qty=unmet, objective=objective_of(problem, cost, qty, unmet),
                    solver=solver)


def _solve_coupled(problem: Problem) -> Solution:
    """MILP over (arc, item) shipments, unmet per demand, with depot weight/volume budgets."""
    n_dem = len(problem.dem_qty)
    # Variables: one per (candidate arc, demanded item with supply at the arc's depot).
    {(int(j), int(k)): r for r, (j, k) in
                 enumerate(zip(problem.dem_dest, problem.dem_item, strict=True))}
    by_dest: dict[int, list[int]] = defaultdict(list)
    for r, j in enumerate(problem.dem_dest):
        by_dest[int(j)].append(r)
    v_arc, v_dem = [], []
    for a, (d, j) in enumerate(zip(problem.arc_depot, problem.arc_dest, strict=True)):
        for r in by_dest.get(int(j), ()):
            if problem.supply[d, problem.dem_item[r]] > 0:
                v_arc.append(a)
                v_dem.append(r)
    v_arc_a, v_dem_a = np.array(v_arc, dtype=np.int64), np.array(v_dem, dtype=np.int64)
    n_x = v_arc_a.size
    v_dep = problem.arc_depot[v_arc_a] if n_x else np.zeros(0, np.int64)
    v_item = problem.dem_item[v_dem_a] if n_x else np.zeros(0, np.int64)
    c = np.concatenate([problem.arc_cost[v_arc_a] if n_x else np.zeros(0),
                        problem.unmet_penalty * problem.dem_priority])
    n_var = n_x + n_dem
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    # Demand rows: Σ x + u = demand.
    rows += list(v_dem_a) + list(range(n_dem))
    cols += list(range(n_x)) + [n_x + q for q in range(n_dem)]
    vals += [1.0] * (n_x + n_dem)
    lo += [float(q) for q in problem.dem_qty]
    hi += [float(q) for q in problem.dem_qty]
    r = n_dem
    # Supply rows per (depot, item).
    supply_row: dict[tuple[int, int], int] = {}
    for x in range(n_x):
        key = (int(v_dep[x]), int(v_item[x]))
        if key not in supply_row:
            supply_row[key] = r
            r += 1
            lo.append(0.0)
            hi.append(float(problem.supply[key]))
        rows.append(supply_row[key])
        cols.append(x)
        vals.append(1.0)
    # Capacity rows per depot (weight and volume).
    for budget, per_unit in ((problem.depot_weight, problem.item_weight),
                             (problem.depot_volume, problem.item_volume)):
        for d in np.nonzero(np.isfinite(budget))[0]:
            sel = np.nonzero(v_dep == d)[0]
            if sel.size == 0:
                continue
            rows += [r] * sel.size
            cols += list(sel)
            vals += list(per_unit[v_item[sel]])
            lo.append(0.0)
            hi.append(float(budget[d]))
            r += 1
    matrix = coo_matrix((vals, (rows, cols)), shape=(r, n_var)).tocsr()
    result = milp(c, constraints=LinearConstraint(matrix, lo, hi),
                  integrality=np.ones(n_var), bounds=Bounds(0, np.inf))
    if result.x is None:
        raise DispatchError(msg("HiGHS could not solve the coupled plan: %(reason)s",
                                reason=result.message))
    x = np.rint(result.x).astype(np.int64)
    used = np.nonzero(x[:n_x] > 0)[0]
    parts = {"depot": [v_dep[used]], "dest": [problem.arc_dest[v_arc_a[used]]],
             "item": [v_item[used]], "qty": [x[used]], "cost": [problem.arc_cost[v_arc_a[used]]]}
    return _assemble(problem, parts, x[n_x:], "highs-milp")


# --------------------------------------------------------------------------- building problems


def candidate_arcs(depot_xy: np.ndarray, dest_xy: np.ndarray, distance_km: np.ndarray | None,
                   max_depots: int = DEFAULT_MAX_DEPOTS, detour: float = DEFAULT_DETOUR,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed (depot, destination) pairs and their cost (km, 3 decimals).

    Each destination may be served by its ``max_depots`` nearest depots (all when fewer);
    cost is the road distance when ``distance_km`` (depots × destinations) is given, else
    great-circle × ``detour``; in km rounded to 100 m.
    """
    from gis.geometry import haversine_km

    n_dep, n_dst = len(depot_xy), len(dest_xy)
    if n_dep == 0 or n_dst == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    k = min(max_depots, n_dep)
    if k == n_dep:
        dep = np.repeat(np.arange(n_dep), n_dst)
        dst = np.tile(np.arange(n_dst), n_dep)
    else:
        from scipy.spatial import cKDTree

        from gis.geometry import project_utm

        dx, dy = project_utm(depot_xy[:, 0], depot_xy[:, 1])
        tx, ty = project_utm(dest_xy[:, 0], dest_xy[:, 1])
        _, nearest = cKDTree(np.column_stack([dx, dy])).query(np.column_stack([tx, ty]), k=k)
        dep = nearest.ravel().astype(np.int64)
        dst = np.repeat(np.arange(n_dst), k)
    if distance_km is not None:
        km = distance_km[dep, dst]
    else:
        km = haversine_km(depot_xy[dep, 0], depot_xy[dep, 1], dest_xy[dst, 0],
                          dest_xy[dst, 1]) * detour
    return dep.astype(np.int64), dst.astype(np.int64), np.round(km, 1)


def build_problem(depots: Sequence[str], depot_xy: np.ndarray, supply: np.ndarray,
                  destinations: Sequence[str], dest_xy: np.ndarray, items: Sequence[str],
                  demands: Sequence[tuple[int, int, int, float]], *,
                  distance_km: np.ndarray | None = None,
                  unmet_penalty: float = DEFAULT_UNMET_PENALTY,
                  max_depots: int = DEFAULT_MAX_DEPOTS, detour: float = DEFAULT_DETOUR,
                  ) -> Problem:
    """Assemble a :class:`Problem` from coordinates, supplies and demand rows."""
    if unmet_penalty <= 0:
        raise StockValidationError(msg("the unmet penalty must be positive"),
                                   fields={"unmet_penalty": [msg("must be greater than 0")]})
    dem = np.array(demands, dtype=float).reshape(-1, 4)
    a_dep, a_dst, a_cost = candidate_arcs(np.asarray(depot_xy, float).reshape(-1, 2),
                                          np.asarray(dest_xy, float).reshape(-1, 2),
                                          distance_km, max_depots, detour)
    return Problem(
        depots=list(depots), destinations=list(destinations), items=list(items),
        supply=np.asarray(supply, dtype=np.int64).reshape(len(depots), len(items)),
        dem_dest=dem[:, 0].astype(np.int64), dem_item=dem[:, 1].astype(np.int64),
        dem_qty=dem[:, 2].astype(np.int64), dem_priority=np.round(dem[:, 3], 2),
        arc_depot=a_dep, arc_dest=a_dst, arc_cost=a_cost,
        unmet_penalty=round(float(unmet_penalty), 3))


def orders_of(problem: Problem, solution: Solution) -> list[dict[str, Any]]:
    """Shipments grouped per (depot, destination): CONTRACT.md ``orders``."""
    grouped: dict[tuple[int, int], dict[str, Any]] = {}
    for d, j, k, q, c in zip(solution.ship_depot, solution.ship_dest, solution.ship_item,
                             solution.ship_qty, solution.ship_cost, strict=True):
        order = grouped.setdefault((int(d), int(j)), {
            "depot": problem.depots[d], "destination": problem.destinations[j],
            "distance_km": float(c), "lines": []})
        order["lines"].append({"item": problem.items[k], "quantity": int(q)})
    return [grouped[key] for key in sorted(grouped)]


def unmet_of(problem: Problem, solution: Solution) -> list[dict[str, Any]]:
    return [{"destination": problem.destinations[problem.dem_dest[r]],
             "item": problem.items[problem.dem_item[r]], "quantity": int(q)}
            for r, q in enumerate(solution.unmet_qty) if q > 0]


def truckloads(lines: list[dict[str, Any]], item_specs: dict[str, tuple[float, float]],
               vehicles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split an order's lines into truckloads by weight and volume (first fit, largest
    vehicle of the depot first; a line may span loads).

    ``item_specs``: item → (kg, m³) per unit; ``vehicles``: ``{"code", "payload_kg",
    "volume_m3"}``. Vehicles are reused in turn when the order needs more loads than trucks.
    """
    if not vehicles:
        return []
    fleet = sorted(vehicles, key=lambda v: (-v["payload_kg"], v["code"]))
    loads: list[dict[str, Any]] = []

    def new_load() -> dict[str, Any]:
        vehicle = fleet[len(loads) % len(fleet)]
        load = {"vehicle": vehicle["code"], "payload_kg": vehicle["payload_kg"],
                "capacity_m3": vehicle["volume_m3"], "weight_kg": 0.0, "volume_m3": 0.0,
                "lines": []}
        loads.append(load)
        return load

    load = new_load()
    for line in sorted(lines, key=lambda ln: -item_specs.get(ln["item"], (0, 0))[0]):
        kg, m3 = item_specs.get(line["item"], (0.0, 0.0))
        left = int(line["quantity"])
        while left > 0:
            room_w = (load["payload_kg"] - load["weight_kg"]) / kg if kg > 0 else float("inf")
            room_v = (load["capacity_m3"] - load["volume_m3"]) / m3 if m3 > 0 else float("inf")
            fit = int(min(left, room_w + 1e-9, room_v + 1e-9))
            if fit <= 0:
                if not load["lines"]:
                    # One unit heavier than the truck: carried alone rather than never.
                    fit = 1
                else:
                    load = new_load()
                    continue
            load["lines"].append({"item": line["item"], "quantity": fit})
            load["weight_kg"] = round(load["weight_kg"] + fit * kg, 3)
            load["volume_m3"] = round(load["volume_m3"] + fit * m3, 4)
            left -= fit
            if left > 0:
                load = new_load()
    for load in loads:
        del load["payload_kg"], load["capacity_m3"]
    return loads
