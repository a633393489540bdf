"""The dispatch optimiser: feasible, and optimal for its own stated problem."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from stockpile import dispatch


def independent_lp(problem: dict) -> float:
    """Re-solve CONTRACT.md's ``problem`` as a plain LP with SciPy (no code shared)."""
    costs = problem["costs"]
    demands = problem["demands"]
    supply = {(s["depot"], s["item"]): s["quantity"] for s in problem["supplies"]}
    xs = [(c["depot"], c["destination"], d["item"], c["cost"])
          for c in costs for d in demands
          if d["destination"] == c["destination"] and supply.get((c["depot"], d["item"]), 0) > 0]
    n = len(xs) + len(demands)
    c = [x[3] for x in xs] + [problem["unmet_penalty"] * d["priority"] for d in demands]
    a_eq = lil_matrix((len(demands), n))
    for r, d in enumerate(demands):
        for v, x in enumerate(xs):
            if (x[1], x[2]) == (d["destination"], d["item"]):
                a_eq[r, v] = 1
        a_eq[r, len(xs) + r] = 1
    keys = sorted(supply)
    a_ub = lil_matrix((len(keys), n))
    for r, key in enumerate(keys):
        for v, x in enumerate(xs):
            if (x[0], x[2]) == key:
                a_ub[r, v] = 1
    result = linprog(c, A_ub=a_ub.tocsr() if keys else None,
                     b_ub=[supply[k] for k in keys] if keys else None, A_eq=a_eq.tocsr(),
                     b_eq=[d["quantity"] for d in demands], bounds=(0, None), method="highs")
    assert result.status == 0
    return result.fun


@st.composite
def problems(draw):
    n_dep = draw(st.integers(1, 4))
    n_dst = draw(st.integers(1, 5))
    n_item = draw(st.integers(1, 3))
    coords = st.tuples(st.floats(116.4, 118.1), st.floats(33.1, 34.6))
    depot_xy = np.array(draw(st.lists(coords, min_size=n_dep, max_size=n_dep)))
    dest_xy = np.array(draw(st.lists(coords, min_size=n_dst, max_size=n_dst)))
    supply = np.array(draw(st.lists(st.integers(0, 60), min_size=n_dep * n_item,
                                    max_size=n_dep * n_item))).reshape(n_dep, n_item)
    demands = [(j, k, draw(st.integers(1, 50)), draw(st.floats(1.0, 6.0)))
               for j in range(n_dst) for k in range(n_item) if draw(st.booleans())]
    if not demands:
        demands = [(0, 0, 5, 1.0)]
    return dispatch.build_problem(
        [f"D{a}" for a in range(n_dep)], depot_xy, supply, [f"C{j}" for j in range(n_dst)],
        dest_xy, [f"I{k}" for k in range(n_item)], demands,
        unmet_penalty=draw(st.sampled_from([5.0, 100.0, 1000.0])),
        max_depots=draw(st.integers(1, 4)))


def _check_feasible(problem: dispatch.Problem, solution: dispatch.Solution) -> None:
    assert (solution.ship_qty > 0).all() and (solution.unmet_qty >= 0).all()
    shipped = np.zeros_like(problem.supply)
    np.add.at(shipped, (solution.ship_depot, solution.ship_item), solution.ship_qty)
    assert (shipped <= problem.supply).all()  # never promises more than a depot holds
    allowed = set(zip(problem.arc_depot.tolist(), problem.arc_dest.tolist(), strict=True))
    assert set(zip(solution.ship_depot.tolist(), solution.ship_dest.tolist(),
                   strict=True)) <= allowed
    for r, (j, k, q) in enumerate(zip(problem.dem_dest, problem.dem_item, problem.dem_qty,
                                      strict=True)):
        got = solution.ship_qty[(solution.ship_dest == j) & (solution.ship_item == k)].sum()
        assert got + solution.unmet_qty[r] == q


@settings(max_examples=60, deadline=None)
@given(problems())
def test_plan_is_feasible_and_matches_an_independent_lp(problem):
    solution = dispatch.solve(problem)
    _check_feasible(problem, solution)
    stated = problem.as_dict()
    assert solution.objective == pytest.approx(independent_lp(stated), rel=1e-9, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(problems())
def test_problem_json_resolves_to_the_same_objective(problem):
    first = dispatch.solve(problem)
    again = dispatch.solve(dispatch.Problem.from_dict(problem.as_dict()))
    assert again.objective == pytest.approx(first.objective, abs=1e-6)


def _coupled(problem: dispatch.Problem, weight_budget: float) -> dispatch.Problem:
    problem.item_weight = np.linspace(1.0, 3.0, len(problem.items))
    problem.item_volume = np.full(len(problem.items), 0.01)
    problem.depot_weight = np.full(len(problem.depots), weight_budget)
    problem.depot_volume = np.full(len(problem.depots), np.inf)
    return problem


@settings(max_examples=20, deadline=None)
@given(problems())
def test_truck_capacities_use_highs_and_bind(problem):
    free = dispatch.solve(problem)
    loose = dispatch.solve(_coupled(problem, 1e9))
    assert loose.solver == "highs-milp"
    assert loose.objective == pytest.approx(free.objective, abs=1e-6)
    tight = dispatch.solve(_coupled(problem, 20.0))
    _check_feasible(problem, tight)
    again = dispatch.solve(dispatch.Problem.from_dict(problem.as_dict()))
    assert again.objective == pytest.approx(tight.objective, abs=1e-6)
    for a in range(len(problem.depots)):
        sel = tight.ship_depot == a
        assert (problem.item_weight[tight.ship_item[sel]] * tight.ship_qty[sel]).sum() <= 20.0 + 1e-9
    assert tight.objective >= free.objective - 1e-6


def test_red_warning_is_served_before_blue_when_stock_is_short():
    problem = dispatch.build_problem(
        ["D"], np.array([[117.0, 33.6]]), np.array([[10]]), ["RED", "BLUE"],
        np.array([[117.1, 33.6], [117.01, 33.6]]), ["QUILT"],
        [(0, 0, 10, 4.0), (1, 0, 10, 1.0)])
    solution = dispatch.solve(problem)
    orders = dispatch.orders_of(problem, solution)
    assert orders == [{"depot": "D", "destination": "RED", "distance_km": pytest.approx(12.1, abs=0.2),
                       "lines": [{"item": "QUILT", "quantity": 10}]}]
    assert dispatch.unmet_of(problem, solution) == [
        {"destination": "BLUE", "item": "QUILT", "quantity": 10}]


def test_nearest_depot_serves_when_stock_suffices():
    problem = dispatch.build_problem(
        ["NEAR", "FAR"], np.array([[117.0, 33.6], [118.0, 33.6]]), np.array([[50], [50]]),
        ["C"], np.array([[117.05, 33.6]]), ["TENT12"], [(0, 0, 30, 1.0)])
    orders = dispatch.orders_of(problem, dispatch.solve(problem))
    assert [o["depot"] for o in orders] == ["NEAR"]


def test_orders_are_split_into_truckloads_by_weight_and_volume():
    specs = {"TENT12": (35.0, 0.2), "WATER": (1.0, 0.0011)}
    loads = dispatch.truckloads([{"item": "TENT12", "quantity": 100},
                                 {"item": "WATER", "quantity": 1000}], specs,
                                [{"code": "T1", "payload_kg": 2000.0, "volume_m3": 10.0}])
    assert sum(ln["quantity"] for ld in loads for ln in ld["lines"] if ln["item"] == "TENT12") == 100
    assert sum(ln["quantity"] for ld in loads for ln in ld["lines"] if ln["item"] == "WATER") == 1000
    assert all(ld["weight_kg"] <= 2000.0 and ld["volume_m3"] <= 10.0 for ld in loads)
    assert len(loads) == 3  # 4,500 kg over 2,000 kg trucks


def test_a_non_positive_unmet_penalty_is_refused():
    with pytest.raises(dispatch.StockValidationError):
        dispatch.build_problem(["D"], np.array([[117, 33]]), np.array([[1]]), ["C"],
                               np.array([[117, 33]]), ["A"], [(0, 0, 1, 1.0)], unmet_penalty=0)


def test_items_solved_in_worker_processes_give_the_same_plan():
    rng = np.random.default_rng(5)
    problem = dispatch.build_problem(
        ["D0", "D1", "D2"], rng.uniform([116.5, 33.2], [118, 34], (3, 2)),
        rng.integers(0, 40, (3, 4)), [f"C{j}" for j in range(12)],
        rng.uniform([116.5, 33.2], [118, 34], (12, 2)), ["A", "B", "C", "D"],
        [(j, k, int(rng.integers(1, 30)), 1.0 + j % 4) for j in range(12) for k in range(4)])
    serial = dispatch.solve(problem)
    parallel = dispatch.solve(problem, workers=2)
    assert parallel.objective == pytest.approx(serial.objective)
    assert dispatch.orders_of(problem, parallel) == dispatch.orders_of(problem, serial)
