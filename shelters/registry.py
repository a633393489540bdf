"""The shelter registry: bulk import and export of shelters (not their occupancy or evacuation).

Occupancy and status of an existing shelter are operational state kept by the occupancy
service; an import sets them only for shelters it creates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from shelters.errors import ShelterValidationError
from shelters.models import Shelter, ShelterClass, ShelterKind, ShelterStatus

SHELTER_LEVELS = ("provincial", "municipal", "county", "township")
_FACILITY_FLAGS = ("water", "power", "medical")


def facilities(value: Any) -> dict[str, Any]:
    """Shelter facilities: ``water``/``power``/``medical`` flags and a ``toilets`` count.

    Accepts a dict or its JSON text (files carry it as a string).
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("not a JSON object such as {\"water\": true, \"toilets\": 4}") from None
    if not isinstance(value, dict):
        raise ValueError("not an object of facilities")
    out: dict[str, Any] = {}
    for key, raw in value.items():
        if key in _FACILITY_FLAGS:
            out[key] = u.boolean(raw)
        elif key == "toilets":
            out[key] = u.integer(0)(raw)
        else:
            raise ValueError(f"unknown facility {key!r}; one of water, power, medical, toilets")
    return out


SHELTER_FIELDS = (
    u.Field("code", "code", u.code(32), required=True),
    u.Field("name", "name", u.nonempty_text(120)),
    u.Field("kind", "kind", u.choice(ShelterKind)),
    u.Field("shelter_class", "shelter_class", u.choice(ShelterClass)),
    u.Field("level", "level", u.one_of(*SHELTER_LEVELS)),
    u.Field("capacity", "capacity", u.integer(0), nullable=False),
    u.Field("capacity_day", "capacity_day", u.integer(0)),
    u.Field("capacity_night", "capacity_night", u.integer(0)),
    u.Field("area_m2", "area_m2", u.number(0.0)),
    u.Field("facilities", "facilities", facilities),
    u.Field("status", "status", u.choice(ShelterStatus), nullable=False),
    u.Field("occupancy", "occupancy", u.integer(0), nullable=False),
    u.Field("county_code", "county_code", u.digits(6)),
    u.Field("community_code", "community_code", u.digits(12)),
    u.Field("address", "address", u.text(200)),
    u.Field("generated", "generated", u.boolean, nullable=False),
    u.Field("geometry", "geom", u.point),
)
# Set on creation only: afterwards they belong to the occupancy service.
CREATE_ONLY = ("status", "occupancy")


def upsert_shelters(session: Session, actor: Actor,
                    records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update registered shelters by code; administrators only.

    Returns ``(created, updated, unchanged)``; raises :class:`ShelterValidationError` with
    ``"row N: field"`` entries and writes nothing when any record is bad.
    """
    require_role(actor, Role.ADMIN, action="loading shelters")
    errors = u.RowErrors()
    prepared = u.validate_records(records, SHELTER_FIELDS, errors)
    existing = u.load_existing(session, Shelter, [f.column for f in SHELTER_FIELDS],
                               [v["code"] for _, v in prepared])
    counties = {v.get("county_code") for _, v in prepared} - {None}
    county_codes = set(session.scalars(select(Area.code).where(
        Area.code.in_(sorted(counties)), Area.level == AreaLevel.COUNTY))) if counties else set()
    wanted = sorted({v.get("community_code") for _, v in prepared} - {None})
    community_county = dict(session.execute(select(Community.code, Community.county_code).where(
        Community.code.in_(wanted))).all()) if wanted else {}
    for row, values in prepared:
        merged = existing.get(values["code"], {}) | values
        new = values["code"] not in existing
        if new:
            errors.require(row, merged, ("name", "kind", "capacity", ("geometry", "geom")),
                           "shelter")
        county, community = values.get("county_code"), values.get("community_code")
        if county is not None and county not in county_codes:
            errors.add(row, "county_code", f"unknown county {county}")
        if community is not None:
            if community not in community_county:
                errors.add(row, "community_code", f"unknown community {community}")
            elif merged.get("county_code") and community_county[community] != merged["county_code"]:
                errors.add(row, "community_code",
                           f"community {community} is not in county {merged['county_code']}")
        capacity = merged.get("capacity") or 0
        for key in ("capacity_day", "capacity_night"):
            if (merged.get(key) or 0) > capacity:
                errors.add(row, key, f"{merged[key]} exceeds the capacity {capacity}")
        if new and (merged.get("occupancy") or 0) > capacity:
            errors.add(row, "occupancy", f"{merged['occupancy']} exceeds the capacity {capacity}")
    errors.raise_if_any("shelters", ShelterValidationError)
    plan = u.plan_changes(prepared, existing,
                          {"status": ShelterStatus.STANDBY, "occupancy": 0, "generated": False},
                          create_only=CREATE_ONLY)
    return u.apply_plan(session, actor, Shelter, "shelter", plan, geometry_columns=("geom",))
