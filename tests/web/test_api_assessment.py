"""``GET /api/v1/assessment`` (as ``disaster assess``), the risk API, parameters, the sitrep pages."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import update

from disaster import accounts
from disaster.access import cli_actor
from disaster.communities import Community
from shelters.models import Shelter, ShelterClass, ShelterKind, ShelterStatus
from tests.disaster.assessment.factories import build_region, open_event, report, warn
from web.app import create_app
from web.cli import main
from web.config import Settings
from web.server import ServerThread

CHROMIUM = "/usr/bin/chromium"
XSS = "<img src=x onerror=alert(1)>村"
BROWSER_PASSWORD = "Duty2026password"


@pytest.fixture
def site(database_url, tmp_path, monkeypatch, cli_engines):
    """An app on a fresh database with the test region, a warned event and users."""
    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="assessment-test"))
    app.config.update(TESTING=True)
    tokens = {}
    with app.extensions["disaster_runtime"].sessions() as session:
        region = build_region(session)
        event = open_event(session)
        warn(session, region.communities[0], "red", 230.0)
        warn(session, region.communities[1], "orange")
        report(session, event, region.communities[1], affected_people=250,
               direct_loss_10k_yuan=30.0)
        session.add(Shelter(code="SH341302001", name="<b>测试</b>中心避难场所",
                            kind=ShelterKind.CENTRAL, shelter_class=ShelterClass.I,
                            level="municipal", capacity=2000, occupancy=300,
                            status=ShelterStatus.OPEN, county_code="341302",
                            geom=from_shape(Point(117.015, 33.605), 4326)))
        for username, role in (("admin", "admin"), ("duty", "duty_officer")):
            accounts.add_user(session, cli_actor(), username, role)
            tokens[username] = accounts.issue_token(session, cli_actor(), username)
        session.commit()
        event_code = event.code
    yield app, tokens, region, event_code
    app.extensions["disaster_runtime"].engine.dispose()


def _get(client, url, token):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_assessment_api_answers_exactly_as_the_command_line(site, database_url):
    app, tokens, region, _event = site
    api = _get(app.test_client(), "/api/v1/assessment", tokens["duty"])
    assert api.status_code == 200
    result = CliRunner().invoke(main, ["assess", "--format", "json", "--database", database_url])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert api.get_json() == cli
    doc = cli
    assert set(doc) >= {"communities", "by_township", "by_county", "totals"}
    rows = {r["code"]: r for r in doc["communities"]}
    assert rows[region.communities[0]]["modelled"]["affected_people"] > 0
    assert rows[region.communities[1]]["reported"]["affected_people"] == 250
    assert region.communities[0] in doc["silent"]


def test_assessment_needs_a_signed_in_user(site):
    app, _tokens, _region, _event = site
    response = app.test_client().get("/api/v1/assessment")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_unknown_event_is_404(site):
    app, tokens, _region, _event = site
    response = _get(app.test_client(), "/api/v1/assessment?event=NOPE", tokens["duty"])
    assert response.status_code == 404


def test_risk_api_ranks_communities_with_components(site):
    app, tokens, region, _event = site
    client = app.test_client()
    doc = _get(client, "/api/v1/risk?limit=5", tokens["duty"]).get_json()
    assert len(doc["communities"]) == 5
    assert [r["rank"] for r in doc["communities"]] == [1, 2, 3, 4, 5]
    top = doc["communities"][0]
    assert top["code"] in region.communities[:3]  # the flood-zone township
    assert set(top["components"]["coping"]) == {"shelter", "officers", "stock"}
    assert _get(client, "/api/v1/risk?limit=0", tokens["duty"]).status_code == 422
    layer = _get(client, "/api/v1/risk.geojson", tokens["duty"]).get_json()
    assert layer["type"] == "FeatureCollection" and len(layer["features"]) == 12


def test_only_administrators_change_parameters_through_the_api(site):
    app, tokens, _region, _event = site
    client = app.test_client()
    body = {"coping_floor": 0.2}
    refused = client.put("/api/v1/assessment/parameters/risk_weights", json=body,
                         headers={"Authorization": f"Bearer {tokens['duty']}"})
    assert refused.status_code == 403
    bad = client.put("/api/v1/assessment/parameters/risk_weights", json={"coping_floor": "x"},
                     headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert bad.status_code == 422
    assert "risk_weights.coping_floor" in bad.get_json()["error"]["fields"]
    ok = client.put("/api/v1/assessment/parameters/risk_weights", json=body,
                    headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert ok.status_code == 200
    params = _get(client, "/api/v1/assessment/parameters", tokens["duty"]).get_json()
    assert params["risk_weights"]["coping_floor"] == 0.2


def test_plan_indicators_api(site):
    app, tokens, _region, _event = site
    rows = {r["key"]: r for r in _get(app.test_client(), "/api/v1/assessment/indicators",
                                      tokens["duty"]).get_json()["indicators"]}
    assert rows["shelters_municipal"]["value"] == 1 and rows["shelters_municipal"]["met"] is False
    assert rows["officer_coverage"]["value"] == 0.0


def _signed_in(app, user_id: int = 1):
    """A browser-like client signed in (Flask-Login session keys) as the fixture's admin (1)
    or duty officer (2)."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = str(user_id)
        s["_fresh"] = True
    return client


def test_situation_report_page_prints_map_chart_totals_and_escapes_names(site):
    app, _tokens, region, event = site
    client = _signed_in(app)
    page = client.get(f"/sitrep/{event}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") >= 2  # the map and the timeline chart
    assert "灾情简报" in html and "受灾人口" in html  # Chinese by default
    assert "sitrep.css" in html
    assert "&lt;b&gt;测试&lt;/b&gt;中心避难场所" in html and "<b>测试</b>" not in html
    assert region.communities[0] in html  # worst hit / silent


def test_situation_report_downloads(site):
    app, _tokens, region, event = site
    client = _signed_in(app)
    table = client.get(f"/sitrep/{event}/communities.csv")
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    codes = {r["code"] for r in rows}
    assert {region.communities[0], region.communities[1]} <= codes
    row = next(r for r in rows if r["code"] == region.communities[1])
    assert row["reported_affected_people"] == "250"
    geo = json.loads(client.get(f"/sitrep/{event}/communities.geojson").get_data(as_text=True))
    assert geo["type"] == "FeatureCollection"
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in geo["features"])
    data = client.get(f"/api/v1/sitrep/{event}").get_json()
    assert data["shelters"]["in_use"][0]["occupancy"] == 300
    timeline = data["timeline"]
    # Open since 00:00 UTC 1 July, last activity the 初报 at 03:00: hourly bars, 初报 in the 4th.
    assert timeline["step"] == "hour"
    assert timeline["reports"]["initial"] == [0, 0, 0, 1]
    assert timeline["labels"][0] == "07-01 08:00"  # Beijing time
    assert len(timeline["labels"]) == len(timeline["reports"]["initial"])


def test_indicator_and_risk_pages_render(site):
    app, _tokens, _region, _event = site
    client = _signed_in(app)
    assert client.get("/indicators").status_code == 200
    assert client.get("/risk").status_code == 200
    assert client.get("/sitrep/").status_code == 200


def test_assess_command_text_risk_and_parameters(site, database_url, tmp_path):
    _app, _tokens, _region, event = site
    runner = CliRunner()
    text = runner.invoke(main, ["assess", "--event", event, "--database", database_url])
    assert text.exit_code == 0, text.output
    assert "total" in text.stdout and "silent communities" in text.stdout
    ranked = runner.invoke(main, ["assess", "--risk", "--limit", "3", "--format", "json",
                                  "--database", database_url])
    assert [r["rank"] for r in json.loads(ranked.stdout)["communities"]] == [1, 2, 3]
    good = tmp_path / "weights.json"
    good.write_text(json.dumps({"coping_floor": 0.3}), encoding="utf-8")
    changed = runner.invoke(main, ["assessment", "params", "set", "risk_weights", str(good),
                                   "--database", database_url])
    assert changed.exit_code == 0, changed.output
    shown = runner.invoke(main, ["assessment", "params", "show", "risk_weights", "--format",
                                 "json", "--database", database_url])
    assert json.loads(shown.stdout)["risk_weights"]["coping_floor"] == 0.3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"affected_ratio": [[0, 0.5], [10, 2]]}), encoding="utf-8")
    refused = runner.invoke(main, ["assessment", "params", "set", "impact_curves", str(bad),
                                   "--database", database_url])
    assert refused.exit_code == 1
    assert "impact_curves.affected_ratio[1]" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    unknown = runner.invoke(main, ["assess", "--event", "NOPE", "--database", database_url])
    assert unknown.exit_code == 1 and "NOPE" in unknown.stderr


def test_administrators_edit_parameters_on_their_page(site):
    app, _tokens, _region, _event = site
    assert _signed_in(app, 2).get("/assessment/parameters").status_code == 403
    client = _signed_in(app)
    page = client.get("/assessment/parameters").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    bad = client.post("/assessment/parameters", data={
        "csrf_token": token, "name": "risk_weights", "value": '{"coping_floor": 7}'})
    assert bad.status_code == 422
    assert "risk_weights.coping_floor" in bad.get_data(as_text=True)
    good = client.post("/assessment/parameters", data={
        "csrf_token": token, "name": "risk_weights", "value": '{"coping_floor": 0.4}'})
    assert good.status_code == 302
    params = client.get("/api/v1/assessment/parameters").get_json()
    assert params["risk_weights"]["coping_floor"] == 0.4


@pytest.fixture
def live(site):
    """The site served on a free port, with one community named like an attack."""
    app, _tokens, region, _event = site
    with app.extensions["disaster_runtime"].sessions() as session:
        session.execute(update(Community).where(Community.code == region.communities[0])
                        .values(name=XSS))
        accounts.add_user(session, cli_actor(), "duty", "duty_officer", BROWSER_PASSWORD,
                          update=True)
        session.commit()
    with ServerThread(app) as running:
        yield running.url, region


@pytest.mark.browser
def test_console_ranks_risk_and_shows_damage_as_escaped_text(live):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    base, _region = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800}, bypass_csp=True)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + "/login")
        page.fill("input[name=username]", "duty")
        page.fill("input[name=password]", BROWSER_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        ranking = page.locator("#panel-risk-ranking")
        ranking.locator("table tr >> nth=1").wait_for()
        text = ranking.inner_text()
        rows = [line.split("\t") for line in text.splitlines() if "\t" in line][1:]
        # The three communities of the flood-zone township rank first; names shown as text.
        assert {r[1] for r in rows[:3]} == {XSS, "测试0-1村", "测试0-2村"}
        assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
        damage = page.locator("#panel-damage")
        damage.locator("table").wait_for()
        assert "受灾人口" in damage.inner_text()
        browser.close()
    assert dialogs == []
