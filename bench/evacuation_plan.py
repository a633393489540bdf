"""Benchmark: evacuation plan for 20,000 communities and 2,000 shelters (target < 5 s).

Prints the solve time (k nearest + min-cost flow + dual certificate rounds) and the time to
build the full plan document, for a case with ample places and one where places are scarce
(many people unplaced, so the certificate must rule out every farther shelter).

    .venv/bin/python bench/evacuation_plan.py [--communities N] [--shelters M] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from shelters.assignment import solve_assignment
from shelters.evacuation import DEFAULT_PENALTY_KM, Group, build_plan

# 宿州's extent (≈116.4–118.2° E, 33.2–34.6° N).
BOUNDS = (116.4, 33.2, 118.1, 34.6)


def instance(n: int, m: int, seed: int, scarce: bool):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = BOUNDS
    c_lon, c_lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    s_lon, s_lat = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
    people = rng.integers(1, 400, n)
    # Ample: ~2.5× the people at risk; scarce: ~half of them.
    free = rng.integers(50, 2000, m) if scarce else rng.integers(200, 10000, m)
    return people, c_lon, c_lat, s_lon, s_lat, free


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communities", type=int, default=20_000)
    parser.add_argument("--shelters", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n, m = args.communities, args.shelters
    penalty_m = int(DEFAULT_PENALTY_KM * 1000)
    for scarce in (False, True):
        people, c_lon, c_lat, s_lon, s_lat, free = instance(n, m, args.seed, scarce)
        start = time.perf_counter()
        sol = solve_assignment(people, c_lon, c_lat, s_lon, s_lat, free, penalty_m)
        solve_s = time.perf_counter() - start
        groups = [Group(f"C{i:06d}", int(p), 0, float(x), float(y), "rainstorm", "red")
                  for i, (p, x, y) in enumerate(zip(people, c_lon, c_lat, strict=True))]
        shelters = [(f"S{j:05d}", float(x), float(y), int(f))
                    for j, (x, y, f) in enumerate(zip(s_lon, s_lat, free, strict=True))]
        start = time.perf_counter()
        plan = build_plan(groups, shelters, DEFAULT_PENALTY_KM)
        plan_s = time.perf_counter() - start
        label = "scarce places" if scarce else "ample places "
        print(f"{label}: {n:,} communities × {m:,} shelters, {int(people.sum()):,} people, "
              f"{int(free.sum()):,} places")
        print(f"  solve (exact, certified={sol.certified}): {solve_s:.2f} s in {sol.rounds} "
              f"round(s), {len(sol.arc_community):,} arcs; unplaced {int(sol.unassigned.sum()):,}")
        print(f"  full plan document incl. problem: {plan_s:.2f} s "
              f"({len(plan['assignments']):,} assignments, objective {plan['objective']:,.1f})")


if __name__ == "__main__":
    main()
