"""HTTP API of reports, events and officer coverage (CONTRACT.md), with bearer tokens."""

from __future__ import annotations

import csv
import io
import json

import pytest
from PIL import Image

from disaster.access import cli_actor
from disaster.accounts import issue_token
from disaster.officers import upsert_officers
from tests.disaster.reports.factories import build_region
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        region = build_region(s)
        upsert_officers(s, cli_actor(), [
            {"code": "OF1", "name": "张伟", "home_community_code": region.communities[0],
             "primary": [region.communities[0]]}])
        tokens = {name: issue_token(s, cli_actor(), name) for name in ("officer", "duty")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "officer", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}", **kwargs.pop("headers", {})}
        return client.open(url, method=method, headers=headers, **kwargs)

    call.region = region  # type: ignore[attr-defined]
    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def body(code: str, kind: str = "initial", **figures) -> dict:
    return {"community": code, "kind": kind, "hazard": "rainstorm",
            "occurred_at": "2026-07-10T08:30:00+08:00", **figures}


def test_report_needs_authentication(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    response = app.test_client().post("/api/v1/reports", json=body("341302001001"))
    assert response.status_code == 401
    app.extensions["disaster_runtime"].engine.dispose()


def test_filing_and_replaying_with_the_same_idempotency_key(api):
    code = api.region.communities[0]
    first = api("POST", "/api/v1/reports", json=body(code, affected_people=3),
                headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.json
    again = api("POST", "/api/v1/reports", json=body(code, affected_people=3),
                headers={"Idempotency-Key": "abc-1"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api("GET", f"/api/v1/reports?community={code}").json
    assert [r["id"] for r in listed] == [first.json["id"]]


def test_invalid_figures_answer_422_naming_the_field(api):
    response = api("POST", "/api/v1/reports",
                   json=body(api.region.communities[0], affected_people=5, evacuated=9))
    assert response.status_code == 422
    assert "evacuated" in response.json["error"]["fields"]


def test_officer_cannot_file_for_another_community(api):
    response = api("POST", "/api/v1/reports", json=body(api.region.communities[4]))
    assert response.status_code == 403
    assert api("GET", "/api/v1/reports", who="duty").json == []


def test_multipart_report_with_photo(api):
    image = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 90, 0)).save(image, "PNG")
    response = api("POST", "/api/v1/reports",
                   data={"report": json.dumps(body(api.region.communities[0])),
                         "photos": (io.BytesIO(image.getvalue()), "p.png")},
                   content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    [photo_id] = response.json["photos"]
    photo = api("GET", f"/api/v1/reports/photos/{photo_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"


def test_coverage_matches_the_contract_shape(api):
    data = api("GET", "/api/v1/officers/coverage").json
    assert set(data) >= {"communities", "uncovered"}
    assert set(data["communities"][0]) >= {"code", "primary", "backup"}
    assert data["uncovered"] == api.region.communities[1:]
    outlines = api("GET", "/api/v1/officers/uncovered").json
    assert sorted(f["properties"]["code"] for f in outlines["features"]) == data["uncovered"]


def test_uncovered_outlines_follow_the_console_view(api):
    everywhere = api("GET", "/api/v1/officers/uncovered?zoom=12&bbox=100,20,130,40").json
    assert len(everywhere["features"]) == len(api("GET", "/api/v1/officers/coverage")
                                              .json["uncovered"])
    elsewhere = api("GET", "/api/v1/officers/uncovered?bbox=80,20,81,21").json
    assert elsewhere["features"] == []
    bad = api("GET", "/api/v1/officers/uncovered?bbox=1,2,3")
    assert bad.status_code == 422 and "bbox" in bad.json["error"]["fields"]


def test_events_rollup_and_csv(api):
    created = api("POST", "/api/v1/events", who="duty",
                  json={"hazard": "rainstorm", "name": "7·10 暴雨", "area_codes": ["341302"]})
    assert created.status_code == 201
    assert api("POST", "/api/v1/events", json={"hazard": "rainstorm"}).status_code == 403
    api("POST", "/api/v1/reports", json=body(api.region.communities[0], affected_people=40,
                                             dead=1))
    roll = api("GET", "/api/v1/reports/rollup", who="duty").json
    assert roll["totals"]["affected_people"] == 40
    assert roll["response"]["level"] == "IV"  # city default: one dead or missing
    text = api("GET", "/api/v1/reports/export.csv", who="duty").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["affected_people"] == "40"
    closed = api("POST", f"/api/v1/events/{created.json['id']}/close", who="duty")
    assert closed.json["status"] == "closed"


def test_a_bad_limit_is_refused_naming_it(api):
    for url in ("/api/v1/reports?limit=abc", "/api/v1/reports?limit=0",
                "/api/v1/evacuation/plans?limit=501"):
        bad = api("GET", url)
        assert bad.status_code == 422 and "limit" in bad.json["error"]["fields"], url
    assert api("GET", "/api/v1/reports?limit=2").status_code == 200
