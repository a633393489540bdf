"""Impact matrices over HTTP: everyone reads them (the legend), administrators change them."""

from __future__ import annotations

import pytest

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from web.app import create_app


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        add_user(s, cli_actor(), "boss", "admin")
        add_user(s, cli_actor(), "duty", "duty_officer")
        tokens = {n: issue_token(s, cli_actor(), n) for n in ("boss", "duty")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str, **kwargs):  # type: ignore[no-untyped-def]
        return client.open(url, method=method, headers={"Authorization": f"Bearer {tokens[who]}",
                                                        "Accept-Language": "zh-CN"}, **kwargs)

    yield call
    app.extensions["disaster_runtime"].engine.dispose()


def test_an_administrator_switches_rainstorm_to_its_matrix_and_everyone_sees_it(api):
    res = api("GET", "/api/v1/warnings/impact-matrices", "duty")
    assert res.status_code == 200
    assert {m["hazard"]: m["enabled"] for m in res.get_json()}["rainstorm"] is False
    res = api("PUT", "/api/v1/warnings/impact-matrices/rainstorm", "boss",
              json={"enabled": True, "matrix": {"severe": ["orange", "red", "red", "red"]}})
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["matrix"]["severe"] == ["orange", "red", "red", "red"]
    rain = {m["hazard"]: m for m in api("GET", "/api/v1/warnings/impact-matrices", "duty").get_json()}
    assert rain["rainstorm"]["enabled"] and rain["rainstorm"]["impacts"][-1] == "severe"
    assert api("PUT", "/api/v1/warnings/impact-matrices/rainstorm", "duty",
               json={"enabled": False}).status_code == 403


def test_a_bad_matrix_is_refused_naming_the_field_in_chinese(api):
    res = api("PUT", "/api/v1/warnings/impact-matrices/rainstorm", "boss",
              json={"risk_bands": [60, 40, 20]})
    assert res.status_code == 422
    body = res.get_json()["error"]
    assert "risk_bands" in body["fields"]
    assert "从小到大" in " ".join(body["fields"]["risk_bands"])
    assert api("PUT", "/api/v1/warnings/impact-matrices/volcano", "boss",
               json={}).status_code == 404
