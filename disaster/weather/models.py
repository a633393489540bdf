"""Ingested weather data: configured sources, hourly grids and the ingestion log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class WeatherSource(Base):
    """A provider and source the scheduler ingests from periodically."""

    __tablename__ = "weather_sources"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(80), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(1000))
    interval_minutes: Mapped[float] = mapped_column(default=10.0)
    # A source silent for longer than this raises a warning of its own (stale feed).
    stale_after_minutes: Mapped[float] = mapped_column(default=90.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new ok error stale
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_data_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Replay sources (demo): the simulated clock, advanced one hour per run.
    cursor: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WeatherGrid(Base):
    """One variable for one hour on one grid geometry (float32, NaN where no data).

    ``valid_time`` is the END of the hour covered (CONTRACT.md). ``available_at`` is when the
    system could first have known the values: evaluation at T uses only grids available by T.
    """

    __tablename__ = "weather_grids"
    __table_args__ = (UniqueConstraint("provider", "variable", "valid_time", "geometry_key"),)

    id: Mapped[intpk]
    provider: Mapped[str] = mapped_column(String(40))
    variable: Mapped[str] = mapped_column(String(40), index=True)
    valid_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    geometry_key: Mapped[str] = mapped_column(String(64), index=True)
    crs: Mapped[str | None] = mapped_column(Text)
    transform: Mapped[list[float] | None] = mapped_column(JSON)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # For point providers (Open-Meteo): the community code of each cell.
    point_codes: Mapped[list[str] | None] = mapped_column(JSON)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(1000))
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    ingested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestionRecord(Base):
    """One file or response seen by a provider: what came in and whether it was taken."""

    __tablename__ = "weather_ingestions"

    id: Mapped[intpk]
    provider: Mapped[str] = mapped_column(String(40), index=True)
    source_key: Mapped[str] = mapped_column(String(1000))
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))  # ok duplicate error
    message: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UpstreamAlert(Base):
    """A CAP 1.2 alert received from an upstream feed, mapped onto our communities."""

    __tablename__ = "upstream_alerts"
    __table_args__ = (UniqueConstraint("sender", "identifier"),)

    id: Mapped[intpk]
    sender: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(200))
    sent: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    msg_type: Mapped[str] = mapped_column(String(20))
    hazard: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(32))
    expires: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    communities: Mapped[list[str]] = mapped_column(JSON, default=list)
    references: Mapped[list[str] | None] = mapped_column(JSON)
    # active, or superseded/cancelled by a later upstream message
    status: Mapped[str] = mapped_column(String(20), default="active")
    source_name: Mapped[str] = mapped_column(String(1000))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
