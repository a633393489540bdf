"""The depot manager's phone page: stock table, movement form with CSRF, orders."""

from __future__ import annotations

import re

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from stockpile import ledger
from tests.stockpile.conftest import seed_stock
from web.app import create_app

PASSWORD = "Depot2026pass!"


@pytest.fixture
def app(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        seed_stock(s)
        ledger.receive(s, cli_actor(), "DPA", "QUILT", 40)
        add_user(s, cli_actor(), "depot", Role.DEPOT_MANAGER, password=PASSWORD, scopes=["DPA"])
        s.commit()
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def sign_in(app):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "depot", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def test_manager_sees_own_depot_stock_and_the_form(app):
    client = sign_in(app)
    response = client.get("/depot/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/depot/DPA")
    html = client.get("/depot/DPA").get_data(as_text=True)
    assert 'id="stock-table"' in html and 'data-item="QUILT"' in html
    assert 'id="movement-form"' in html
    assert "现有库存" in html and "登记出入库" in html  # Chinese is the default language
    assert client.get("/depot/DPB").status_code == 403


def test_movement_form_needs_csrf_and_books_the_issue(app):
    client = sign_in(app)
    html = client.get("/depot/DPA").get_data(as_text=True)
    assert client.post("/depot/DPA/movements", data={"kind": "issue", "item": "QUILT",
                                                     "quantity": "5"}).status_code == 400
    response = client.post("/depot/DPA/movements", data={
        "kind": "issue", "item": "QUILT", "quantity": "5", "csrf_token": _token(html)})
    assert response.status_code == 302
    with app.extensions["disaster_runtime"].sessions() as s:
        assert ledger.on_hand(s, "DPA")[0]["quantity"] == 35


def test_refused_movement_rerenders_the_form_with_the_field(app):
    client = sign_in(app)
    html = client.get("/depot/DPA").get_data(as_text=True)
    response = client.post("/depot/DPA/movements", data={
        "kind": "issue", "item": "QUILT", "quantity": "41", "csrf_token": _token(html)})
    assert response.status_code == 409
    assert "quantity" in response.get_data(as_text=True)
    with app.extensions["disaster_runtime"].sessions() as s:
        assert ledger.on_hand(s, "DPA")[0]["quantity"] == 40
