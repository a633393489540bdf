"""A tiny synthetic city: two counties, eight communities in a 4 × 2 grid, one flood zone.

Columns of communities (west to east) span 117.0–117.4° E in 0.1° steps, rows 33.50–33.65
and 33.65–33.80° N. County 341302 holds the two western columns, 341321 the eastern two. The
flood-prone zone covers 117.25–117.35° E, i.e. it touches columns 3 and 4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from disaster.hazards import HazardKind, HazardZone
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters import services

COUNTIES = {"341302": (117.0, 117.2), "341321": (117.2, 117.4)}
ROWS = [(33.50, 33.65), (33.65, 33.80)]


def community_code(column: int, row: int) -> str:
    """Code of the community in grid column 1..4 and row 1..2."""
    county = "341302" if column <= 2 else "341321"
    return f"{county}001{(column - 1) % 2 * 2 + row:03d}"


def community_centre(column: int, row: int) -> tuple[float, float]:
    lon0 = 117.0 + 0.1 * (column - 1)
    lat0, lat1 = ROWS[row - 1]
    return lon0 + 0.05, (lat0 + lat1) / 2


def _mp(geom: Any) -> Any:
    return from_shape(MultiPolygon([geom]), srid=4326)


def build_city(session: Session) -> Session:
    """Add the synthetic city's areas, communities and flood zone to ``session``."""
    session.add(Area(code="341300", name="测试市", level=AreaLevel.CITY, parent_code=None,
                     geom=_mp(box(117.0, 33.5, 117.4, 33.8))))
    session.flush()
    for county, (x0, x1) in COUNTIES.items():
        session.add(Area(code=county, name=f"县{county}", level=AreaLevel.COUNTY,
                         parent_code="341300", geom=_mp(box(x0, 33.5, x1, 33.8))))
        session.flush()
        session.add(Area(code=county + "001", name=f"镇{county}", level=AreaLevel.TOWNSHIP,
                         parent_code=county, geom=_mp(box(x0, 33.5, x1, 33.8))))
    session.flush()
    for column in range(1, 5):
        for row in (1, 2):
            code = community_code(column, row)
            lon0 = 117.0 + 0.1 * (column - 1)
            lat0, lat1 = ROWS[row - 1]
            session.add(Community(
                code=code, name=f"村{code[-3:]}", township_code=code[:9], county_code=code[:6],
                population=1000, households=365, elderly=100, children=100, disabled=50,
                geom=_mp(box(lon0, lat0, lon0 + 0.1, lat1)),
                point=from_shape(Point(*community_centre(column, row)), srid=4326)))
    session.add(HazardZone(code="HZ1", name="测试河洪泛区", kind=HazardKind.FLOOD_PRONE, level=2,
                           geom=_mp(box(117.25, 33.5, 117.35, 33.8))))
    session.flush()
    return session


@pytest.fixture
def city(session: Session) -> Session:
    return build_city(session)


@pytest.fixture
def add_shelter(city: Session) -> Callable[..., Any]:
    """Register a shelter through the real service (as the command-line administrator)."""
    counter = iter(range(1, 1000))

    def add(lon: float, lat: float, capacity: int = 100, **extra: Any) -> Any:
        n = next(counter)
        record = {"code": f"SH{n:03d}", "name": f"避难场所{n}", "kind": "emergency",
                  "shelter_class": "III", "capacity": capacity, "status": "standby",
                  "geometry": Point(lon, lat)} | extra
        return services.create_shelter(city, cli_actor(), record)

    return add


@pytest.fixture
def warn(city: Session) -> Callable[..., None]:
    """Put a community under a warning level for a hazard."""

    def set_warning(code: str, level: str, hazard: str = "rainstorm") -> None:
        set_level(city, code, Hazard(hazard), WarningLevel(level))
        city.flush()

    return set_warning
