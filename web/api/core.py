"""Read API of the map console: areas, communities, hazard zones, shelters and depots (GeoJSON).

Every collection takes ``zoom`` (0–20) or ``simplify`` (degrees) to simplify polygons for the
view, and the polygon layers take ``bbox=west,south,east,north``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import request
from sqlalchemy import func, select

from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from disaster.hazards import HazardZone
from disaster.schemas import (
    AreasQuery,
    CommunitiesQuery,
    FeatureCollection,
    HazardZonesQuery,
    SheltersQuery,
)
from disaster.warnings.state import community_max_levels
from gis.errors import ValidationError
from shelters.models import Shelter
from stockpile.models import Depot, Item, StockLevel
from web.api import geojson
from web.api.common import api_blueprint, api_doc, query, session

bp = api_blueprint("core")

_COUNTY = re.compile(r"^\d{6}$")
_TOWNSHIP = re.compile(r"^\d{9}$")


def _enum(value):  # type: ignore[no-untyped-def]
    return None if value is None else getattr(value, "value", value)


@bp.get("/areas")
@api_doc(query=AreasQuery, response=FeatureCollection)
def areas():  # type: ignore[no-untyped-def]
    """Administrative areas as GeoJSON (the console's offline basemap).
    ---
    get:
      summary: City, county or township outlines
      responses:
        200: {description: "GeoJSON FeatureCollection; properties code, name, level, parent_code, population"}
        422: {description: "bad level, bbox, zoom or simplify"}
    """
    level = query(AreasQuery).level
    stmt = select(Area.id, Area.code, Area.name, Area.level, Area.parent_code, Area.population)
    if level:
        try:
            stmt = stmt.where(Area.level == AreaLevel(level))
        except ValueError:
            raise ValidationError("level must be city, county or township",
                                  fields={"level": ["one of city, county, township"]}) from None
    bbox = geojson.parse_bbox(request.args.get("bbox"))
    tolerance = geojson.tolerance_from_request()
    db = session()
    props = {r.id: {"code": r.code, "name": r.name, "level": _enum(r.level),
                    "parent_code": r.parent_code, "population": r.population}
             for r in db.execute(stmt)}
    layer = geojson.cache().layer(db, Area)
    return geojson.feature_collection(layer, geojson.select_ids(layer, bbox, props), tolerance,
                                      props)


@bp.get("/communities")
@api_doc(query=CommunitiesQuery, response=FeatureCollection)
def communities():  # type: ignore[no-untyped-def]
    """Communities (villages and residential communities) with their current warning level.
    ---
    get:
      summary: Communities as GeoJSON, coloured on the console by warning level
      responses:
        200:
          description: >-
            GeoJSON FeatureCollection; properties code, name, township_code, county_code,
            population, households, warning_level (blue, yellow, orange, red or null)
        422: {description: "bad bbox, county, zoom or simplify"}
    """
    stmt = select(Community.id, Community.code, Community.name, Community.township_code,
                  Community.county_code, Community.population, Community.households)
    q = query(CommunitiesQuery)
    county = q.county
    if county:
        if not _COUNTY.match(county):
            raise ValidationError("county must be a 6-digit code", fields={"county": ["6 digits"]})
        stmt = stmt.where(Community.county_code == county)
    township = q.township
    if township:
        if not _TOWNSHIP.match(township):
            raise ValidationError("township must be a 9-digit code",
                                  fields={"township": ["9 digits"]})
        stmt = stmt.where(Community.township_code == township)
    bbox = geojson.parse_bbox(request.args.get("bbox"))
    tolerance = geojson.tolerance_from_request()
    db = session()
    levels = community_max_levels(db)
    props = {}
    # Plain tuples: this loop runs once per community (tens of thousands for a province).
    for row_id, code, name, township_code, county_code, population, households in (
            db.execute(stmt)):
        level = levels.get(code)
        props[row_id] = {"code": code, "name": name, "township_code": township_code,
                         "county_code": county_code, "population": population,
                         "households": households,
                         "warning_level": None if level is None else level.value}
    layer = geojson.cache().layer(db, Community)
    ids = props if (county or township) else None
    return geojson.feature_collection(layer, geojson.select_ids(layer, bbox, ids), tolerance,
                                      props)


@bp.get("/hazard-zones")
@api_doc(query=HazardZonesQuery, response=FeatureCollection)
def hazard_zones():  # type: ignore[no-untyped-def]
    """Hazard zones (flood-prone lowland, waterlogging, landslide…).
    ---
    get:
      summary: Hazard zones as GeoJSON
      responses:
        200: {description: "GeoJSON FeatureCollection; properties code, name, kind, level"}
        422: {description: "bad bbox, zoom or simplify"}
    """
    stmt = select(HazardZone.id, HazardZone.code, HazardZone.name, HazardZone.kind,
                  HazardZone.level, HazardZone.source)
    kind = query(HazardZonesQuery).kind
    bbox = geojson.parse_bbox(request.args.get("bbox"))
    tolerance = geojson.tolerance_from_request()
    db = session()
    props = {r.id: {"code": r.code, "name": r.name, "kind": _enum(r.kind), "level": r.level,
                    "source": r.source}
             for r in db.execute(stmt) if not kind or _enum(r.kind) == kind}
    layer = geojson.cache().layer(db, HazardZone)
    return geojson.feature_collection(layer, geojson.select_ids(layer, bbox, props), tolerance,
                                      props)


@bp.get("/shelters")
@api_doc(query=SheltersQuery, response=FeatureCollection)
def shelters():  # type: ignore[no-untyped-def]
    """Emergency shelters with capacity and current occupancy.
    ---
    get:
      summary: Shelters as GeoJSON points
      responses:
        200:
          description: >-
            GeoJSON FeatureCollection; properties code, name, kind, class, level, capacity,
            capacity_day, capacity_night, occupancy, available, status, county_code,
            community_code, address, facilities
    """
    stmt = select(Shelter).order_by(Shelter.code)
    q = query(SheltersQuery)
    county = q.county
    if county:
        stmt = stmt.where(Shelter.county_code == county)
    status = q.status
    rows = []
    for s in session().scalars(stmt):
        if status and _enum(s.status) != status:
            continue
        rows.append((s.geom, {
            "code": s.code, "name": s.name, "kind": _enum(s.kind),
            "class": _enum(s.shelter_class), "level": s.level, "capacity": s.capacity,
            "capacity_day": s.capacity_day, "capacity_night": s.capacity_night,
            "occupancy": s.occupancy, "available": max(0, (s.capacity or 0) - (s.occupancy or 0)),
            "status": _enum(s.status), "county_code": s.county_code,
            "community_code": s.community_code, "address": s.address,
            "facilities": s.facilities or {},
        }))
    return geojson.point_collection(rows)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@bp.get("/depots")
@api_doc(response=FeatureCollection)
def depots():  # type: ignore[no-untyped-def]
    """Relief depots with a summary of stock on hand per item.
    ---
    get:
      summary: Depots as GeoJSON points with a stock summary
      responses:
        200:
          description: >-
            GeoJSON FeatureCollection; properties code, name, level, county_code, address and
            stock, a list of {item, name, unit, quantity} summed over lots (items on hand only)
    """
    db = session()
    totals: dict[int, list[dict]] = {}
    stmt = (select(StockLevel.depot_id, Item.code, Item.name, Item.name_en, Item.unit,
                   func.sum(StockLevel.on_hand))
            .join(Item, Item.id == StockLevel.item_id)
            .group_by(StockLevel.depot_id, Item.code, Item.name, Item.name_en, Item.unit)
            .order_by(StockLevel.depot_id, Item.code))
    for depot_id, code, name, name_en, unit, quantity in db.execute(stmt):
        if quantity is None or Decimal(quantity) <= 0:
            continue
        totals.setdefault(depot_id, []).append(
            {"item": code, "name": name, "name_en": name_en, "unit": unit,
             "quantity": _number(Decimal(quantity))})
    rows = [(d.geom, {"code": d.code, "name": d.name, "level": _enum(d.level),
                      "county_code": d.county_code, "address": d.address,
                      "stock": totals.get(d.id, [])})
            for d in db.scalars(select(Depot).order_by(Depot.code))]
    return geojson.point_collection(rows)
