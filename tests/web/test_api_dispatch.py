"""HTTP API of dispatch in the browser: plan choices, review with names, line edits, bulk
confirm/ship, the order board and the movement history (web/api/dispatch.py)."""

from __future__ import annotations

import pytest

from disaster.access import cli_actor
from disaster.accounts import issue_token
from tests.web.test_api_stock import _seed
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    """``api(method, url, who=...)`` as user depot (DPA), other (DPB), duty or boss."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        _seed(s)
        tokens = {name: issue_token(s, cli_actor(), name)
                  for name in ("depot", "other", "duty", "boss")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "depot", **kwargs):  # type: ignore[no-untyped-def]
        return client.open(url, method=method,
                           headers={"Authorization": f"Bearer {tokens[who]}"}, **kwargs)

    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def _plan(api, **body):  # type: ignore[no-untyped-def]
    response = api("POST", "/api/v1/dispatch/plans", who="duty", json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_contract_plan_without_a_body_still_plans(api):
    response = api("POST", "/api/v1/dispatch/plans", who="duty")
    assert response.status_code == 201
    assert {"id", "orders", "unmet", "problem", "objective"} <= set(response.json)


def test_plan_choices_are_validated_naming_the_field(api):
    response = api("POST", "/api/v1/dispatch/plans", who="duty", json={"source": "rumours"})
    assert response.status_code == 422 and "source" in response.json["error"]["fields"]
    response = api("POST", "/api/v1/dispatch/plans", who="duty", json={"depots": ["NOPE"]})
    assert response.status_code == 422
    assert "NOPE" in response.json["error"]["message"]
    assert response.json["error"]["message"].startswith("未知仓库")


def test_options_list_depots_and_items_by_name(api):
    options = api("GET", "/api/v1/dispatch/options", who="duty").json
    assert options["sources"] == ["both", "reports", "model"]
    assert {"code": "DPA", "name": "仓库DPA"} in options["depots"]
    quilt = next(i for i in options["items"] if i["code"] == "QUILT")
    assert quilt["name"] == "棉被" and quilt["unit"] == "床"


def test_review_names_depots_destinations_and_items(api):
    plan = _plan(api, source="reports", depots=["DPA"])
    review = api("GET", f"/api/v1/dispatch/plans/{plan['id']}/review", who="duty").json
    labels = {o["destination_label"] for o in review["orders"]}
    assert "乙村（埇桥街道）" in labels
    assert all(o["depot_name"] == "仓库DPA" for o in review["orders"])
    assert all(ln["name"] and ln["unit"] for o in review["orders"] for ln in o["lines"])
    assert review["flows"]["type"] == "FeatureCollection" and review["flows"]["features"]
    assert api("GET", "/api/v1/dispatch/plans", who="depot").json[0]["id"] == plan["id"]


def test_edit_beyond_stock_answers_409_in_chinese_with_names(api):
    plan = _plan(api, source="reports")
    order = next(o for o in plan["orders"] if o["depot"] == "DPA")
    response = api("PATCH", f"/api/v1/dispatch/orders/{order['id']}/lines/QUILT", who="duty",
                   json={"quantity": 100000})
    assert response.status_code == 409
    message = response.json["error"]["message"]
    assert message.startswith("仓库DPA的棉被只有 ") and "床" in message
    assert "QUILT" not in message and "available" not in message
    assert response.json["error"]["code"] == "insufficient_stock"


def test_edit_a_line_then_approve(api):
    plan = _plan(api, source="reports")
    order = next(o for o in plan["orders"] if o["depot"] == "DPA")
    response = api("PATCH", f"/api/v1/dispatch/orders/{order['id']}/lines/QUILT", who="duty",
                   json={"quantity": 7})
    assert response.status_code == 200, response.json
    assert next(ln for ln in response.json["lines"] if ln["item"] == "QUILT")["quantity"] == 7
    assert api("PATCH", f"/api/v1/dispatch/orders/{order['id']}/lines/QUILT", who="depot",
               json={"quantity": 7}).status_code == 403
    assert api("PATCH", f"/api/v1/dispatch/orders/{order['id']}/lines/QUILT", who="duty",
               json={"quantity": -1}).status_code == 422
    assert api("POST", f"/api/v1/dispatch/plans/{plan['id']}/approve",
               who="duty").status_code == 200
    response = api("PATCH", f"/api/v1/dispatch/orders/{order['id']}/lines/QUILT", who="duty",
                   json={"quantity": 8})
    assert response.status_code == 422 and "已批准" in response.json["error"]["message"]


def test_bulk_confirm_and_ship_by_the_depots_manager_only(api):
    plan = _plan(api, source="reports")
    api("POST", f"/api/v1/dispatch/plans/{plan['id']}/approve", who="duty")
    ids = [o["id"] for o in plan["orders"] if o["depot"] == "DPA"]
    refused = api("POST", "/api/v1/dispatch/orders/bulk", who="other",
                  json={"action": "confirm", "orders": ids})
    assert refused.status_code == 403 and "仓库DPA" in refused.json["error"]["message"]
    board = api("GET", f"/api/v1/dispatch/board?plan={plan['id']}&status=approved",
                who="duty").json
    assert {o["id"] for o in board["orders"]} >= set(ids)
    done = api("POST", "/api/v1/dispatch/orders/bulk", who="depot",
               json={"action": "confirm", "orders": ids}).json
    assert done["done"] == ids and done["failed"] == []
    again = api("POST", "/api/v1/dispatch/orders/bulk", who="depot",
                json={"action": "confirm", "orders": ids}).json
    assert again["done"] == [] and "已确认" in again["failed"][0]["message"]
    shipped = api("POST", "/api/v1/dispatch/orders/bulk", who="depot",
                  json={"action": "ship", "orders": ids}).json
    assert shipped["done"] == ids
    board = api("GET", "/api/v1/dispatch/board?status=shipped", who="duty").json
    assert {o["id"] for o in board["orders"]} == set(ids) and board["counts"]["shipped"] == len(ids)
    assert api("GET", "/api/v1/dispatch/board?status=lost", who="duty").status_code == 422


def test_movement_history_for_the_depots_manager_and_duty_officers(api):
    api("POST", "/api/v1/depots/DPA/movements", json={"kind": "issue", "item": "QUILT",
                                                      "quantity": 20})
    history = api("GET", "/api/v1/depots/DPA/movements?item=QUILT&per_page=1").json
    assert history["total"] == 2 and history["pages"] == 2
    first = history["movements"][0]
    assert (first["kind"], first["name"], first["quantity"], first["balance"]) == (
        "issue", "棉被", -20, 380)
    assert api("GET", "/api/v1/depots/DPA/movements", who="duty").status_code == 200
    assert api("GET", "/api/v1/depots/DPA/movements", who="other").status_code == 403
    assert api("GET", "/api/v1/depots/DPA/movements?page=0").status_code == 422
