"""HTTP API of report review: the list with filters and counts, the duty officer's
decision, the officer's correction and resend (Idempotency-Key), errors in Chinese."""

from __future__ import annotations

import pytest

from disaster.access import cli_actor
from disaster.accounts import issue_token
from tests.disaster.reports.factories import build_region
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        region = build_region(s)
        tokens = {name: issue_token(s, cli_actor(), name) for name in ("officer", "duty", "other")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "officer", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}", "Accept-Language": "zh-CN",
                   **kwargs.pop("headers", {})}
        return client.open(url, method=method, headers=headers, **kwargs)

    call.region = region  # type: ignore[attr-defined]
    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def file(api, n: int = 0, **figures) -> int:  # type: ignore[no-untyped-def]
    response = api("POST", "/api/v1/reports", json={
        "community": api.region.communities[n], "kind": "initial", "hazard": "rainstorm",
        "occurred_at": "2026-07-10T08:30:00+08:00", "affected_people": 10, "evacuated": 2,
        **figures})
    assert response.status_code == 201, response.json
    assert response.json["review_status"] == "pending"
    return response.json["id"]


def test_contract_listing_still_answers_by_community_and_event(api):
    rid = file(api)
    rows = api("GET", f"/api/v1/reports?community={api.region.communities[0]}").json
    assert [r["id"] for r in rows] == [rid]
    assert rows[0]["review_status"] == "pending"


def test_return_resend_and_verify_over_http(api):
    rid = file(api)
    refused = api("POST", f"/api/v1/reports/{rid}/review", who="duty",
                  json={"decision": "returned"})
    assert refused.status_code == 422 and "comment" in refused.json["error"]["fields"]
    assert refused.json["error"]["fields"]["comment"] == ["请写明需要信息员修改的内容"]
    returned = api("POST", f"/api/v1/reports/{rid}/review", who="duty",
                   json={"decision": "returned", "comment": "请核对转移人数"})
    assert returned.status_code == 200 and returned.json["review_status"] == "returned"
    assert returned.json["history"][0]["comment"] == "请核对转移人数"
    again = api("POST", f"/api/v1/reports/{rid}/review", who="duty", json={"decision": "verified"})
    assert again.status_code == 409 and again.json["error"]["code"] == "not_pending"

    bad = api("POST", f"/api/v1/reports/{rid}/resend", json={"evacuated": -1})
    assert bad.status_code == 422 and "evacuated" in bad.json["error"]["fields"]
    inconsistent = api("POST", f"/api/v1/reports/{rid}/resend", json={"evacuated": 11})
    assert inconsistent.status_code == 422 and "evacuated" in inconsistent.json["error"]["fields"]
    stranger = api("POST", f"/api/v1/reports/{rid}/resend", who="other", json={"evacuated": 3})
    assert stranger.status_code == 404

    sent = api("POST", f"/api/v1/reports/{rid}/resend", json={"evacuated": 3},
               headers={"Idempotency-Key": "fix-1"})
    assert sent.status_code == 200 and sent.json["review_status"] == "pending"
    assert sent.json["figures"]["evacuated"] == 3
    replay = api("POST", f"/api/v1/reports/{rid}/resend", json={"evacuated": 3},
                 headers={"Idempotency-Key": "fix-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert [h["action"] for h in replay.json["history"]] == ["returned", "resent"]

    verified = api("POST", f"/api/v1/reports/{rid}/review", who="duty",
                   json={"decision": "verified"})
    assert verified.json["review_status"] == "verified"
    listing = api("GET", "/api/v1/reports/review?status=verified", who="duty").json
    assert [r["id"] for r in listing["reports"]] == [rid]
    assert listing["counts"] == {"pending": 0, "verified": 1, "returned": 0}


def test_officers_do_not_review_and_see_only_their_reports(api):
    rid = file(api)
    assert api("POST", f"/api/v1/reports/{rid}/review",
               json={"decision": "verified"}).status_code == 403
    assert api("GET", "/api/v1/reports/review", who="other").json["reports"] == []
    bad = api("GET", "/api/v1/reports/review?kind=draft", who="duty")
    assert bad.status_code == 422 and "kind" in bad.json["error"]["fields"]
