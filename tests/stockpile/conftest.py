"""Fixtures of the stockpile tests: the item catalogue, two depots and their actors."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy.orm import Session

from disaster.access import SYSTEM, Actor, Role
from stockpile import catalog
from stockpile.models import Depot, DepotLevel

MANAGER = Actor(user_id=None, username="manager", role=Role.DEPOT_MANAGER,
                scopes=frozenset({"DPA"}))
OTHER_MANAGER = Actor(user_id=None, username="other", role=Role.DEPOT_MANAGER,
                      scopes=frozenset({"DPB"}))
DUTY = Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER)
ADMIN = SYSTEM


def add_depot(session: Session, code: str, lon: float, lat: float,
              level: DepotLevel = DepotLevel.COUNTY) -> Depot:
    depot = Depot(code=code, name=f"仓库{code}", level=level,
                  geom=from_shape(Point(lon, lat), srid=4326))
    session.add(depot)
    session.flush()
    return depot


@pytest.fixture
def stock_db(session: Session) -> Session:
    """The rolled-back session with the catalogue and depots DPA (宿州) and DPB (泗县)."""
    return seed_stock(session)


@pytest.fixture
def relief_db(stock_db: Session) -> Session:
    """``stock_db`` plus a county with three communities: C1 under a red warning (modelled),
    C2 with an officer's report, C3 hosting an open shelter, and stock in both depots."""
    return seed_relief(stock_db)


def seed_stock(session: Session) -> Session:
    """The catalogue and depots DPA (宿州) and DPB (泗县)."""
    catalog.ensure_items(session, ADMIN)
    add_depot(session, "DPA", 116.98, 33.63)
    add_depot(session, "DPB", 117.88, 33.48)
    return session


def seed_relief(s: Session) -> Session:
    """Communities, a red warning, a report, an open shelter and stock (see ``relief_db``)."""
    import datetime as dt

    from shapely.geometry import MultiPolygon, box

    from disaster.areas import Area, AreaLevel
    from disaster.communities import Community
    from disaster.events import DisasterEvent as Event
    from disaster.events import EventStatus
    from disaster.reports.models import Report, ReportKind
    from disaster.warnings.levels import Hazard, WarningLevel
    from disaster.warnings.state import set_level
    from shelters.models import Shelter, ShelterKind, ShelterStatus
    from stockpile import ledger

    s.add(Area(code="341300", name="宿州市", level=AreaLevel.CITY))
    s.flush()
    s.add(Area(code="341302", name="埇桥区", level=AreaLevel.COUNTY, parent_code="341300"))
    s.flush()
    s.add(Area(code="341302001", name="埇桥街道", level=AreaLevel.TOWNSHIP, parent_code="341302"))
    s.flush()
    spec = [("341302001201", "甲村", 117.00, 10_000, 3_000),
            ("341302001202", "乙村", 117.10, 4_000, 0),
            ("341302001203", "丙社区", 117.20, 6_000, 600)]
    for code, name, lon, population, vulnerable in spec:
        s.add(Community(code=code, name=name, township_code="341302001", county_code="341302",
                        population=population, households=round(population / 2.74),
                        elderly=vulnerable, children=0, disabled=0,
                        geom=from_shape(MultiPolygon([box(lon - 0.02, 33.6, lon + 0.02, 33.64)]),
                                        srid=4326),
                        point=from_shape(Point(lon, 33.62), srid=4326)))
    s.flush()
    set_level(s, "341302001201", Hazard.RAINSTORM, WarningLevel.RED)
    event = Event(code="EV1", name="暴雨", hazard=Hazard.RAINSTORM, status=EventStatus.OPEN,
                  started_at=dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    s.add(event)
    s.flush()
    s.add(Report(event_id=event.id, community_code="341302001202", kind=ReportKind.INITIAL,
                 hazard=Hazard.RAINSTORM, occurred_at=dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
                 is_latest=True, affected_people=500, dead=0, missing=0, evacuated=100,
                 needing_aid=50, collapsed_households=0, collapsed_rooms=0,
                 severely_damaged_households=0, severely_damaged_rooms=0,
                 generally_damaged_households=0, generally_damaged_rooms=0,
                 crop_affected_ha=0, crop_damaged_ha=0, crop_lost_ha=0, direct_loss_10k_yuan=0))
    s.add(Shelter(code="SH1", name="丙社区避难场所", kind=ShelterKind.EMERGENCY, capacity=500,
                  status=ShelterStatus.OPEN, occupancy=200, community_code="341302001203",
                  geom=from_shape(Point(117.2, 33.62), srid=4326)))
    s.flush()
    for code, qty in (("QUILT", 400), ("TENT12", 60), ("WATER", 3000), ("FOOD", 2000),
                      ("BED", 100), ("LAMP", 100), ("KIT", 50)):
        ledger.receive(s, ADMIN, "DPA", code, qty, lot="",
                       expires_on="2027-09-01" if code in ("WATER", "FOOD") else None)
    ledger.receive(s, ADMIN, "DPB", "QUILT", 100)
    return s
