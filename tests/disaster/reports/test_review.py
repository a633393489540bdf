"""Report review: the duty officer verifies or returns with a comment; the officer corrects
and resends through the filing validation; the history keeps what was returned and why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from disaster.audit import AuditEntry
from disaster.errors import (
    DisasterConflict,
    DisasterNotFound,
    DisasterPermissionDenied,
    DisasterValidationError,
)
from disaster.notify.models import Notification
from disaster.reports.models import ReportReview, ReviewStatus
from disaster.reports.review import resend_report, returned_for, review_list, review_report
from disaster.reports.services import submit_report

NOW = dt.datetime(2026, 7, 10, 2, 0, tzinfo=dt.UTC)


def filed(session, region, n: int = 0, actor=None, **figures):  # type: ignore[no-untyped-def]
    report, _ = submit_report(session, actor or region.officer, {
        "community": region.communities[n], "kind": "initial", "hazard": "rainstorm",
        "occurred_at": "2026-07-10T08:30:00+08:00", "affected_people": 20, "evacuated": 5,
        **figures}, now=NOW)
    return report


def test_a_filed_report_waits_for_review(session, region):
    report = filed(session, region)
    assert report.review_status == ReviewStatus.PENDING
    listing = review_list(session, region.duty, {})
    assert listing["counts"] == {"pending": 1, "verified": 0, "returned": 0}
    row = listing["reports"][0]
    assert (row["community_name"], row["township_name"]) == ("测试01村", "埇桥街道")
    assert row["figures"]["affected_people"] == 20
    assert row["point_source"] == "community" and len(row["point"]) == 2


def test_return_needs_a_comment_and_only_duty_officers_review(session, region):
    report = filed(session, region)
    with pytest.raises(DisasterValidationError) as err:
        review_report(session, region.duty, report.id, {"decision": "returned"})
    assert "comment" in err.value.fields
    with pytest.raises(DisasterPermissionDenied):
        review_report(session, region.officer, report.id, {"decision": "verified"})


def test_returned_report_is_corrected_resent_and_verified_keeping_its_history(session, region):
    report = filed(session, region)
    review_report(session, region.duty, report.id,
                  {"decision": "returned", "comment": "转移人数与村委会台账不符"}, now=NOW)
    assert report.review_status == ReviewStatus.RETURNED
    mine = returned_for(session, [region.communities[0]])
    assert [r["comment"] for r in mine] == ["转移人数与村委会台账不符"]
    assert mine[0]["reviewer"] == "duty"
    # The submitter learns it in the inbox.
    note = session.scalar(select(Notification).where(Notification.kind == "report_returned"))
    assert note is not None and "转移人数" in note.body

    resend_report(session, region.officer, report.id, {"evacuated": 8}, now=NOW)
    assert (report.evacuated, report.affected_people) == (8, 20)
    assert report.review_status == ReviewStatus.PENDING
    with pytest.raises(DisasterConflict):  # resent: no longer with the officer
        resend_report(session, region.officer, report.id, {"evacuated": 9}, now=NOW)
    review_report(session, region.duty, report.id, {"decision": "verified"}, now=NOW)

    steps = session.scalars(select(ReportReview).where(ReportReview.report_id == report.id)
                            .order_by(ReportReview.id)).all()
    assert [s.action for s in steps] == ["returned", "resent", "verified"]
    assert steps[0].comment == "转移人数与村委会台账不符"
    assert (steps[1].before["evacuated"], steps[1].after["evacuated"]) == (5, 8)
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "report", AuditEntry.entity_id == str(report.id))).all()
    assert {"report.return", "report.resend", "report.verify"} <= set(actions)
    assert review_list(session, region.duty, {})["counts"] == {
        "pending": 0, "verified": 1, "returned": 0}


def test_resend_goes_through_the_filing_validation(session, region):
    report = filed(session, region)
    review_report(session, region.duty, report.id, {"decision": "returned", "comment": "核对"})
    with pytest.raises(DisasterValidationError) as err:
        resend_report(session, region.officer, report.id, {"evacuated": 30}, now=NOW)
    assert "evacuated" in err.value.fields  # more evacuated than affected people
    assert report.review_status == ReviewStatus.RETURNED and report.evacuated == 5


def test_officer_corrects_only_reports_of_own_communities(session, region):
    report = filed(session, region)
    review_report(session, region.duty, report.id, {"decision": "returned", "comment": "核对"})
    with pytest.raises(DisasterNotFound):
        resend_report(session, region.other_officer, report.id, {"evacuated": 4}, now=NOW)
    assert review_list(session, region.other_officer, {})["reports"] == []


def test_replayed_resend_applies_the_correction_once(session, region):
    report = filed(session, region)
    review_report(session, region.duty, report.id, {"decision": "returned", "comment": "核对"})
    _, replayed = resend_report(session, region.officer, report.id, {"evacuated": 6},
                                idempotency_key="k1", now=NOW)
    assert not replayed
    _, replayed = resend_report(session, region.officer, report.id, {"evacuated": 6},
                                idempotency_key="k1", now=NOW)
    assert replayed
    assert session.scalars(select(ReportReview.action).where(
        ReportReview.report_id == report.id)).all() == ["returned", "resent"]


def test_review_list_filters_by_township_kind_hazard_and_time(session, region):
    filed(session, region, 0)
    filed(session, region, 3, actor=region.duty, affected_people=3, evacuated=0)  # 符离镇
    everything = review_list(session, region.duty, {})
    assert len(everything["reports"]) == 2
    assert [t["name"] for t in everything["townships"]] == ["埇桥街道", "符离镇"]
    only = review_list(session, region.duty, {"township": "341302100"})["reports"]
    assert [r["community"] for r in only] == [region.communities[3]]
    assert review_list(session, region.duty, {"kind": "update"})["reports"] == []
    assert review_list(session, region.duty, {"hazard": "gale"})["reports"] == []
    assert len(review_list(session, region.duty, {"since": "2026-07-10T08:00:00+08:00",
                                                  "until": "2026-07-10T09:00"})["reports"]) == 2
    assert review_list(session, region.duty, {"since": "2026-07-10T09:00:00+08:00"})[
        "reports"] == []
