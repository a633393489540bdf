"""HTTP API of shelters and evacuation plans (CONTRACT.md), with bearer tokens."""

from __future__ import annotations

import pytest
from apispec.yaml_utils import load_yaml_from_docstring
from shapely.geometry import Point

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters import services
from tests.shelters.conftest import build_city, community_centre, community_code
from web.api import shelters as shelter_api
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        build_city(s)
        for name, role in (("duty", "duty_officer"), ("officer", "info_officer"),
                           ("boss", "admin")):
            add_user(s, cli_actor(), name, role, scopes=["341302"] if role == "info_officer" else ())
        for n, (column, row, capacity) in enumerate([(2, 1, 120), (1, 1, 500)], start=1):
            services.create_shelter(s, cli_actor(), {
                "code": f"SH{n}", "name": f"避难场所{n}", "kind": "fixed", "capacity": capacity,
                "status": "standby", "geometry": Point(*community_centre(column, row))})
        set_level(s, community_code(1, 1), Hazard.RAINSTORM, WarningLevel.RED)
        s.flush()
        tokens = {name: issue_token(s, cli_actor(), name) for name in ("duty", "officer", "boss")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "duty", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}", **kwargs.pop("headers", {})}
        return client.open(url, method=method, headers=headers, **kwargs)

    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def test_endpoints_need_authentication(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    assert client.patch("/api/v1/shelters/SH1", json={"status": "open"}).status_code == 401
    assert client.post("/api/v1/evacuation/plans").status_code == 401
    app.extensions["disaster_runtime"].engine.dispose()


def test_duty_officer_opens_a_shelter_and_records_arrivals(api):
    response = api("PATCH", "/api/v1/shelters/SH1", json={"status": "open", "arrivals": 20})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "open" and response.json["occupancy"] == 20
    history = api("GET", "/api/v1/shelters/SH1/history", who="officer").json
    assert [(h["kind"], h["people"], h["actor"]) for h in history] == [("arrival", 20, "duty")]


def test_arrivals_beyond_capacity_answer_422_and_change_nothing(api):
    api("PATCH", "/api/v1/shelters/SH1", json={"status": "open", "arrivals": 100})
    response = api("PATCH", "/api/v1/shelters/SH1", json={"arrivals": 21})
    assert response.status_code == 422 and "people" in response.json["error"]["fields"]
    ok = api("PATCH", "/api/v1/shelters/SH1",
             json={"arrivals": 21, "override": True, "reason": "临时加床"})
    assert ok.status_code == 200 and ok.json["occupancy"] == 121 and ok.json["status"] == "full"


def test_refusals_read_in_chinese_naming_the_shelter_and_the_role(api):
    zh = {"Accept-Language": "zh-CN"}
    api("PATCH", "/api/v1/shelters/SH1", json={"status": "open", "arrivals": 100})
    error = api("PATCH", "/api/v1/shelters/SH1", headers=zh, json={"arrivals": 21}).json["error"]
    assert error["message"] == "121 人将超过避难场所1的容量 120 人（尚余 20 个位置）"
    assert error["fields"]["people"] == ["超过容量 120 人；需要超容量确认"]
    error = api("PATCH", "/api/v1/shelters/SH2", headers=zh, json={"arrivals": 1}).json["error"]
    assert error["message"] == "避难场所2当前为“待命”；请先开放再登记到达人员"
    error = api("PATCH", "/api/v1/shelters/SH1", who="officer", headers=zh,
                json={"status": "open"}).json["error"]
    assert error["message"] == "信息员无权修改避难场所"


def test_a_rejected_patch_is_all_or_nothing(api):
    response = api("PATCH", "/api/v1/shelters/SH1", json={"status": "open", "arrivals": 500})
    assert response.status_code == 422
    features = api("GET", "/api/v1/shelters/safety").json["features"]
    sh1 = next(f for f in features if f["properties"]["code"] == "SH1")
    assert sh1["properties"]["status"] == "standby" and sh1["properties"]["occupancy"] == 0


def test_unknown_status_and_negative_capacity_answer_422(api):
    assert api("PATCH", "/api/v1/shelters/SH1", json={"status": "burning"}).status_code == 422
    response = api("PATCH", "/api/v1/shelters/SH1", json={"capacity": -1})
    assert response.status_code == 422 and "capacity" in response.json["error"]["fields"]


def test_info_officer_may_not_patch_or_plan(api):
    assert api("PATCH", "/api/v1/shelters/SH1", who="officer",
               json={"status": "open"}).status_code == 403
    assert api("POST", "/api/v1/evacuation/plans", who="officer").status_code == 403


def test_unknown_shelter_is_404(api):
    assert api("PATCH", "/api/v1/shelters/NOPE", json={"status": "open"}).status_code == 404


def test_safety_flags_the_shelter_in_the_red_community(api):
    features = api("GET", "/api/v1/shelters/safety", who="officer").json["features"]
    safe = {f["properties"]["code"]: f["properties"]["safe"] for f in features}
    assert safe == {"SH1": True, "SH2": False}
    sh2 = next(f for f in features if f["properties"]["code"] == "SH2")["properties"]
    assert sh2["reasons"][0]["text"] == f"所在社区（村）{community_code(1, 1)} 处于暴雨红色预警"
    english = api("GET", "/api/v1/shelters/safety?lang=en").json["features"]
    sh2 = next(f for f in english if f["properties"]["code"] == "SH2")["properties"]
    assert sh2["reasons"][0]["text"] == f"red rainstorm warning in community {community_code(1, 1)}"


def test_plan_is_created_stored_and_listed_per_community(api):
    response = api("POST", "/api/v1/evacuation/plans")
    assert response.status_code == 201, response.json
    plan = response.json
    assert {"id", "assignments", "unassigned", "problem", "objective"} <= set(plan)
    assert [s["shelter"] for s in plan["problem"]["shelters"]] == ["SH1"]
    assert api("GET", f"/api/v1/evacuation/plans/{plan['id']}", who="officer").json == plan
    where = api("GET", f"/api/v1/evacuation/plans/{plan['id']}/communities/"
                       f"{community_code(1, 1)}", who="officer").json
    assert where["destinations"][0]["shelter"] == "SH1"
    assert where["destinations"][0]["people"] == 120 and where["unassigned"] == 80
    flows = api("GET", f"/api/v1/evacuation/plans/{plan['id']}/flows").json
    assert flows["features"][0]["geometry"]["type"] == "LineString"
    assert api("GET", "/api/v1/evacuation/plans").json[0]["id"] == plan["id"]
    assert api("GET", "/api/v1/evacuation/plans/999").status_code == 404


def test_rules_are_changed_by_administrators_only(api):
    rules = api("GET", "/api/v1/shelters/safety-rules").json
    assert api("PUT", "/api/v1/shelters/safety-rules", json={"rules": rules["rules"]}
               ).status_code == 403
    bad = api("PUT", "/api/v1/shelters/safety-rules", who="boss",
              json={"rates": {"*": {"red": 2}}})
    assert bad.status_code == 422 and "rates.*.red" in bad.json["error"]["fields"]
    ok = api("PUT", "/api/v1/shelters/safety-rules", who="boss",
             json={"unassigned_penalty_km": 12.5})
    assert ok.status_code == 200 and ok.json["unassigned_penalty_km"] == 12.5


def test_every_view_documents_its_openapi_yaml():
    views = [getattr(shelter_api, name) for name in (
        "patch_shelter", "shelter_history", "shelter_safety", "get_safety_rules",
        "put_safety_rules", "create_plan", "list_plans", "get_plan", "community_plan",
        "plan_flows")]
    for view in views:
        spec = load_yaml_from_docstring(view.__doc__)
        assert spec["summary"] and spec["responses"], view.__name__


def test_openapi_document_lists_the_shelter_endpoints(api):
    paths = api("GET", "/api/v1/openapi.json").json["paths"]
    assert "patch" in paths["/api/v1/shelters/{code}"]
    assert "post" in paths["/api/v1/evacuation/plans"]
    assert "get" in paths["/api/v1/evacuation/plans/{plan_id}"]
