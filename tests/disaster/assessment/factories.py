"""A small synthetic region for the assessment tests (database and in-memory forms).

One city, two counties, two townships each, three square communities per township (about
1 km apart near 宿州). The first township lies wholly in a level-3 flood-prone zone; the
second half in a level-1 waterlogging zone; the rest is outside every zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy.orm import Session

from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from disaster.events import DisasterEvent, EventStatus
from disaster.hazards import HazardKind, HazardZone
from disaster.reports.models import Report, ReportKind
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level

CITY = "341300"
COUNTIES = {"341302": "埇桥区", "341322": "萧县"}
STEP = 0.01  # degrees per community square (about 1 km)


def township_codes() -> list[str]:
    return [f"{county}{t:03d}" for county in COUNTIES for t in (1, 2)]


def community_records() -> list[dict[str, Any]]:
    """Twelve communities in the TEAM_BRIEF record format (shapely geometries)."""
    records = []
    for ti, township in enumerate(township_codes()):
        for n in range(3):
            x0, y0 = 117.0 + n * STEP, 33.6 + ti * STEP
            geom = MultiPolygon([box(x0, y0, x0 + STEP, y0 + STEP)])
            population = 1000 + 500 * n + 100 * ti
            records.append({
                "code": f"{township}{200 + n:03d}", "name": f"测试{ti}-{n}村",
                "township_code": township, "county_code": township[:6],
                "population": population, "households": round(population / 2.74),
                "elderly": population // 5, "children": population // 5,
                "disabled": population // 16, "farmland_share": 0.6, "urban": False,
                "geometry": geom, "point": Point(x0 + STEP / 2, y0 + STEP / 2),
            })
    return records


def zone_records() -> list[dict[str, Any]]:
    """A level-3 flood zone over township 1 and a level-1 waterlogging zone over half of township 2."""
    return [
        {"code": "HZ-T-FP", "name": "测试洪涝易发区", "kind": "flood_prone", "level": 3,
         "geometry": MultiPolygon([box(116.99, 33.599, 117.04, 33.61)])},
        {"code": "HZ-T-WL", "name": "测试内涝区", "kind": "waterlogging", "level": 1,
         "geometry": MultiPolygon([box(116.99, 33.61, 117.04, 33.615)])},
    ]


@dataclass
class Region:
    communities: list[str] = field(default_factory=list)
    event_id: int | None = None


def build_region(session: Session) -> Region:
    """Write areas, communities and hazard zones; returns the community codes."""
    region = Region()
    session.add(Area(code=CITY, name="宿州市", level=AreaLevel.CITY))
    session.flush()
    for county, name in COUNTIES.items():
        session.add(Area(code=county, name=name, level=AreaLevel.COUNTY, parent_code=CITY,
                         geom=from_shape(MultiPolygon([box(116.9, 33.5, 117.2, 33.8)]), 4326)))
    session.flush()
    for t, township in enumerate(township_codes()):
        session.add(Area(code=township, name=f"测试{t}镇", level=AreaLevel.TOWNSHIP,
                         parent_code=township[:6]))
    session.flush()
    for r in community_records():
        session.add(Community(
            code=r["code"], name=r["name"], township_code=r["township_code"],
            county_code=r["county_code"], population=r["population"],
            households=r["households"], elderly=r["elderly"], children=r["children"],
            disabled=r["disabled"], farmland_share=r["farmland_share"], urban=r["urban"],
            geom=from_shape(r["geometry"], 4326), point=from_shape(r["point"], 4326)))
        region.communities.append(r["code"])
    for z in zone_records():
        session.add(HazardZone(code=z["code"], name=z["name"], kind=HazardKind(z["kind"]),
                               level=z["level"], geom=from_shape(z["geometry"], 4326)))
    session.flush()
    return region


def warn(session: Session, code: str, level: str, peak: float | None = None,
         hazard: Hazard = Hazard.RAINSTORM, metric: str = "precip_mm_24h") -> None:
    """Set a community's current warning as the warning engine would."""
    set_level(session, code, hazard, WarningLevel(level), peak_value=peak,
              metric=metric if peak is not None else None)


def open_event(session: Session) -> DisasterEvent:
    event = DisasterEvent(code="EV-TEST-1", name="测试暴雨过程", hazard=Hazard.RAINSTORM,
                          status=EventStatus.OPEN,
                          started_at=dt.datetime(2026, 7, 1, 0, tzinfo=dt.UTC),
                          area_codes=[], source="manual")
    session.add(event)
    session.flush()
    return event


def report(session: Session, event: DisasterEvent, code: str, **figures: Any) -> Report:
    """A latest 初报 with ``figures`` (the rest zero)."""
    row = Report(event_id=event.id, community_code=code, kind=ReportKind.INITIAL,
                 hazard=Hazard.RAINSTORM,
                 occurred_at=dt.datetime(2026, 7, 1, 2, tzinfo=dt.UTC),
                 submitted_at=dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC), is_latest=True,
                 **figures)
    session.add(row)
    session.flush()
    return row
