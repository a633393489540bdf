"""OGC API – Features at /ogc, read by clients no one here wrote: GDAL's OAPIF driver and
OWSLib. Each collection must carry what ``disaster export`` (or the domain read path) has."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import requests
import shapely
from geoalchemy2.shape import from_shape
from owslib.ogcapi.features import Features
from shapely.geometry import MultiPolygon, Point, box

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from disaster.hazards import HazardKind, HazardZone
from disaster.officers import coverage
from disaster.reports.services import submit_report
from disaster.warnings.alerts import alert_dicts
from disaster.warnings.service import ingest_and_evaluate
from shelters.models import Shelter, ShelterClass, ShelterKind, ShelterStatus
from stockpile.models import Depot, DepotLevel
from tests.disaster.warnings import world
from tests.web.ogc_clients import GdalError, gdal_layers, gdal_read
from web.app import create_app
from web.config import Settings
from web.data_io import export_kind
from web.ogc.views import CONFORMANCE
from web.server import ServerThread

XSS = "<script>alert(1)</script>避难所"
NOW = world.START + dt.timedelta(hours=3)
PUBLIC = ["shelters", "hazard-zones", "alerts"]
PROTECTED = ["communities", "depots", "reports", "officer-coverage"]


def _load(session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The warnings test world (24 communities, officers, a red rainstorm warning over
    埇桥区), plus shelters, depots, hazard zones and one report."""
    world.build(session)
    for k, (lon, lat) in enumerate(((117.01, 33.61), (117.05, 33.65), (117.14, 33.70)), start=1):
        session.add(Shelter(code=f"SH00{k}", name=XSS if k == 1 else f"第{k}避难场所",
                            kind=ShelterKind.FIXED, shelter_class=ShelterClass.II,
                            capacity=500 * k, occupancy=50 * k, status=ShelterStatus.OPEN,
                            county_code="341302", geom=from_shape(Point(lon, lat), srid=4326)))
    for code, (lon, lat) in (("DP1", (117.02, 33.62)), ("DP2", (117.15, 33.68))):
        session.add(Depot(code=code, name=f"{code}储备库", level=DepotLevel.COUNTY,
                          county_code="341302", address="汴河路1号",
                          geom=from_shape(Point(lon, lat), srid=4326)))
    session.add(HazardZone(code="HZ1", name="新汴河洪涝易发区", kind=HazardKind.FLOOD_PRONE,
                           level=3, geom=from_shape(MultiPolygon([box(117.0, 33.6, 117.06, 33.62)]),
                                                    srid=4326)))
    session.flush()
    duty = add_user(session, cli_actor(), "duty", "duty_officer")
    add_user(session, cli_actor(), "viewer", "info_officer", scopes=["341321"])
    community = world.community_records()[0]
    point = community["geometry"].centroid
    submit_report(session, duty.actor(), {
        "community": community["code"], "kind": "initial", "hazard": "rainstorm",
        "occurred_at": (NOW - dt.timedelta(hours=1)).isoformat(), "affected_people": 120,
        "evacuated": 30, "notes": "<b>堤坝</b>渗水",
        "location": {"type": "Point", "coordinates": [point.x, point.y]}}, now=NOW)
    return {"token": issue_token(session, cli_actor(), "duty")}


@pytest.fixture(scope="module")
def ogc(backend, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A live server on a fresh database of the backend under test, with its data loaded."""
    home = tmp_path_factory.mktemp("ogc")
    settings = Settings(home=home, database_url=backend.new_url(), secret_key="ogc-test")
    app = create_app(settings)
    app.config.update(TESTING=True)
    heavy = np.zeros((3, *world.GRID_SHAPE), dtype=np.float32)
    heavy[:, :, :11] = 40.0  # red over 埇桥区 (341302) only
    world.write_series(home / "grids", heavy)
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        info = _load(s)
        ingest_and_evaluate(s, "grid-files", str(home / "grids"), now=NOW)
        s.commit()
    with ServerThread(app) as server:
        yield {"url": f"{server.url}/ogc", "token": info["token"], "app": app,
               "sessions": sessions, "home": home}
    app.extensions["disaster_runtime"].engine.dispose()


def _exported(ogc: dict, kind: str) -> tuple[list[dict], list[Any]]:
    """What ``disaster export KIND`` writes (GeoJSON), as properties and shapely geometries."""
    path = ogc["home"] / f"{kind}.geojson"
    with ogc["sessions"]() as s:
        export_kind(s, kind, "geojson", path)
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return ([f["properties"] for f in data["features"]],
            [shapely.geometry.shape(f["geometry"]) if f["geometry"] else None
             for f in data["features"]])


def _same_geometries(read: Any, expected: list[Any]) -> None:
    assert len(read) == len(expected)
    for got, want in zip(read, expected, strict=True):
        assert got.equals_exact(want, 1e-6) or got.normalize().equals_exact(want.normalize(), 1e-6)


def _auth(ogc: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {ogc['token']}"}


def _features(ogc: dict, signed: bool = False) -> Features:
    """An OWSLib client, with the token or without.

    OWSLib (0.35) keeps every client's headers in its module-level ``REQUEST_HEADERS`` and
    updates that dict in place: once one client is given a token, every later client sends
    it. Each client here gets its own copy and the module's dict is left as it was.
    """
    from owslib import ogcapi

    before = dict(ogcapi.REQUEST_HEADERS)
    extra = _auth(ogc) if signed else {}
    try:
        client = Features(ogc["url"], headers=extra or None)
    finally:
        ogcapi.REQUEST_HEADERS.clear()
        ogcapi.REQUEST_HEADERS.update(before)
    client.headers = {**before, **extra}
    return client


# --- GDAL ---------------------------------------------------------------------------------------

def test_gdal_lists_only_public_collections_without_a_token_and_all_with_one(ogc):
    assert gdal_layers(ogc["url"]) == PUBLIC
    assert gdal_layers(ogc["url"], ogc["token"]) == PUBLIC + PROTECTED


@pytest.mark.parametrize("kind", ["shelters", "depots", "communities"])
def test_gdal_reads_what_disaster_export_writes(ogc, kind):
    rows, geoms = _exported(ogc, kind)
    frame, _ = gdal_read(ogc["url"], kind, token=ogc["token"])
    frame = frame.sort_values("code").reset_index(drop=True)
    assert list(frame["code"]) == [r["code"] for r in rows]
    for name in rows[0]:
        assert list(frame[name]) == [r[name] for r in rows], name
    _same_geometries(list(frame.geometry), geoms)


def test_gdal_reads_reports_like_disaster_export(ogc):
    rows, geoms = _exported(ogc, "reports")
    frame, _ = gdal_read(ogc["url"], "reports", token=ogc["token"])
    assert len(frame) == len(rows) == 1
    got = frame.iloc[0]
    for name in ("community", "kind", "hazard", "affected_people", "evacuated", "notes"):
        assert got[name] == rows[0][name], name
    assert dt.datetime.fromisoformat(str(got["occurred_at"])) == \
        dt.datetime.fromisoformat(rows[0]["occurred_at"])
    _same_geometries([got.geometry], geoms)


def test_gdal_reads_hazard_zones_and_active_alerts_with_cap_fields(ogc):
    zones, _ = gdal_read(ogc["url"], "hazard-zones")
    assert list(zones["code"]) == ["HZ1"] and zones.iloc[0]["name"] == "新汴河洪涝易发区"
    assert zones.iloc[0].geometry.equals(box(117.0, 33.6, 117.06, 33.62))
    alerts, _ = gdal_read(ogc["url"], "alerts")
    with ogc["sessions"]() as s:
        active = alert_dicts(s, active_only=True)
    assert sorted(alerts["identifier"]) == sorted(a["identifier"] for a in active)
    first = alerts.iloc[0]
    assert (first["msgType"], first["severity"], first["status"], first["scope"]) == \
        ("Alert", "Extreme", "Actual", "Public")
    assert first["event"] == "暴雨红色预警"
    communities = [c for c in world.community_records() if c["county_code"] == "341302"]
    outline = shapely.union_all([c["geometry"] for c in communities])
    assert first.geometry.symmetric_difference(outline).area < 1e-9


def test_gdal_reads_officer_coverage_with_a_token(ogc):
    frame, _ = gdal_read(ogc["url"], "officer-coverage", token=ogc["token"])
    with ogc["sessions"]() as s:
        expected = {c["code"]: c for c in coverage(s)["communities"]}
    assert sorted(frame["code"]) == sorted(expected)
    for _, row in frame.iterrows():
        assert row["primary"] == expected[row["code"]]["primary"]
        assert row["backup"] == expected[row["code"]]["backup"]


def test_a_protected_collection_refuses_anonymous_gdal_and_opens_with_the_token(ogc):
    with pytest.raises(GdalError):
        gdal_read(ogc["url"], "communities")
    response = requests.get(f"{ogc['url']}/collections/communities/items", timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    frame, _ = gdal_read(ogc["url"], "communities", token=ogc["token"])
    assert len(frame) == len(world.community_records())


def test_gdal_bbox_returns_the_communities_meeting_the_box(ogc):
    bbox = (117.005, 33.605, 117.045, 33.635)
    frame, _ = gdal_read(ogc["url"], "communities", token=ogc["token"], bbox=bbox)
    expected = sorted(c["code"] for c in world.community_records()
                      if c["geometry"].intersects(box(*bbox)))
    assert sorted(frame["code"]) == expected and len(expected) == 4


def test_gdal_pages_through_a_collection_without_losing_or_repeating(ogc):
    frame, _ = gdal_read(ogc["url"], "communities", token=ogc["token"], page_size=7)
    assert sorted(frame["code"]) == sorted(c["code"] for c in world.community_records())
    assert frame["code"].is_unique


# --- OWSLib -------------------------------------------------------------------------------------

def test_owslib_reads_each_collection(ogc):
    public = _features(ogc)
    assert [c["id"] for c in public.collections()["collections"]] == PUBLIC
    signed = _features(ogc, signed=True)
    assert [c["id"] for c in signed.collections()["collections"]] == PUBLIC + PROTECTED
    counts = {"shelters": 3, "hazard-zones": 1, "communities": 25, "depots": 2, "reports": 1,
              "officer-coverage": 25}
    for cid in PUBLIC + PROTECTED:
        items = signed.collection_items(cid, limit=100)
        assert items["numberMatched"] == items["numberReturned"] == len(items["features"])
        if cid in counts:
            assert items["numberMatched"] == counts[cid], cid
    shelter = public.collection_item("shelters", "SH002")
    assert shelter["properties"]["capacity"] == 1000 and shelter["properties"]["occupancy"] == 100
    assert shelter["geometry"]["coordinates"] == [117.05, 33.65]
    meta = public.collection("shelters")
    assert meta["extent"]["spatial"]["bbox"][0] == pytest.approx([117.01, 33.61, 117.14, 33.70])
    assert set(meta["properties"]) >= {"capacity", "occupancy", "status", "safe"}


def test_owslib_follows_next_links_through_all_pages(ogc):
    signed = _features(ogc, signed=True)
    page = signed.collection_items("communities", limit=10)
    codes = [f["id"] for f in page["features"]]
    while True:
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        page = requests.get(nxt[0], headers=_auth(ogc), timeout=30).json()
        codes += [f["id"] for f in page["features"]]
    assert sorted(codes) == sorted(c["code"] for c in world.community_records())
    assert len(codes) == len(set(codes))


def test_owslib_filters_by_property_and_bbox(ogc):
    public = _features(ogc)
    assert [f["id"] for f in public.collection_items("shelters", status="open", bbox=[
        117.0, 33.6, 117.06, 33.66])["features"]] == ["SH001", "SH002"]
    assert public.collection_items("shelters", status="closed")["numberMatched"] == 0
    signed = _features(ogc, signed=True)
    red = signed.collection_items("communities", warning_level="red", limit=100)
    assert sorted(f["id"] for f in red["features"]) == sorted(
        c["code"] for c in world.community_records() if c["county_code"] == "341302")


# --- datetime, CRS, errors ----------------------------------------------------------------------

def test_datetime_selects_alerts_in_force_and_reports_by_occurrence(ogc):
    get = requests.get
    url = ogc["url"]
    during = (NOW + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    before = "2019-01-01T00:00:00Z/2019-12-31T00:00:00Z"
    assert get(f"{url}/collections/alerts/items", params={"datetime": during},
               timeout=30).json()["numberMatched"] >= 1
    assert get(f"{url}/collections/alerts/items", params={"datetime": before},
               timeout=30).json()["numberMatched"] == 0
    reports = f"{url}/collections/reports/items"
    assert get(reports, params={"datetime": "../2020-08-01T02:30:00Z"}, headers=_auth(ogc),
               timeout=30).json()["numberMatched"] == 1
    assert get(reports, params={"datetime": "2020-08-01T02:30:00Z/.."}, headers=_auth(ogc),
               timeout=30).json()["numberMatched"] == 0
    bad = get(reports, params={"datetime": "yesterday"}, headers=_auth(ogc), timeout=30)
    assert bad.status_code == 400 and "datetime" in bad.json()["description"]


@pytest.mark.parametrize("crs", ["http://www.opengis.net/def/crs/EPSG/0/4326",
                                 "http://www.opengis.net/def/crs/EPSG/0/4490"])
def test_latitude_first_crs_swap_axes_and_declare_the_crs(ogc, crs):
    response = requests.get(f"{ogc['url']}/collections/shelters/items/SH002",
                            params={"crs": crs}, timeout=30)
    assert response.headers["Content-Crs"] == f"<{crs}>"
    assert response.json()["geometry"]["coordinates"] == [33.65, 117.05]
    boxed = requests.get(f"{ogc['url']}/collections/shelters/items",
                         params={"bbox": "33.6,117.0,33.66,117.06", "bbox-crs": crs}, timeout=30)
    assert sorted(f["id"] for f in boxed.json()["features"]) == ["SH001", "SH002"]
    plain = requests.get(f"{ogc['url']}/collections/shelters/items/SH002", timeout=30)
    assert plain.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert plain.json()["geometry"]["coordinates"] == [117.05, 33.65]


def test_bad_parameters_are_400_and_unknown_things_404(ogc):
    url = ogc["url"]
    for params in ({"bbox": "1,2,3"}, {"limit": "0"}, {"crs": "EPSG:3857"}, {"colour": "red"}):
        assert requests.get(f"{url}/collections/shelters/items", params=params,
                            timeout=30).status_code == 400, params
    assert requests.get(f"{url}/collections/nothing", timeout=30).status_code == 404
    assert requests.get(f"{url}/collections/shelters/items/NOPE", timeout=30).status_code == 404


def test_conformance_lists_exactly_the_classes_these_tests_cover(ogc):
    assert requests.get(f"{ogc['url']}/conformance", timeout=30).json()["conformsTo"] == CONFORMANCE
    from openapi_spec_validator import validate

    validate(requests.get(f"{ogc['url']}/api", timeout=30).json())
    landing = requests.get(ogc["url"], params={"f": "json"}, timeout=30).json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "service-desc", "conformance",
                                                          "data"}


# --- HTML ---------------------------------------------------------------------------------------

def test_html_pages_speak_chinese_and_english_and_escape_names(ogc):
    url = ogc["url"]
    zh = requests.get(f"{url}/collections/shelters/items", params={"f": "html"}, timeout=30).text
    assert "应急避难场所" in zh and "容量（人）" in zh and "开放" in zh
    assert XSS not in zh and "&lt;script&gt;alert(1)&lt;/script&gt;避难所" in zh
    en = requests.get(f"{url}/collections/shelters/items", params={"f": "html", "lang": "en"},
                      timeout=30).text
    assert "Emergency shelters" in en and "Capacity" not in zh and "开放" not in en
    landing = requests.get(url, headers={"Accept": "text/html"}, timeout=30).text
    assert "开放地理数据" in landing
    alerts = requests.get(f"{url}/collections/alerts", params={"f": "html"}, timeout=30).text
    # Times on the pages are Beijing time: the warning was sent 2020-08-01 03:00 UTC.
    assert "2020-08-01 11:00" in alerts


def test_the_administrator_chooses_which_collections_are_public(ogc, backend, tmp_path):
    settings = Settings(home=tmp_path, database_url=backend.new_url(), secret_key="x",
                        ogc_public=("communities",))
    app = create_app(settings)
    try:
        client = app.test_client()
        listed = client.get("/ogc/collections?f=json").json["collections"]
        assert [c["id"] for c in listed] == ["communities"]
        assert client.get("/ogc/collections/shelters/items").status_code == 401
        assert client.get("/ogc/collections/communities/items").status_code == 200
    finally:
        app.extensions["disaster_runtime"].engine.dispose()


def test_ogc_routes_stay_out_of_the_api_v1_openapi_document(ogc):
    response = requests.get(ogc["url"].replace("/ogc", "/api/v1/openapi.json"),
                            headers=_auth(ogc), timeout=30)
    assert not [path for path in response.json()["paths"] if "ogc" in path]


def test_pyogrio_has_the_oapif_driver():
    assert "OAPIF" in pyogrio.list_drivers()


def test_public_collections_are_read_from_the_environment(monkeypatch, tmp_path):
    from web.config import load_settings

    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    monkeypatch.setenv("DISASTER_OGC_PUBLIC", "shelters, communities")
    assert load_settings("sqlite:///unused.sqlite").ogc_public == ("shelters", "communities")
    monkeypatch.delenv("DISASTER_OGC_PUBLIC")
    assert load_settings("sqlite:///unused.sqlite").ogc_public == tuple(PUBLIC)
