"""A tiny synthetic region for officer and report tests: one city, one county, two
townships of three square communities each (about 1 km apart near 宿州), and users."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy.orm import Session

from disaster.access import Actor, Role, cli_actor
from disaster.accounts import add_user
from disaster.areas import Area, AreaLevel
from disaster.communities import Community

CITY, COUNTY = "341300", "341302"
TOWNSHIPS = ("341302001", "341302100")
STEP = 0.01  # degrees between community squares (about 1 km)


def community_code(township: str, n: int) -> str:
    return f"{township}{n:03d}"


def square(i: int, j: int) -> MultiPolygon:
    x0, y0 = 117.0 + i * STEP, 33.6 + j * STEP
    return MultiPolygon([box(x0, y0, x0 + STEP, y0 + STEP)])


@dataclass
class Region:
    communities: list[str] = field(default_factory=list)
    admin: Actor = field(default_factory=cli_actor)
    duty: Actor | None = None
    officer: Actor | None = None      # scope: township TOWNSHIPS[0]
    other_officer: Actor | None = None  # scope: one community of TOWNSHIPS[1]


def build_region(session: Session) -> Region:
    region = Region()
    session.add(Area(code=CITY, name="宿州市", level=AreaLevel.CITY,
                     geom=from_shape(MultiPolygon([box(116.9, 33.5, 117.2, 33.8)]), 4326)))
    session.add(Area(code=COUNTY, name="埇桥区", level=AreaLevel.COUNTY, parent_code=CITY))
    session.flush()
    for t, (township, name) in enumerate(zip(TOWNSHIPS, ("埇桥街道", "符离镇"), strict=True)):
        session.add(Area(code=township, name=name, level=AreaLevel.TOWNSHIP,
                         parent_code=COUNTY))
        session.flush()
        for n in range(1, 4):
            geom = square(n, t)
            code = community_code(township, n + (0 if t == 0 else 200))
            session.add(Community(code=code, name=f"测试{t}{n}村", township_code=township,
                                  county_code=COUNTY, population=1000 * n, households=365 * n,
                                  geom=from_shape(geom, 4326),
                                  point=from_shape(geom.centroid, 4326)))
            region.communities.append(code)
    session.flush()
    admin = cli_actor()
    users = {}
    for username, role, scopes in (("duty", Role.DUTY_OFFICER, ()),
                                   ("officer", Role.INFO_OFFICER, (TOWNSHIPS[0],)),
                                   ("other", Role.INFO_OFFICER, (region.communities[3],))):
        users[username] = add_user(session, admin, username, role, scopes=scopes)
    region.duty = users["duty"].actor()
    region.officer = users["officer"].actor()
    region.other_officer = users["other"].actor()
    return region
