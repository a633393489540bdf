"""The assignment is feasible and optimal: for its stated problem and over all shelters."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from shelters.assignment import solve_assignment
from shelters.errors import ShelterError
from shelters.evacuation import Group, build_plan

coords = st.tuples(st.floats(116.4, 118.1), st.floats(33.2, 34.6))


@st.composite
def instances(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 8))
    groups = [Group(f"C{i:02d}", draw(st.integers(1, 300)), draw(st.integers(0, 50)),
                    *draw(coords), "rainstorm", "red") for i in range(n)]
    shelters = [(f"S{j:02d}", *draw(coords), draw(st.integers(1, 400))) for j in range(m)]
    penalty = draw(st.sampled_from([2.0, 15.0, 40.0, 250.0]))
    k = draw(st.integers(1, 3))
    return groups, shelters, penalty, k


def linprog_optimum(problem: dict) -> float:
    """Re-solve the plan's own ``problem`` with HiGHS (scipy.optimize.linprog)."""
    groups = [g["community"] for g in problem["groups"]]
    shelters = [s["shelter"] for s in problem["shelters"]]
    arcs = problem["costs"]
    nx, ng = len(arcs), len(groups)
    c = np.array([a["cost"] for a in arcs] + [problem["unassigned_penalty"]] * ng)
    a_eq = np.zeros((ng, nx + ng))
    for col, arc in enumerate(arcs):
        a_eq[groups.index(arc["community"]), col] = 1
    a_eq[:, nx:] = np.eye(ng)
    b_eq = [g["people"] for g in problem["groups"]]
    a_ub = np.zeros((len(shelters), nx + ng))
    for col, arc in enumerate(arcs):
        a_ub[shelters.index(arc["shelter"]), col] = 1
    b_ub = [s["available"] for s in problem["shelters"]]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                  method="highs")
    assert res.status == 0
    return float(res.fun)


def check_feasible(plan: dict) -> None:
    problem = plan["problem"]
    free = {s["shelter"]: s["available"] for s in problem["shelters"]}
    cost = {(a["community"], a["shelter"]): a["cost"] for a in problem["costs"]}
    used: dict[str, int] = defaultdict(int)
    sent: dict[str, int] = defaultdict(int)
    for a in plan["assignments"]:
        assert a["shelter"] in free and a["people"] > 0
        assert a["distance_km"] == cost[(a["community"], a["shelter"])]
        used[a["shelter"]] += a["people"]
        sent[a["community"]] += a["people"]
    for u in plan["unassigned"]:
        sent[u["community"]] += u["people"]
    assert all(used[s] <= free[s] for s in used), "a shelter is filled beyond its free places"
    assert dict(sent) == {g["community"]: g["people"] for g in problem["groups"]}
    stated = (sum(a["distance_km"] * a["people"] for a in plan["assignments"])
              + problem["unassigned_penalty"] * sum(u["people"] for u in plan["unassigned"]))
    assert plan["objective"] == pytest.approx(stated, rel=1e-12, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_plan_never_exceeds_free_places_and_is_optimal_for_its_problem(instance):
    groups, shelters, penalty, k = instance
    plan = build_plan(groups, shelters, penalty, k=k)
    check_feasible(plan)
    assert plan["objective"] == pytest.approx(linprog_optimum(plan["problem"]), rel=1e-9,
                                              abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_widened_plan_equals_the_plan_over_all_shelters(instance):
    groups, shelters, penalty, k = instance
    narrow = build_plan(groups, shelters, penalty, k=k)
    full = build_plan(groups, shelters, penalty, k=len(shelters))
    assert narrow["certificate"]["optimal_over_all_shelters"]
    assert len(full["problem"]["costs"]) == len(groups) * len(shelters)
    assert narrow["objective"] == pytest.approx(full["objective"], rel=1e-12, abs=1e-9)


def test_vulnerable_people_go_to_the_nearest_shelter_first():
    groups = [Group("C1", 30, 10, 117.0, 33.6, "rainstorm", "red")]
    shelters = [("NEAR", 117.01, 33.6, 20), ("FAR", 117.2, 33.6, 100)]
    plan = build_plan(groups, shelters, 100.0)
    by_shelter = {a["shelter"]: a for a in plan["assignments"]}
    assert by_shelter["NEAR"]["people"] == 20 and by_shelter["NEAR"]["vulnerable"] == 10
    assert by_shelter["FAR"]["people"] == 10 and by_shelter["FAR"]["vulnerable"] == 0


def test_people_farther_than_the_penalty_stay_unplaced():
    groups = [Group("C1", 10, 0, 117.0, 33.6, "rainstorm", "red")]
    shelters = [("FAR", 117.5, 33.6, 100)]  # about 46 km away
    plan = build_plan(groups, shelters, 20.0)
    assert plan["assignments"] == [] and plan["unassigned"][0]["people"] == 10
    assert plan["objective"] == 200.0


def test_no_shelters_leaves_everyone_unplaced():
    plan = build_plan([Group("C1", 7, 7, 117.0, 33.6, "rainstorm", "red")], [], 10.0)
    assert plan["unassigned"] == [{"community": "C1", "people": 7, "vulnerable": 7}]
    assert plan["objective"] == 70.0


def test_negative_people_are_refused():
    with pytest.raises(ShelterError):
        solve_assignment(np.array([-1]), np.array([117.0]), np.array([33.6]),
                         np.array([117.1]), np.array([33.6]), np.array([5]), 1000)


def detour_roads(c_lon, c_lat, s_lon, s_lat):
    """A stand-in road network: great circle × 1.4 plus a 2 km access leg."""
    from gis.geometry import haversine_km

    return haversine_km(c_lon, c_lat, s_lon, s_lat) * 1.4 + 2.0


@settings(max_examples=30, deadline=None)
@given(instances())
def test_road_distance_plans_are_optimal_over_all_shelters_too(instance):
    groups, shelters, penalty, k = instance
    narrow = build_plan(groups, shelters, penalty, road=detour_roads, k=k)
    full = build_plan(groups, shelters, penalty, road=detour_roads, k=len(shelters))
    check_feasible(narrow)
    assert narrow["distance_mode"] == "road"
    assert narrow["objective"] == pytest.approx(full["objective"], rel=1e-12, abs=1e-9)
    assert narrow["objective"] == pytest.approx(linprog_optimum(narrow["problem"]), rel=1e-9,
                                                abs=1e-6)
