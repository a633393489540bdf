"""The console's read API: GeoJSON layers, filters, simplification and the error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from flask import Flask
from shapely.geometry import shape

from disaster import accounts
from disaster.access import cli_actor
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from tests.web.browser.dataset import PER_SIDE, XSS_NAME, Dataset, make_app


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")))
    yield app, data
    app.extensions["disaster_runtime"].engine.dispose()


@pytest.fixture(scope="module")
def token(web: tuple[Flask, Dataset]) -> str:
    app, _ = web
    with app.extensions["disaster_runtime"].sessions() as session:
        value = accounts.issue_token(session, cli_actor(), "duty")
        session.commit()
    return value


def get(web: tuple[Flask, Dataset], token: str, url: str):  # type: ignore[no-untyped-def]
    return web[0].test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def n_coords(feature: dict) -> int:
    return len(shapely.get_coordinates(shape(feature["geometry"])))


def test_communities_are_a_geojson_feature_collection_with_contract_properties(web, token):
    response = get(web, token, "/api/v1/communities")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    doc = response.get_json()
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == len(web[1].community_codes)
    feature = doc["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {"code", "name", "township_code", "county_code", "population", "households",
            "warning_level"} <= set(feature["properties"])
    names = {f["properties"]["name"] for f in doc["features"]}
    assert XSS_NAME in names  # stored text is returned as data; the console escapes it


def test_communities_carry_their_current_warning_level(web, token):
    app, data = web
    code = data.community_codes[1]
    with app.extensions["disaster_runtime"].sessions() as session:
        set_level(session, code, Hazard.RAINSTORM, WarningLevel.ORANGE)
        set_level(session, code, Hazard.GALE, WarningLevel.BLUE)
        session.commit()
    try:
        doc = get(web, token, "/api/v1/communities").get_json()
        levels = {f["properties"]["code"]: f["properties"]["warning_level"] for f in doc["features"]}
        assert levels[code] == "orange"  # the highest over all hazards
        assert levels[data.community_codes[0]] is None
    finally:
        with app.extensions["disaster_runtime"].sessions() as session:
            set_level(session, code, Hazard.RAINSTORM, None)
            set_level(session, code, Hazard.GALE, None)
            session.commit()


def test_bbox_keeps_only_communities_meeting_the_box(web, token):
    # Inside the south-west cell of the first township only.
    doc = get(web, token, "/api/v1/communities?bbox=116.81,33.51,116.82,33.52").get_json()
    assert [f["properties"]["code"] for f in doc["features"]] == [web[1].xss_code]


def test_county_and_township_filters(web, token):
    doc = get(web, token, "/api/v1/communities?county=341322").get_json()
    assert len(doc["features"]) == 2 * PER_SIDE ** 2
    assert {f["properties"]["county_code"] for f in doc["features"]} == {"341322"}
    township = web[1].township_codes[0]
    doc = get(web, token, f"/api/v1/communities?township={township}").get_json()
    assert {f["properties"]["township_code"] for f in doc["features"]} == {township}


def test_geometry_is_simplified_for_the_zoom_level(web, token):
    def zone(query: str) -> dict:
        doc = get(web, token, f"/api/v1/hazard-zones?{query}").get_json()
        return next(f for f in doc["features"] if f["properties"]["code"] == "HZ-TEST-2")

    full, city, street = zone(""), zone("zoom=8"), zone("zoom=16")
    assert n_coords(full) >= 700
    assert n_coords(city) < n_coords(street) <= n_coords(full)
    assert n_coords(city) < 100
    coarse = zone("simplify=0.01")
    assert n_coords(coarse) < 40
    # Simplified, yet still the same place.
    assert shape(coarse["geometry"]).buffer(0.011).contains(shape(full["geometry"]).centroid)


def test_areas_by_level(web, token):
    counties = get(web, token, "/api/v1/areas?level=county").get_json()["features"]
    assert sorted(f["properties"]["code"] for f in counties) == ["341302", "341322"]
    townships = get(web, token, "/api/v1/areas?level=township&zoom=9").get_json()["features"]
    assert {f["properties"]["parent_code"] for f in townships} == {"341302", "341322"}
    assert all(f["properties"]["level"] == "township" for f in townships)


def test_shelters_show_capacity_and_occupancy(web, token):
    doc = get(web, token, "/api/v1/shelters").get_json()
    assert [f["properties"]["code"] for f in doc["features"]] == web[1].shelter_codes
    first = doc["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [116.95, 33.65]}
    assert {k: first["properties"][k] for k in ("kind", "class", "capacity", "occupancy",
                                                  "status")} == {
        "kind": "central", "class": "II", "capacity": 1000, "occupancy": 100,
        "status": "standby"}


def test_depots_carry_a_stock_summary(web, token):
    doc = get(web, token, "/api/v1/depots").get_json()
    depot = next(f for f in doc["features"] if f["properties"]["code"] == "DP341300")
    assert depot["properties"]["level"] == "city"
    stock = {s["item"]: s["quantity"] for s in depot["properties"]["stock"]}
    assert stock == {"QUILT": 3000, "TENT12": 120}


@pytest.mark.parametrize(("query", "field"), [
    ("/api/v1/communities?bbox=1,2,3", "bbox"),
    ("/api/v1/communities?bbox=120,33,117,34", "bbox"),
    ("/api/v1/communities?county=34", "county"),
    ("/api/v1/communities?zoom=99", "zoom"),
    ("/api/v1/hazard-zones?simplify=lots", "simplify"),
    ("/api/v1/areas?level=planet", "level"),
])
def test_bad_query_is_422_naming_the_field(web, token, query, field):
    response = get(web, token, query)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"] and error["message"]


def test_signed_out_requests_get_401_json(web):
    response = web[0].test_client().get("/api/v1/communities")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_unknown_api_path_is_404_json(web, token):
    response = get(web, token, "/api/v1/no-such-thing")
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_oversized_body_is_413_json(web, token):
    app = web[0]
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = app.test_client().post("/api/v1/communities", data=b"x" * 4096,
                                          headers={"Authorization": f"Bearer {token}",
                                                   "Content-Type": "application/json"})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_large_layers_are_sent_gzip_compressed(web, token):
    response = web[0].test_client().get(
        "/api/v1/communities", headers={"Authorization": f"Bearer {token}",
                                        "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    import gzip
    import json

    assert json.loads(gzip.decompress(response.get_data()))["type"] == "FeatureCollection"


def console_html(app: Flask) -> str:
    from tests.web.browser.dataset import sign_in

    return sign_in(app.test_client(), "duty").get("/").get_data(as_text=True)


def test_console_page_loads_only_local_assets_and_embeds_no_layer_data(web):
    import re

    html = console_html(web[0])
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "cdn" not in html.lower() and "https://" not in html
    assert "FeatureCollection" not in html  # layers are fetched, never embedded


def test_console_includes_every_plugin_in_name_order(web):
    from web.console.views import PLUGIN_DIR

    html = console_html(web[0])
    names = sorted(p.name for p in PLUGIN_DIR.glob("*.js"))
    positions = [html.index(f"/static/console/plugins/{n}") for n in names]
    assert positions == sorted(positions)
    assert html.index("/static/console/console.js") < positions[0]
    assert html.index("DisasterConsole.start(") > positions[-1]


def test_vendored_leaflet_is_served_from_the_installed_package(web):
    client = web[0].test_client()
    with client.get("/vendor/leaflet/leaflet.js") as response:
        assert response.status_code == 200 and b"Leaflet" in response.get_data()[:2000]
    assert client.get("/vendor/leaflet/../../../../etc/passwd").status_code == 404
    assert client.get("/vendor/bootstrap/bootstrap.js").status_code == 404


def test_a_configured_tile_layer_is_offered_as_base_layer(backend, tmp_path):
    app, _ = make_app(backend.new_url(), tmp_path, per_side=1)
    try:
        settings = app.extensions["disaster_runtime"].settings
        settings.tile_url = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
        html = console_html(app)
        assert "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png" in html
        assert '"tileLayers": [{"' in html or '"tileLayers":[{"' in html
    finally:
        app.extensions["disaster_runtime"].engine.dispose()
