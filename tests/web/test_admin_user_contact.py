"""Users get an e-mail address and a mobile number for notifications on the users page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from disaster import accounts
from tests.web.browser.dataset import csrf_from, make_app, sign_in


@pytest.fixture(scope="module")
def app(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app, _data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")), per_side=1)
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def test_administrator_sets_email_and_phone_and_a_typo_is_named(app: Flask):
    client = sign_in(app.test_client(), "admin")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    form = {"username": "keeper", "role": "depot_manager", "password": "Longenough123",
            "scopes": "DP341300", "csrf_token": token}
    typo = client.post("/admin/users", data=form | {"email": "keeper.example.cn"})
    assert typo.status_code == 422 and "不是有效的电子邮件地址" in typo.get_data(as_text=True)
    made = client.post("/admin/users", data=form | {"email": "keeper@example.cn",
                                                    "phone": "138 0000 0003"})
    assert made.status_code == 302
    with app.extensions["disaster_runtime"].sessions() as session:
        user = accounts.get_user(session, "keeper")
        assert (user.email, user.phone) == ("keeper@example.cn", "138 0000 0003")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "keeper@example.cn · 138 0000 0003" in listing


