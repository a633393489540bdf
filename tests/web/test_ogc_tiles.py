"""Vector tiles of the communities (OGC API – Tiles, WebMercatorQuad, Mapbox Vector Tiles)."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
import requests
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import box

from disaster.access import cli_actor
from disaster.accounts import issue_token
from disaster.communities import Community
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from tests.web.browser import dataset
from web.ogc.views import lon_lat_to_tile
from web.server import ServerThread

TMS = "WebMercatorQuad"


def _lonlat(z: int, col: int, row: int) -> tuple[float, float, float, float]:
    """west, south, east, north of a WebMercatorQuad tile."""
    n = 2 ** z

    def lat(r: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * r / n))))

    return col / n * 360 - 180, lat(row + 1), (col + 1) / n * 360 - 180, lat(row)


@pytest.fixture
def tiles_app(database_url, tmp_path):  # type: ignore[no-untyped-def]
    app, data = dataset.make_app(database_url, tmp_path)
    with app.extensions["disaster_runtime"].sessions() as s:
        set_level(s, data.community_codes[1], Hazard.RAINSTORM, WarningLevel.ORANGE)
        token = issue_token(s, cli_actor(), "duty")
        s.commit()
    yield app, data, {"Authorization": f"Bearer {token}"}
    app.extensions["disaster_runtime"].engine.dispose()


def _decode(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data)["communities"]["features"]


def test_a_tile_holds_the_communities_it_covers_with_their_warning_level(tiles_app):
    app, data, auth = tiles_app
    client = app.test_client()
    z = 11
    col, row = lon_lat_to_tile(116.85, 33.55, z)
    response = client.get(f"/ogc/collections/communities/tiles/{TMS}/{z}/{row}/{col}",
                          headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    features = _decode(response.data)
    west, south, east, north = _lonlat(z, col, row)
    tile = box(west, south, east, north)
    # The tile carries a buffer of 64/4096 of its width around it for seamless drawing.
    margin = (east - west) * 64 / 4096
    buffered = box(west - margin, south - margin, east + margin, north + margin)
    with app.extensions["disaster_runtime"].sessions() as s:
        shapes = {c.code: to_shape(c.geom) for c in s.query(Community)}
    inside = {code for code, g in shapes.items() if g.intersection(tile).area > 0}
    near = {code for code, g in shapes.items() if g.intersects(buffered)}
    got = {f["properties"]["code"] for f in features}
    assert inside and inside <= got <= near
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    warned = data.community_codes[1]
    if warned in by_code:
        assert by_code[warned]["warning_level"] == "orange"
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


def test_a_warned_community_carries_its_level_in_the_tile(tiles_app):
    app, data, auth = tiles_app
    client = app.test_client()
    with app.extensions["disaster_runtime"].sessions() as s:
        warned = s.query(Community).filter_by(code=data.community_codes[1]).one()
        point = to_shape(warned.geom).representative_point()
    col, row = lon_lat_to_tile(point.x, point.y, 14)
    features = _decode(client.get(f"/ogc/collections/communities/tiles/{TMS}/14/{row}/{col}",
                                  headers=auth).data)
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code[data.community_codes[1]]["warning_level"] == "orange"
    # A tile geometry lies in tile units (0..4096, y down) around the community's position.
    assert shapely.geometry.shape(next(f["geometry"] for f in features
                                       if f["properties"]["code"] == warned.code)).area > 0
    with app.extensions["disaster_runtime"].sessions() as s:
        set_level(s, warned.code, Hazard.RAINSTORM, WarningLevel.RED)
        s.commit()
    again = _decode(client.get(f"/ogc/collections/communities/tiles/{TMS}/14/{row}/{col}",
                               headers=auth).data)
    assert {f["properties"]["code"]: f["properties"] for f in again}[warned.code][
        "warning_level"] == "red", "a changed warning level must not be served from the cache"


def test_tiles_outside_the_data_are_empty_and_anonymous_callers_are_refused(tiles_app):
    app, _, auth = tiles_app
    client = app.test_client()
    assert client.get(f"/ogc/collections/communities/tiles/{TMS}/8/0/0",
                      headers=auth).status_code == 204
    assert client.get(f"/ogc/collections/communities/tiles/{TMS}/8/100/212").status_code == 401
    assert client.get(f"/ogc/collections/communities/tiles/{TMS}/3/8/0",
                      headers=auth).status_code == 404
    assert client.get("/ogc/collections/shelters/tiles", headers=auth).status_code == 404


def test_tileset_metadata_leads_a_client_to_the_tiles(tiles_app, backend_name):
    app, _, auth = tiles_app
    with ServerThread(app) as server:
        base = f"{server.url}/ogc/collections/communities"
        described = requests.get(base, headers=auth, timeout=30).json()
        tilesets_link = next(link["href"] for link in described["links"]
                             if link["rel"].endswith("tilesets-vector"))
        listing = requests.get(tilesets_link, headers=auth, timeout=30).json()
        assert listing["tilesets"][0]["dataType"] == "vector"
        tileset = requests.get(listing["tilesets"][0]["links"][0]["href"], headers=auth,
                               timeout=30).json()
        assert tileset["tileMatrixSetURI"].endswith("/WebMercatorQuad")
        template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
        col, row = lon_lat_to_tile(117.0, 33.65, 7)
        url = (template.replace("{tileMatrix}", "7").replace("{tileRow}", str(row))
               .replace("{tileCol}", str(col)))
        response = requests.get(url, headers=auth, timeout=30)
        assert response.status_code == 200
        assert len(_decode(response.content)) == len(dataset.COUNTIES) * 2 * dataset.PER_SIDE ** 2
