"""Importing a road network (GeoPackage, Shapefile, GeoJSON lines) for dispatch distances."""

from __future__ import annotations

import itertools
from pathlib import Path

from geoalchemy2.shape import from_shape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_role
from gis.geometry import haversine_km
from gis.routing import read_road_lines
from stockpile.dispatch_models import RoadSegment


def import_roads(session: Session, actor: Actor, path: str | Path, *, crs: str | None = None,
                 replace: bool = True) -> int:
    """Load road lines (administrator); ``replace`` drops the previous network first.

    Returns the number of segments stored. A file that cannot be read or holds anything but
    lines is refused as a whole, naming the file and feature.
    """
    require_role(actor, Role.ADMIN, action="importing roads")
    lines = read_road_lines(path, crs)
    before = session.scalar(select(func.count()).select_from(RoadSegment))
    if replace:
        session.execute(delete(RoadSegment))
    for line in lines:
        xy = list(line.coords)
        km = float(sum(haversine_km(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(xy)))
        session.add(RoadSegment(geom=from_shape(line, srid=4326), length_km=round(km, 4),
                                source=Path(path).name[:200]))
    audit.record(session, actor, "roads.import", "road_network", Path(path).name,
                 {"segments": before}, {"segments": len(lines), "replace": replace})
    session.flush()
    return len(lines)
