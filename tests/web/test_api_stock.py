"""HTTP API of depot stock, movements, dispatch plans and order actions (CONTRACT.md)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from tests.stockpile.conftest import seed_relief, seed_stock
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        _seed(s)
        tokens = {name: issue_token(s, cli_actor(), name)
                  for name in ("depot", "other", "duty", "boss")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "depot", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}", **kwargs.pop("headers", {})}
        return client.open(url, method=method, headers=headers, **kwargs)

    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def _seed(s: Session) -> None:
    """Depots DPA (QUILT 400, …) and DPB, communities with needs (see seed_relief), users."""
    seed_relief(seed_stock(s))
    add_user(s, cli_actor(), "depot", "depot_manager", scopes=["DPA"])
    add_user(s, cli_actor(), "other", "depot_manager", scopes=["DPB"])
    add_user(s, cli_actor(), "duty", "duty_officer")
    add_user(s, cli_actor(), "boss", "admin")


def _quilts(api) -> int:  # type: ignore[no-untyped-def]
    rows = api("GET", "/api/v1/depots/DPA/stock", who="duty").json
    return next((r["quantity"] for r in rows if r["item"] == "QUILT"), 0)


def test_stock_needs_authentication(database_url):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    assert client.get("/api/v1/depots/DPA/stock").status_code == 401
    app.extensions["disaster_runtime"].engine.dispose()


def test_manager_issues_and_receives(api):
    response = api("POST", "/api/v1/depots/DPA/movements",
                   json={"kind": "issue", "item": "QUILT", "quantity": 20})
    assert response.status_code == 201, response.json
    response = api("POST", "/api/v1/depots/DPA/movements",
                   json={"kind": "receipt", "item": "QUILT", "quantity": 5, "lot": "B2"})
    assert response.status_code == 201
    assert _quilts(api) == 385


def test_issue_beyond_stock_is_409_and_changes_nothing(api):
    response = api("POST", "/api/v1/depots/DPA/movements",
                   json={"kind": "issue", "item": "QUILT", "quantity": 401})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_stock"
    assert _quilts(api) == 400


def test_shortage_reads_in_chinese_naming_item_unit_and_depot(api):
    response = api("POST", "/api/v1/depots/DPA/movements", headers={"Accept-Language": "zh-CN"},
                   json={"kind": "issue", "item": "QUILT", "quantity": 401})
    error = response.json["error"]
    assert response.status_code == 409 and error["code"] == "insufficient_stock"
    assert error["message"] == "仓库DPA的棉被只有 400 床，需要 401"
    assert error["fields"]["quantity"] == ["超出可用库存（400 床）"]


def test_another_depot_is_refused_by_its_name_in_chinese(api):
    response = api("POST", "/api/v1/depots/DPA/movements", who="other",
                   headers={"Accept-Language": "zh-CN"},
                   json={"kind": "issue", "item": "QUILT", "quantity": 1})
    assert response.status_code == 403
    assert response.json["error"]["fields"]["depot"] == ["仓库DPA不在您的管辖范围内"]
    assert "出库" in response.json["error"]["message"]


def test_bad_movements_answer_422_naming_the_field(api):
    cases = [({"kind": "issue", "item": "QUILT", "quantity": 1.5}, "quantity"),
             ({"kind": "issue", "item": "NOPE", "quantity": 1}, "item"),
             ({"kind": "transfer", "item": "QUILT", "quantity": 1, "to_depot": "DPA"}, "to_depot"),
             ({"kind": "adjustment", "item": "QUILT", "quantity": -1}, "reason"),
             ({"kind": "teleport", "item": "QUILT", "quantity": 1}, "kind")]
    for body, field in cases:
        response = api("POST", "/api/v1/depots/DPA/movements", json=body)
        assert response.status_code == 422, body
        assert field in response.json["error"]["fields"], body
    assert _quilts(api) == 400


def test_manager_of_another_depot_gets_403_and_unknown_depot_404(api):
    response = api("POST", "/api/v1/depots/DPA/movements", who="other",
                   json={"kind": "issue", "item": "QUILT", "quantity": 1})
    assert response.status_code == 403
    assert api("GET", "/api/v1/depots/NOPE/stock").status_code == 404


def test_transfer_and_stock_card(api):
    response = api("POST", "/api/v1/depots/DPA/movements",
                   json={"kind": "transfer", "item": "QUILT", "quantity": 10, "to_depot": "DPB"})
    assert response.status_code == 201
    card = api("GET", "/api/v1/depots/DPA/items/QUILT/card").json
    assert [m["balance"] for m in card["movements"]] == [400, 390]
    rows = api("GET", "/api/v1/depots/DPB/stock").json
    assert rows[0]["quantity"] == 110


def test_plan_then_order_workflow_over_http(api):
    created = api("POST", "/api/v1/dispatch/plans", who="duty", json={})
    assert created.status_code == 201, created.json
    plan = created.json
    assert {"id", "orders", "unmet", "problem", "objective"} <= set(plan)
    assert api("GET", f"/api/v1/dispatch/plans/{plan['id']}").json["id"] == plan["id"]
    order = next(o for o in plan["orders"] if o["depot"] == "DPA")
    quilts = next((ln["quantity"] for ln in order["lines"] if ln["item"] == "QUILT"), 0)
    url = f"/api/v1/dispatch/orders/{order['id']}"
    assert api("POST", f"{url}/confirm").status_code == 422  # not approved yet
    assert api("POST", f"{url}/approve", who="depot").status_code == 403
    assert api("POST", f"{url}/approve", who="duty").json["status"] == "approved"
    assert api("POST", f"{url}/confirm", who="other").status_code == 403
    assert api("POST", f"{url}/confirm").json["status"] == "confirmed"
    assert api("POST", f"{url}/ship").json["status"] == "shipped"
    assert _quilts(api) == 400 - quilts
    assert api("POST", f"{url}/deliver", who="duty").json["status"] == "delivered"
    assert api("POST", f"{url}/cancel", who="duty").status_code == 422
    lines = api("GET", "/api/v1/dispatch/orders", who="duty").json
    assert order["id"] not in [o["id"] for o in lines]  # delivered: no longer drawn


def test_planning_is_for_duty_officers_and_unknown_ids_are_404(api):
    assert api("POST", "/api/v1/dispatch/plans", who="depot").status_code == 403
    assert api("POST", "/api/v1/dispatch/orders/999/confirm").status_code == 404
    assert api("GET", "/api/v1/dispatch/plans/999").status_code == 404


def test_needs_and_warnings_are_listed(api):
    needs = api("GET", "/api/v1/needs", who="duty").json
    assert {d["destination"] for d in needs} >= {"341302001201", "SH1"}
    assert api("GET", "/api/v1/stock/warnings", who="duty").status_code == 200
    profiles = api("GET", "/api/v1/needs/profiles", who="duty").json
    assert {p["code"] for p in profiles} == {"china", "sphere", "inasafe"}
    assert api("PUT", "/api/v1/needs/profiles/sphere", who="duty",
               json={"active": True}).status_code == 403
    assert api("PUT", "/api/v1/needs/profiles/sphere", who="boss",
               json={"active": True}).json["active"] is True
