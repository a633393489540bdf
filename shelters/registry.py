"""The shelter registry: bulk import and export of shelters (not their occupancy or evacuation).

Occupancy and status of an existing shelter are operational state kept by the occupancy
service; an import sets them only for shelters it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from gis.messages import msg
from shelters.errors import ShelterValidationError
from shelters.models import Shelter, ShelterStatus
from shelters.record_schemas import SHELTER_LEVELS, ShelterRecord

__all__ = ["CREATE_ONLY", "SHELTER_LEVELS", "ShelterRecord", "upsert_shelters"]

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
    prepared = u.validate_records(records, ShelterRecord, errors, what=msg("shelters"))
    existing = u.load_existing(session, Shelter, ShelterRecord.columns(),
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
                           msg("shelter"))
        county, community = values.get("county_code"), values.get("community_code")
        if county is not None and county not in county_codes:
            errors.add(row, "county_code", msg("unknown county %(code)s", code=county),
                       "unknown")
        if community is not None:
            if community not in community_county:
                errors.add(row, "community_code",
                           msg("unknown community %(code)s", code=community), "unknown")
            elif merged.get("county_code") and community_county[community] != merged["county_code"]:
                errors.add(row, "community_code",
                           msg("community %(community)s is not in county %(county)s",
                               community=community, county=merged["county_code"]))
        if errors.has(row, "capacity"):
            continue  # the figures cannot be compared with a capacity that is itself bad
        capacity = merged.get("capacity") or 0
        for key in ("capacity_day", "capacity_night"):
            if (merged.get(key) or 0) > capacity:
                errors.add(row, key, msg("%(value)s exceeds the capacity %(capacity)s",
                                         value=merged[key], capacity=capacity), "too_large")
        if new and (merged.get("occupancy") or 0) > capacity:
            errors.add(row, "occupancy", msg("%(value)s exceeds the capacity %(capacity)s",
                                             value=merged["occupancy"], capacity=capacity),
                       "too_large")
    errors.raise_if_any(msg("shelters"), ShelterValidationError)
    plan = u.plan_changes(prepared, existing,
                          {"status": ShelterStatus.STANDBY, "occupancy": 0, "generated": False},
                          create_only=CREATE_ONLY)
    return u.apply_plan(session, actor, Shelter, "shelter", plan, geometry_columns=("geom",))
