"""Record schemas of the stockpile package: depots, stock lines and stock movements.

:class:`MovementIn` is the body of ``POST /api/v1/depots/CODE/movements`` and what
:func:`stockpile.ledger.book` takes: the API, the depot page and the ledger read a movement
through the same schema. :class:`DepotRecord` and :class:`StockRecord` are the import rows
of ``disaster import depots|stock`` and the records of the upsert services.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field

from disaster import upsert as u
from gis.schema import Boolean, Schema, text
from stockpile.models import DepotLevel

# Numeric(14, 3): at most 11 digits before the point.
MAX_QUANTITY = 99_999_999_999

Quantity = u.quantity(-MAX_QUANTITY, MAX_QUANTITY)
NonNegativeQuantity = u.quantity(0, MAX_QUANTITY)


class DepotRecord(u.RecordSchema):
    """A relief-material depot (city, county or township level) with its point."""

    COLUMNS: ClassVar[dict[str, str]] = {"geometry": "geom"}
    GEOMETRIES: ClassVar[tuple[str, ...]] = ("geometry",)

    code: u.code(32)
    name: text(120, min_length=1) = None
    level: u.enum_of(DepotLevel) = None
    county_code: u.digits(6) | None = None
    address: text(200) | None = None
    generated: u.Generated = None
    geometry: u.PointGeometry = None


class ItemRecord(u.RecordSchema):
    """A relief item of the catalogue (``data/items.csv``)."""

    code: u.code(32)
    name: text(120, min_length=1) = None
    name_en: text(120) | None = None
    unit: text(20, min_length=1) = None
    category: text(40, min_length=1) = None
    countable: Boolean = None
    pack_size: u.count(1) | None = None
    weight_kg: u.number(0.0) | None = None
    volume_m3: u.number(0.0) | None = None
    shelf_life_days: u.count(1) | None = None


class StockRecord(u.RecordSchema):
    """Counted stock of one lot at a depot: quantity on hand (not negative, finite)."""

    depot: u.code(32)
    item: u.code(32)
    quantity: NonNegativeQuantity
    lot: text(40) = ""
    expires_on: u.Date | None = None


MOVEMENT_KINDS = ("receipt", "issue", "transfer", "adjustment", "count")


class MovementIn(Schema):
    """One stock movement at a depot (CONTRACT.md ``POST /api/v1/depots/ID/movements``).

    ``quantity`` is positive except for an adjustment (signed); a count gives ``counted``
    (or ``quantity``); a transfer names ``to_depot``; an adjustment needs a ``reason``.
    Rules that depend on the item (whole numbers for countable items) and on the books are
    the ledger's.
    """

    kind: Literal["receipt", "issue", "transfer", "adjustment", "count"]
    item: text(32, min_length=1)
    quantity: Quantity | None = Field(None, description="signed for adjustments")
    counted: NonNegativeQuantity | None = Field(None, description="for kind count")
    to_depot: text(32, min_length=1) | None = None
    lot: text(40) | None = None
    expires_on: dt.date | None = None
    reason: text(200) | None = Field(None, description="required for adjustments")
    reference: text(80) | None = None
