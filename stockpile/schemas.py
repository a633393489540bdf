"""Declared schemas of the stock API: movements, dispatch plans and their review, order steps,
needs profiles, the depot's movement history.

The API validates each body against its schema before the ledger or the planner sees it,
and the OpenAPI document is generated from the same classes. Lengths follow the columns
(``stockpile.models``: codes 32, lot 40, reason 200, reference 80; orders' note 300).
A movement is :class:`stockpile.record_schemas.MovementIn`, the one schema the ledger uses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from gis.messages import msg
from gis.schema import Int64, Schema, text
from stockpile.record_schemas import MovementIn

__all__ = ["MovementIn"]

# Numeric(14, 3) holds 11 integer digits.
MAX_QUANTITY = 99_999_999_999.0
Quantity = Annotated[float, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False)]
Code = text(32, 1)




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


NeedsSource = Literal["both", "reports", "model"]
OrderState = Literal["draft", "approved", "confirmed", "shipped", "delivered", "cancelled"]


class DispatchPlanRequest(Schema):
    """``POST /api/v1/dispatch/plans``: every field optional (CONTRACT.md sends none)."""

    profile: text(32) | None = None
    unmet_penalty: float = Field(1000.0, gt=0, le=1e9, allow_inf_nan=False)
    detour: float = Field(1.3, ge=1.0, le=10.0, allow_inf_nan=False)
    max_depots: int = Field(10, ge=1, le=1000)
    source: NeedsSource = Field("both", description="needs from reports, the model, or both")
    depots: list[Code] = Field(default_factory=list, max_length=1000,
                               description="depot codes to send from (empty: all)")
    items: list[Code] = Field(default_factory=list, max_length=500,
                              description="item codes to send (empty: all)")
    due_hours: int | None = Field(None, ge=1, le=720,
                                  description="orders are late when not delivered this many "
                                              "hours after approval (default 12)")


class OrderLineEdit(Schema):
    """``PATCH /api/v1/dispatch/orders/ID/lines/ITEM``: the new quantity (0 removes it)."""

    quantity: float = Field(ge=0, le=99_999_999_999, allow_inf_nan=False)


class BulkOrderAction(Schema):
    """``POST /api/v1/dispatch/orders/bulk``: one step for several orders of your depots."""

    action: Literal["confirm", "ship"]
    orders: list[Int64] = Field(min_length=1, max_length=500)

    @field_validator("orders")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value):
            raise ValueError(msg("order ids are positive whole numbers"))
        return value


class BulkFailure(Schema):
    order: int
    code: str
    message: str


class BulkResult(Schema):
    action: str
    done: list[int]
    failed: list[BulkFailure]


class OrderBoardQuery(Schema):
    """``GET /api/v1/dispatch/board``: filter by state (comma-separated), plan, late."""

    status: text(200) | None = None
    plan: Int64 | None = None
    late: bool | None = None
    depot: text(32) | None = None
    limit: int = Field(200, ge=1, le=2000)

    @field_validator("status")
    @classmethod
    def _states(cls, value: str | None) -> str | None:
        if value:
            states = {"draft", "approved", "confirmed", "shipped", "delivered", "cancelled"}
            bad = [s for s in value.split(",") if s.strip() not in states]
            if bad:
                raise ValueError(msg("unknown order state %(states)s", states=", ".join(bad)))
        return value

    def states(self) -> list[str]:
        return [s.strip() for s in (self.status or "").split(",") if s.strip()]


class HistoryQuery(Schema):
    """``GET /api/v1/depots/ID/movements``: one page of the depot's ledger, newest first."""

    item: text(32) | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=200)


class ItemLine(Schema):
    item: str
    name: str
    name_en: str | None = None
    unit: str
    quantity: float


class OrderRow(Schema):
    id: int
    plan: int
    status: OrderState
    depot: str
    depot_name: str
    destination: str
    destination_name: str
    destination_label: str
    township: str | None = None
    township_name: str | None = None
    distance_km: float
    lines: list[ItemLine]
    approved_at: str | None = None
    due_at: str | None = None
    updated_at: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None
    late: bool
    note: str | None = None


class OrderBoard(Schema):
    counts: dict[str, int]
    late: int
    total: int
    orders: list[OrderRow]


class PlanSummary(Schema):
    id: int
    status: str
    created_at: str | None = None
    created_by: str | None = None
    approved_at: str | None = None
    approved_by: str | None = None
    due_hours: int
    due_at: str | None = None
    profile: str | None = None
    objective: float


class UnmetRow(Schema):
    destination: str
    destination_label: str
    item: str
    name: str
    unit: str
    quantity: float


class PlanReview(Schema):
    plan: PlanSummary
    orders: list[OrderRow]
    unmet: list[UnmetRow]
    flows: dict[str, Any] = Field(description="GeoJSON FeatureCollection: one line per "
                                              "(depot, township) with the summed quantities")


class PlanListRow(Schema):
    id: int
    status: str
    created_at: str
    approved_at: str | None = None
    orders: int


class Choice(Schema):
    code: str
    name: str
    unit: str | None = None


class PlanOptions(Schema):
    sources: list[str]
    depots: list[Choice]
    items: list[Choice]
    profiles: list[Choice]
    due_hours: int


class MovementRow(Schema):
    id: int
    at: str
    kind: str
    item: str
    name: str
    name_en: str | None = None
    unit: str
    quantity: float
    balance: float
    lot: str
    reference: str | None = None
    order: int | None = None
    destination_label: str | None = None
    reason: str | None = None
    actor: str


class MovementHistory(Schema):
    depot: str
    depot_name: str
    item: str | None = None
    page: int
    pages: int
    per_page: int
    total: int
    movements: list[MovementRow]
