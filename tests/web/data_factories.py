"""A tiny synthetic city for the import/export tests, written through the real services."""

from __future__ import annotations

from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.access import cli_actor
from disaster.areas import upsert_areas
from disaster.audit import AuditEntry
from disaster.communities import upsert_communities
from stockpile.depots import load_item_catalog, upsert_depots
from stockpile.models import StockMovement

CITY, COUNTY, TOWN_A, TOWN_B = "341300", "341302", "341302001", "341302002"


def area_records() -> list[dict]:
    return [
        {"code": CITY, "name": "宿州市", "level": "city", "parent_code": None,
         "geometry": box(116.8, 33.5, 117.2, 33.8)},
        {"code": COUNTY, "name": "埇桥区", "level": "county", "parent_code": CITY,
         "geometry": box(116.8, 33.5, 117.2, 33.8)},
        {"code": TOWN_A, "name": "埇桥街道", "level": "township", "parent_code": COUNTY,
         "geometry": box(116.8, 33.5, 117.0, 33.8)},
        {"code": TOWN_B, "name": "道东街道", "level": "township", "parent_code": COUNTY,
         "geometry": box(117.0, 33.5, 117.2, 33.8)},
    ]


def community_records(n: int = 4, township: str = TOWN_A) -> list[dict]:
    x0 = 116.8 if township == TOWN_A else 117.0
    return [{"code": f"{township}{i:03d}", "name": f"第{i}社区", "township_code": township,
             "county_code": COUNTY, "population": 1000 + i, "households": 365,
             "elderly": 200, "children": 190, "disabled": 60,
             "geometry": box(x0 + 0.01 * i, 33.6, x0 + 0.01 * (i + 1), 33.61)}
            for i in range(1, n + 1)]


def depot_records() -> list[dict]:
    return [{"code": "DP341302", "name": "埇桥区救灾物资储备库", "level": "county",
             "county_code": COUNTY, "geometry": box(116.9, 33.6, 116.901, 33.601).centroid}]


def build_city(session: Session, communities: int = 4) -> None:
    """City, county, two townships, ``communities`` communities, items and one depot."""
    actor = cli_actor()
    upsert_areas(session, actor, area_records())
    upsert_communities(session, actor, community_records(communities))
    load_item_catalog(session, actor)
    upsert_depots(session, actor, depot_records())
    session.flush()


def audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def movement_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StockMovement))
