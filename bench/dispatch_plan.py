"""Dispatch planning time: 50 depots × 12 items × 2,000 destinations (target < 2 s) and
500 × 20 × 20,000 (target < 30 s), plus HiGHS on the same LP for comparison.

Run: ``.venv/bin/python bench/dispatch_plan.py [--skip-highs] [--seed N]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from stockpile import dispatch


def synthetic(n_depots: int, n_items: int, n_dest: int, seed: int) -> dispatch.Problem:
    """Depots and destinations spread over 宿州's extent; stock covers about 70 % of needs."""
    rng = np.random.default_rng(seed)
    lo, hi = np.array([116.4, 33.1]), np.array([118.1, 34.6])
    depot_xy = rng.uniform(lo, hi, (n_depots, 2))
    dest_xy = rng.uniform(lo, hi, (n_dest, 2))
    demand = rng.integers(10, 500, (n_dest, n_items))
    share = rng.dirichlet(np.ones(n_depots), n_items).T  # depots × items
    supply = np.floor(share * demand.sum(axis=0) * 0.7).astype(np.int64)
    priority = rng.choice([1.0, 2.0, 3.0, 4.0], n_dest) * (1 + 0.5 * rng.uniform(0, 0.4, n_dest))
    rows = [(j, k, int(demand[j, k]), float(priority[j]))
            for j in range(n_dest) for k in range(n_items)]
    return dispatch.build_problem([f"D{a}" for a in range(n_depots)], depot_xy, supply,
                                  [f"C{j}" for j in range(n_dest)], dest_xy,
                                  [f"I{k}" for k in range(n_items)], rows)


def highs_lp(problem: dispatch.Problem) -> tuple[float, float]:
    """The same separable problem as one sparse LP solved by HiGHS (scipy linprog)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    started = time.perf_counter()
    dem_row = {(int(j), int(k)): r for r, (j, k) in
               enumerate(zip(problem.dem_dest, problem.dem_item, strict=True))}
    n_items = len(problem.items)
    a_idx = np.repeat(np.arange(problem.arc_depot.size), n_items)
    k_idx = np.tile(np.arange(n_items), problem.arc_depot.size)
    rows = np.array([dem_row.get((int(problem.arc_dest[a]), int(k)), -1)
                     for a, k in zip(a_idx, k_idx, strict=True)])
    keep = (rows >= 0) & (problem.supply[problem.arc_depot[a_idx], k_idx] > 0)
    a_idx, k_idx, rows = a_idx[keep], k_idx[keep], rows[keep]
    n_x, n_d = a_idx.size, problem.dem_qty.size
    cost = np.concatenate([problem.arc_cost[a_idx], problem.unmet_penalty * problem.dem_priority])
    eq = coo_matrix((np.ones(n_x + n_d), (np.concatenate([rows, np.arange(n_d)]),
                                          np.arange(n_x + n_d))), shape=(n_d, n_x + n_d))
    sup_row = problem.arc_depot[a_idx] * n_items + k_idx
    ub = coo_matrix((np.ones(n_x), (sup_row, np.arange(n_x))),
                    shape=(problem.supply.size, n_x + n_d))
    result = linprog(cost, A_ub=ub.tocsr(), b_ub=problem.supply.ravel(), A_eq=eq.tocsr(),
                     b_eq=problem.dem_qty, bounds=(0, None), method="highs")
    return result.fun, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-highs", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes solving items in parallel (the CLI uses the CPU count)")
    args = parser.parse_args()
    cases = [(50, 12, 2_000, 2.0)] + ([] if args.skip_large else [(500, 20, 20_000, 30.0)])
    for depots, items, dests, target in cases:
        started = time.perf_counter()
        problem = synthetic(depots, items, dests, args.seed)
        built = time.perf_counter() - started
        solution = dispatch.solve(problem, workers=args.workers)
        started = time.perf_counter()
        problem.as_dict()
        as_json = time.perf_counter() - started
        arcs = problem.arc_depot.size
        print(f"{depots} depots × {items} items × {dests:,} destinations "
              f"({arcs:,} candidate depot–destination pairs): build {built:.2f} s, "
              f"solve {solution.seconds:.2f} s ({solution.solver}, {args.workers} worker(s)), "
              f"problem JSON "
              f"{as_json:.2f} s; plan total {built + solution.seconds:.2f} s "
              f"(target < {target:.0f} s); unmet units {int(solution.unmet_qty.sum()):,}")
        if not args.skip_highs and depots <= 50:
            objective, seconds = highs_lp(problem)
            print(f"  HiGHS LP on the same problem: {seconds:.2f} s, objective {objective:.3f} "
                  f"vs min-cost flow {solution.objective:.3f}")


if __name__ == "__main__":
    main()
