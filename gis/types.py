"""Column types shared by all models: geometries in EPSG:4326 and UTC timestamps."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, Enum, Integer, String, TypeDecorator
from sqlalchemy.orm import mapped_column

SRID = 4326


def geometry(kind: str, *, nullable: bool = True) -> Any:
    """A geometry column of ``kind`` (``POINT``, ``MULTIPOLYGON``…) in EPSG:4326 with a spatial index."""
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=True, nullable=nullable)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both backends.

    SQLite has no time zones: values are stored as naive UTC and made aware again on load.
    Naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def value_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value (readable in SQL and stable under renames of members)."""
    return Enum(
        enum_cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        validate_strings=True,
        length=32,
    )


intpk = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
code12 = Annotated[str, mapped_column(String(32), unique=True)]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
