"""A small synthetic 宿州-like dataset for the web tests (and the console benchmark).

Two counties, two townships each, a grid of communities per township, one hazard zone,
shelters, depots with stock and one user per role (password ``PASSWORD``). Geography is
written directly (the importers are tested elsewhere); users go through
:func:`disaster.accounts.add_user`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy.orm import Session

from disaster import accounts
from disaster.access import cli_actor
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from disaster.hazards import HazardKind, HazardZone
from shelters.models import Shelter, ShelterClass, ShelterKind, ShelterStatus
from stockpile.models import Depot, DepotLevel, Item, StockLevel
from web.app import create_app
from web.config import Settings

PASSWORD = "Relief2026pass"
PER_SIDE = 3
XSS_NAME = "<img src=x onerror=alert(1)>村"
ROLES = {"admin": "admin", "duty": "duty_officer", "officer": "info_officer",
         "depot": "depot_manager"}
# Two counties side by side around the city seat (≈117.0°E 33.65°N).
COUNTIES = {"341302": ("埇桥区", (116.80, 33.50, 117.00, 33.80)),
            "341322": ("萧县", (117.00, 33.50, 117.20, 33.80))}


@dataclass
class Dataset:
    community_codes: list[str] = field(default_factory=list)
    xss_code: str = ""
    township_codes: list[str] = field(default_factory=list)
    shelter_codes: list[str] = field(default_factory=list)
    depot_codes: list[str] = field(default_factory=list)


def _mp(minx: float, miny: float, maxx: float, maxy: float):  # type: ignore[no-untyped-def]
    return from_shape(MultiPolygon([box(minx, miny, maxx, maxy)]), srid=4326)


def _pt(lon: float, lat: float):  # type: ignore[no-untyped-def]
    return from_shape(Point(lon, lat), srid=4326)


def load(session: Session, per_side: int = PER_SIDE) -> Dataset:
    """Write the dataset (``per_side``² communities per township) and flush; returns codes."""
    data = Dataset()
    xmin, ymin, xmax, ymax = 116.80, 33.50, 117.20, 33.80
    session.add(Area(code="341300", name="宿州市", level=AreaLevel.CITY, parent_code=None,
                     geom=_mp(xmin, ymin, xmax, ymax), generated=True))
    session.flush()
    for county, (name, (x0, y0, x1, y1)) in COUNTIES.items():
        session.add(Area(code=county, name=name, level=AreaLevel.COUNTY, parent_code="341300",
                         geom=_mp(x0, y0, x1, y1), generated=True))
        session.flush()
        ymid = (y0 + y1) / 2
        for t, (ty0, ty1) in enumerate(((y0, ymid), (ymid, y1)), start=1):
            township = f"{county}{t:03d}"
            data.township_codes.append(township)
            session.add(Area(code=township, name=f"{name}第{t}镇", level=AreaLevel.TOWNSHIP,
                             parent_code=county, geom=_mp(x0, ty0, x1, ty1), generated=True))
            session.flush()
            dx, dy = (x1 - x0) / per_side, (ty1 - ty0) / per_side
            for i in range(per_side):
                for j in range(per_side):
                    n = i * per_side + j + 200
                    code = f"{township}{n:03d}"
                    cname = XSS_NAME if not data.xss_code else f"{name}{t}-{n}村"
                    if not data.xss_code:
                        data.xss_code = code
                    cx0, cy0 = x0 + i * dx, ty0 + j * dy
                    session.add(Community(
                        code=code, name=cname, township_code=township, county_code=county,
                        population=1000 + n, households=(1000 + n) * 100 // 274,
                        geom=_mp(cx0, cy0, cx0 + dx, cy0 + dy),
                        point=_pt(cx0 + dx / 2, cy0 + dy / 2), generated=True))
                    data.community_codes.append(code)
    session.add(HazardZone(code="HZ-TEST-1", name="新汴河洪涝易发区", kind=HazardKind.FLOOD_PRONE,
                           level=3, geom=_mp(116.85, 33.60, 117.15, 33.62), generated=True))
    # A finely drawn zone (720 vertices) to see simplification at work.
    circle = Point(117.05, 33.70).buffer(0.05, quad_segs=180)
    session.add(HazardZone(code="HZ-TEST-2", name="城区内涝区", kind=HazardKind.WATERLOGGING,
                           level=2, geom=from_shape(MultiPolygon([circle]), srid=4326),
                           generated=True))
    for k, (lon, lat, kind) in enumerate(((116.95, 33.65, ShelterKind.CENTRAL),
                                          (117.10, 33.60, ShelterKind.FIXED),
                                          (116.85, 33.75, ShelterKind.EMERGENCY)), start=1):
        code = f"SH34130200{k}"
        session.add(Shelter(code=code, name=f"第{k}避难场所", kind=kind,
                            shelter_class=ShelterClass.II, capacity=1000 * k, occupancy=100 * k,
                            status=ShelterStatus.STANDBY, county_code="341302",
                            geom=_pt(lon, lat), generated=True))
        data.shelter_codes.append(code)
    items = [Item(code="TENT12", name="救灾帐篷(12平方米)", name_en="relief tent", unit="顶",
                  category="shelter"),
             Item(code="QUILT", name="棉被", name_en="quilt", unit="床", category="bedding")]
    session.add_all(items)
    for code, name, level, (lon, lat) in (("DP341300", "宿州市救灾物资储备库", DepotLevel.CITY,
                                           (116.98, 33.64)),
                                          ("DP341302", "埇桥区救灾物资储备库", DepotLevel.COUNTY,
                                           (116.90, 33.70))):
        depot = Depot(code=code, name=name, level=level, county_code="341302",
                      geom=_pt(lon, lat), generated=True)
        session.add(depot)
        session.flush()
        for item, qty in zip(items, (Decimal(120), Decimal(3000)), strict=True):
            session.add(StockLevel(depot_id=depot.id, item_id=item.id, lot="",
                                   expires_on=None, on_hand=qty, reserved=Decimal(0)))
        data.depot_codes.append(code)
    session.flush()
    scopes = {"officer": [data.township_codes[0]], "depot": ["DP341300"]}
    for username, role in ROLES.items():
        accounts.add_user(session, cli_actor(), username, role, PASSWORD,
                          scopes.get(username, []), display_name=username)
    session.flush()
    return data


def make_app(url: str, home: Path, per_side: int = PER_SIDE, **config: Any) -> tuple[Flask, Dataset]:
    """An app on the migrated database ``url`` loaded with the dataset."""
    settings = Settings(home=home, database_url=url, secret_key="test-secret-" + home.name)
    app = create_app(settings)
    app.config.update(TESTING=True, **config)
    with app.extensions["disaster_runtime"].sessions() as session:
        data = load(session, per_side)
        session.commit()
    return app, data


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered page (form field or meta tag)."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> FlaskClient:
    """Sign ``client`` in through the login form; returns it."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
