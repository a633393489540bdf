"""The depot page's dispatch part without a browser: bulk confirm and ship by the depot's own
manager only (CSRF, scope), one summary, and the movement history page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from stockpile import orders
from stockpile.models import Depot
from stockpile.orders_models import DispatchOrder, OrderStatus
from tests.stockpile.conftest import DUTY, seed_relief, seed_stock
from tests.web.test_depot_page import _token
from web.app import create_app

PASSWORD = "Depot2026pass!"


@pytest.fixture
def app(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        seed_relief(seed_stock(s))
        add_user(s, cli_actor(), "depot", Role.DEPOT_MANAGER, password=PASSWORD, scopes=["DPA"])
        add_user(s, cli_actor(), "other", Role.DEPOT_MANAGER, password=PASSWORD, scopes=["DPB"])
        plan = orders.create_plan(s, DUTY, source="reports")
        orders.approve_plan(s, DUTY, plan.id)
        s.commit()
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def _sign_in(app, username):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def _dpa_orders(app) -> dict[int, OrderStatus]:  # type: ignore[no-untyped-def]
    with app.extensions["disaster_runtime"].sessions() as s:
        return dict(s.execute(select(DispatchOrder.id, DispatchOrder.status).join(
            Depot, Depot.id == DispatchOrder.depot_id).where(Depot.code == "DPA")).all())


def test_manager_confirms_several_orders_with_one_summary(app):
    client = _sign_in(app, "depot")
    html = client.get("/depot/DPA").get_data(as_text=True)
    ids = sorted(_dpa_orders(app))
    assert len(ids) >= 2 and all(f'name="orders" value="{i}"' in html for i in ids)
    assert "乙村（埇桥街道）" in html and "棉被" in html
    assert client.post("/depot/DPA/orders/bulk", data={
        "action": "confirm", "orders": ids}).status_code == 400  # no CSRF token
    response = client.post("/depot/DPA/orders/bulk", data={
        "action": "confirm", "orders": ids, "csrf_token": _token(html)})
    assert response.status_code == 302 and response.headers["Location"].endswith("#orders")
    assert set(_dpa_orders(app).values()) == {OrderStatus.CONFIRMED}
    page = client.get("/depot/DPA").get_data(as_text=True)
    assert f"已确认 {len(ids)} 张调拨单" in page
    response = client.post("/depot/DPA/orders/bulk", data={
        "action": "ship", "orders": ids, "csrf_token": _token(html), "keep_scroll": "1"})
    assert response.headers["Location"].endswith("/depot/DPA")  # the page restores its place
    assert set(_dpa_orders(app).values()) == {OrderStatus.SHIPPED}


def test_a_refused_order_is_named_while_the_others_move(app):
    client = _sign_in(app, "depot")
    html = client.get("/depot/DPA").get_data(as_text=True)
    ids = sorted(_dpa_orders(app))
    client.post("/depot/DPA/orders/bulk", data={"action": "confirm", "orders": ids[:1],
                                                "csrf_token": _token(html)})
    client.post("/depot/DPA/orders/bulk", data={"action": "confirm", "orders": ids,
                                                "csrf_token": _token(html)})
    page = client.get("/depot/DPA").get_data(as_text=True)
    assert f"调拨单 #{ids[0]} 未能处理" in page and "已确认" in page
    assert set(_dpa_orders(app).values()) == {OrderStatus.CONFIRMED}


def test_another_depots_manager_cannot_move_these_orders(app):
    client = _sign_in(app, "other")
    html = client.get("/depot/DPB").get_data(as_text=True)
    ids = sorted(_dpa_orders(app))
    assert client.post("/depot/DPA/orders/bulk", data={
        "action": "confirm", "orders": ids, "csrf_token": _token(html)}).status_code == 403
    # Through the own depot's address, naming the other depot's orders: refused as well.
    assert client.post("/depot/DPB/orders/bulk", data={
        "action": "confirm", "orders": ids, "csrf_token": _token(html)}).status_code == 403
    assert set(_dpa_orders(app).values()) == {OrderStatus.APPROVED}
    assert client.get("/depot/DPA/history").status_code == 403


def test_history_page_shows_kinds_names_and_beijing_time(app):
    client = _sign_in(app, "depot")
    html = client.get("/depot/DPA/history?item=QUILT").get_data(as_text=True)
    assert 'id="history-table"' in html and "入库 · 棉被" in html
    assert "（北京时间）" in html and "receipt" not in html
