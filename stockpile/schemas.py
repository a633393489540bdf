"""Declared schemas of the stock API: movements, dispatch plans, order steps, needs profiles.

The API validates each body against its schema before the ledger or the planner sees it,
and the OpenAPI document is generated from the same classes. Lengths follow the columns
(``stockpile.models``: codes 32, lot 40, reason 200, reference 80; orders' note 300).
The ledger keeps its own quantity rules (whole numbers for countable items, three decimals).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from gis.schema import Schema, text

# Numeric(14, 3) holds 11 integer digits.
MAX_QUANTITY = 99_999_999_999.0
Quantity = Annotated[float, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False)]
Code = text(32, 1)


class MovementIn(Schema):
    """One stock movement document (CONTRACT.md ``POST /depots/ID/movements``)."""

    kind: Literal["receipt", "issue", "transfer", "adjustment", "count"]
    item: Code
    quantity: Quantity | None = Field(None, description="signed for adjustments")
    counted: Quantity | None = Field(None, description="for kind count")
    to_depot: Code | None = None
    lot: text(40) | None = None
    expires_on: dt.date | None = None
    reason: text(200) | None = Field(None, description="required for adjustments")
    reference: text(80) | None = None


class PlanIn(Schema):
    """Parameters of a dispatch plan; all optional."""

    profile: Code | None = None
    unmet_penalty: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = None
    detour: Annotated[float, Field(ge=1, le=10, allow_inf_nan=False)] | None = None
    max_depots: Annotated[int, Field(ge=1, le=1000)] | None = None


class OrderStepIn(Schema):
    note: text(300) | None = None


class ProfileIn(Schema):
    """A needs profile: norms per person per day, days, model rates, active flag."""

    name: text(120) | None = None
    days: Annotated[int, Field(ge=1, le=90)] | None = None
    norms: Annotated[list[dict[str, Any]], Field(max_length=500)] | None = None
    model: dict[str, Any] | None = None
    active: bool | None = None


class DepotQuery(Schema):
    depot: text(32) | None = None


class NeedsQuery(Schema):
    profile: text(32) | None = None


class CardQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=100_000)] | None = None
