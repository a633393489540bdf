"""Shelters (GB 51143 kinds, GB 21734 classes) and their occupancy."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, geometry, intpk, utcnow, value_enum


class ShelterKind(enum.StrEnum):
    """GB 51143-2015: 紧急 emergency, 固定 fixed, 中心 central."""

    EMERGENCY = "emergency"
    FIXED = "fixed"
    CENTRAL = "central"


class ShelterClass(enum.StrEnum):
    """GB 21734-2008: I (>30 days), II (10–30 days), III (≤10 days)."""

    I = "I"  # noqa: E741 - the standard's own name
    II = "II"
    III = "III"


class ShelterStatus(enum.StrEnum):
    STANDBY = "standby"
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"


# GB 21734-2008: more than 1.5 m² of living area per person.
DEFAULT_AREA_PER_PERSON_M2 = 1.5


class Shelter(Base):
    __tablename__ = "shelters"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[ShelterKind] = mapped_column(value_enum(ShelterKind, "shelter_kind"))
    shelter_class: Mapped[ShelterClass | None] = mapped_column(
        value_enum(ShelterClass, "shelter_class"))
    level: Mapped[str | None] = mapped_column(String(20))  # provincial / municipal / county
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    capacity_day: Mapped[int | None] = mapped_column(Integer)
    capacity_night: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float | None] = mapped_column(Float)
    facilities: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[ShelterStatus] = mapped_column(
        value_enum(ShelterStatus, "shelter_status"), default=ShelterStatus.STANDBY)
    occupancy: Mapped[int] = mapped_column(Integer, default=0)
    county_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[WKBElement | None] = mapped_column(geometry("POINT"))


class OccupancyChangeKind(enum.StrEnum):
    ARRIVAL = "arrival"
    DEPARTURE = "departure"
    COUNT = "count"  # a head count that replaces the running figure


class OccupancyChange(Base):
    """One change of a shelter's occupancy: who, when, how many, and whether capacity was overridden.

    The running ``Shelter.occupancy`` always equals the last row's ``occupancy_after``.
    """

    __tablename__ = "shelter_occupancy_changes"

    id: Mapped[intpk]
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[OccupancyChangeKind] = mapped_column(
        value_enum(OccupancyChangeKind, "occupancy_change_kind"))
    people: Mapped[int] = mapped_column(Integer)  # arrivals/departures: count; count: new total
    occupancy_before: Mapped[int] = mapped_column(Integer)
    occupancy_after: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)  # capacity in force at the time
    # True when this change took occupancy beyond capacity by an explicit, reasoned override.
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))


class EvacuationPlan(Base):
    """A computed evacuation plan, stored with the exact JSON document it was returned as."""

    __tablename__ = "evacuation_plans"

    id: Mapped[intpk]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    distance_mode: Mapped[str] = mapped_column(String(20))  # "road" or "great_circle"
    people: Mapped[int] = mapped_column(Integer)
    assigned: Mapped[int] = mapped_column(Integer)
    unassigned: Mapped[int] = mapped_column(Integer)
    objective: Mapped[float] = mapped_column(Float)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ShelterSetting(Base):
    """Tunable data of this area (safety rules, evacuation rates, penalty) as JSON by key."""

    __tablename__ = "shelter_settings"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(60), unique=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))
