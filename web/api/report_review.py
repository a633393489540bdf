"""Report review API: the review list and map points, the duty officer's decision, the
officer's correction and resend. Thin over :mod:`disaster.reports.review`."""

from __future__ import annotations

from flask import jsonify, request

from disaster.reports import review
from disaster.reports.review_schemas import (
    ReportCorrection,
    ReviewDecision,
    ReviewListOut,
    ReviewQuery,
    ReviewReportOut,
)
from web.api.common import actor, api_blueprint, api_doc, json_body, query, session

bp = api_blueprint("report_review")


@bp.get("/reports/review")
@api_doc(query=ReviewQuery, response=ReviewListOut)
def review_list():  # type: ignore[no-untyped-def]
    """Reports with names, figures, photos, map point and review history, newest first;
    ``counts`` per review status (待审核 / 已核实 / 退回修改) over everything you may read."""
    filters = query(ReviewQuery)
    return jsonify(review.review_list(session(), actor(),
                                      filters.model_dump(exclude_none=True)))


@bp.post("/reports/<int:report_id>/review")
@api_doc(body=ReviewDecision, response=ReviewReportOut,
         responses={403: "not a duty officer or administrator", 404: "no such report",
                    409: "not waiting for review", 422: "returned without a comment"})
def decide(report_id: int):  # type: ignore[no-untyped-def]
    """Verify a waiting report, or return it to its officer with a comment."""
    body = json_body(ReviewDecision)
    db, who = session(), actor()
    review.review_report(db, who, report_id, body.model_dump())
    return jsonify(review.review_item(db, who, report_id))


@bp.post("/reports/<int:report_id>/resend")
@api_doc(body=ReportCorrection, response=ReviewReportOut,
         responses={404: "no such report in your communities", 409: "not returned",
                    422: "invalid figures, naming each field"})
def resend(report_id: int):  # type: ignore[no-untyped-def]
    """Correct a returned report and send it back for review (header Idempotency-Key:
    a replay returns the report without applying the correction twice)."""
    body = json_body(ReportCorrection)
    db, who = session(), actor()
    _report, replayed = review.resend_report(
        db, who, report_id, body.model_dump(exclude_unset=True),
        idempotency_key=request.headers.get("Idempotency-Key"))
    response = jsonify(review.review_item(db, who, report_id))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
