"""Officer registry: upsert, coverage, proposals solved as an assignment problem, handover."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from disaster.audit import AuditEntry
from disaster.communities import Community
from disaster.errors import DisasterConflict, DisasterPermissionDenied, DisasterValidationError
from disaster.officers import (
    Officer,
    approve_proposal,
    coverage,
    handover,
    officer_communities,
    propose_assignments,
    upsert_officers,
)


def record(code, home, primary=(), backup=(), **extra):  # type: ignore[no-untyped-def]
    return {"code": code, "name": f"信息员{code}", "phone": "13800000000",
            "email": f"{code.lower()}@example.cn", "home_community_code": home,
            "primary": list(primary), "backup": list(backup), **extra}


def ids(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {o.code: o.id for o in session.scalars(select(Officer))}


def test_upsert_creates_then_updates_and_is_audited(session, region):
    c = region.communities
    counts = upsert_officers(session, region.admin, [record("OF1", c[0], [c[0]]),
                                                     record("OB1", c[1], backup=c[:3])])
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}
    counts = upsert_officers(session, region.admin, [record("OF1", c[0], [c[0], c[1]])])
    assert counts == {"created": 0, "updated": 1, "unchanged": 0}
    assert officer_communities(session, ids(session)["OF1"])["primary"] == [c[0], c[1]]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "officer.update"))


def test_upsert_accepts_csv_style_lists(session, region):
    c = region.communities
    upsert_officers(session, region.admin,
                    [record("OF1", c[0]) | {"primary": f"{c[0]};{c[1]}", "backup": ""}])
    assert officer_communities(session, ids(session)["OF1"])["primary"] == [c[0], c[1]]


def test_bad_records_reject_the_whole_batch_naming_each_row(session, region):
    c = region.communities
    with pytest.raises(DisasterValidationError) as err:
        upsert_officers(session, region.admin, [
            record("OF1", c[0], [c[0]]),
            record("OF2", "341302001999", [c[0]], email="not-mail"),
        ])
    fields = err.value.fields
    assert "row 2: home_community_code" in fields and "row 2: email" in fields
    assert "row 2: primary" in fields  # c[0] already primary in row 1
    assert session.scalar(select(Officer.id)) is None


def test_new_primary_replaces_the_previous_one(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("OF1", c[0], [c[0]])])
    upsert_officers(session, region.admin, [record("OF2", c[0], [c[0]])])
    row = next(r for r in coverage(session)["communities"] if r["code"] == c[0])
    assert row["primary"] == ids(session)["OF2"]


def test_only_administrators_manage_officers(session, region):
    with pytest.raises(DisasterPermissionDenied):
        upsert_officers(session, region.duty, [record("OF1", region.communities[0])])


def test_coverage_lists_communities_without_a_primary(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("OF1", c[0], [c[0]]),
                                            record("OB1", c[1], backup=[c[0]])])
    data = coverage(session)
    assert data["uncovered"] == c[1:]
    first = data["communities"][0]
    assert first == {"code": c[0], "primary": ids(session)["OF1"],
                     "backup": ids(session)["OB1"], "backups": [ids(session)["OB1"]]}


def test_proposal_is_optimal_not_greedy_and_respects_max_load(session, region):
    c = region.communities  # squares on two rows: c[0..2] at y=0, c[3..5] at y=1
    # A lives in c[1], B in c[4] (one step north of c[1]); each may take 2 more.
    # Uncovered: c[2] (1 from A, ~1.4 from B), c[5] (1 from B), c[0] (1 from A), c[3] (1 B).
    upsert_officers(session, region.admin, [record("A", c[1], [c[1]]),
                                            record("B", c[4], [c[4]])])
    proposal = propose_assignments(session, region.admin, max_load=3)
    chosen = {i["community"]: i["officer_code"] for i in proposal.items}
    assert chosen == {c[0]: "A", c[2]: "A", c[3]: "B", c[5]: "B"}
    assert proposal.unassigned == []
    total = sum(i["distance_km"] for i in proposal.items)
    assert total == pytest.approx(4 * 0.93, rel=0.05)  # four ~0.93 km moves (0.01° east)


def test_proposal_leaves_communities_unassigned_beyond_capacity(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("A", c[1], [c[1]])])
    proposal = propose_assignments(session, region.admin, max_load=2)
    assert len(proposal.items) == 1 and proposal.items[0]["community"] in (c[0], c[2])
    assert len(proposal.unassigned) == 4


def test_approved_proposal_covers_the_communities(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("A", c[1], [c[1]]),
                                            record("B", c[4], [c[4]])])
    proposal = propose_assignments(session, region.admin, max_load=3)
    with pytest.raises(DisasterPermissionDenied):
        approve_proposal(session, region.duty, proposal.id)
    result = approve_proposal(session, region.admin, proposal.id)
    assert len(result["applied"]) == 4 and coverage(session)["uncovered"] == []
    with pytest.raises(DisasterConflict):
        approve_proposal(session, region.admin, proposal.id)


def test_handover_moves_everything_and_never_leaves_a_gap(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("OF1", c[0], [c[0], c[1]]),
                                            record("OF2", c[3], [c[3]]),
                                            record("OB1", c[2], backup=[c[0], c[1]])])
    result = handover(session, region.admin, "OF1", "OF2", deactivate=True)
    assert {m["community"] for m in result["moved"]} == {c[0], c[1]}
    data = coverage(session)
    assert {c[0], c[1], c[3]}.isdisjoint(data["uncovered"])
    assert officer_communities(session, ids(session)["OF2"])["primary"] == [c[0], c[1], c[3]]
    assert session.get(Officer, ids(session)["OF1"]).active is False


def test_handover_that_would_leave_no_backup_is_refused(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("OF1", c[0], [c[0]]),
                                            record("OB1", c[1], backup=[c[0]])])
    with pytest.raises(DisasterConflict) as err:
        handover(session, region.admin, "OF1", "OB1")
    # The community is named as people know it, not by its 12-digit code.
    name = session.scalar(select(Community.name).where(Community.code == c[0]))
    assert name in err.value.message and c[0] not in err.value.message
    assert officer_communities(session, ids(session)["OF1"])["primary"] == [c[0]]


def test_proposal_beats_nearest_first_greedy(session, region):
    c = region.communities  # c0 c1 c2 on the south row, c3 c4 c5 north of them
    # A (home c1) is 0.93 km from both c0 and c2; B (home c3) is 1.1 km from c0 but 2.2 km
    # from c2. Nearest-first in code order gives c0→A, c2→B (3.1 km); optimal is
    # c0→B, c2→A (2.0 km). C is full (max load 2) and takes nothing.
    upsert_officers(session, region.admin, [record("A", c[1], [c[1]]),
                                            record("B", c[3], [c[3]]),
                                            record("C", c[4], [c[4], c[5]])])
    proposal = propose_assignments(session, region.admin, max_load=2)
    assert {i["community"]: i["officer_code"] for i in proposal.items} == {c[0]: "B",
                                                                           c[2]: "A"}


def test_records_without_assignment_columns_keep_the_assignments(session, region):
    c = region.communities
    upsert_officers(session, region.admin, [record("OF1", c[0], [c[0]])])
    upsert_officers(session, region.admin, [{"code": "OF1", "name": "新名字",
                                             "phone": "13900000000"}])
    officer = session.get(Officer, ids(session)["OF1"])
    assert officer.name == "新名字" and officer.phone == "13900000000"
    assert officer.home_community_code == c[0]  # absent from the record: kept
    assert officer_communities(session, officer.id)["primary"] == [c[0]]
