"""The stock ledger: movements, lots, refusals, stock on hand and the stock card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from disaster.audit import AuditEntry
from gis.errors import ValidationError
from stockpile import ledger
from stockpile.errors import (
    InsufficientStock,
    StockNotFound,
    StockPermissionDenied,
    StockValidationError,
)
from stockpile.models import StockMovement
from tests.stockpile.conftest import ADMIN, MANAGER, OTHER_MANAGER

TODAY = dt.date(2026, 11, 29)


def _movements(session) -> int:
    return session.scalar(select(func.count()).select_from(StockMovement))


def _item(rows, code):
    return next(r for r in rows if r["item"] == code)


def test_receipt_then_issue_moves_stock_and_audits(stock_db):
    ledger.receive(stock_db, MANAGER, "DPA", "QUILT", 100, today=TODAY)
    ledger.issue(stock_db, MANAGER, "DPA", "QUILT", 30, today=TODAY)
    row = _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "QUILT")
    assert (row["quantity"], row["available"], row["unit"]) == (70, 70, "床")
    actions = set(stock_db.scalars(select(AuditEntry.action)))
    assert {"stock.receipt", "stock.issue"} <= actions


def test_issue_takes_first_expiry_first_out(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "FOOD", 50, lot="LATE", expires_on="2027-06-01", today=TODAY)
    ledger.receive(stock_db, ADMIN, "DPA", "FOOD", 20, lot="EARLY", expires_on="2027-01-01", today=TODAY)
    lines = ledger.issue(stock_db, ADMIN, "DPA", "FOOD", 30, today=TODAY)
    assert [(m["lot"], m["quantity"]) for m in lines] == [("EARLY", -20), ("LATE", -10)]


def test_issue_beyond_stock_is_refused_and_changes_nothing(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "TENT12", 5, today=TODAY)
    before = _movements(stock_db)
    with pytest.raises(InsufficientStock) as err:
        ledger.issue(stock_db, MANAGER, "DPA", "TENT12", 6, today=TODAY)
    assert err.value.status == 409
    assert "quantity" in err.value.fields
    assert _movements(stock_db) == before
    assert _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "TENT12")["quantity"] == 5


def test_issuing_an_expired_lot_is_refused(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 10, lot="OLD", expires_on="2026-12-01",
                   today=TODAY)
    with pytest.raises(StockValidationError) as err:
        ledger.issue(stock_db, ADMIN, "DPA", "WATER", 1, lot="OLD", today=dt.date(2026, 12, 2))
    assert "lot" in err.value.fields
    # Unnamed issues skip expired lots entirely.
    with pytest.raises(InsufficientStock):
        ledger.issue(stock_db, ADMIN, "DPA", "WATER", 1, today=dt.date(2026, 12, 2))


@pytest.mark.parametrize("quantity", [-3, 0, "2.5", "abc", None])
def test_bad_quantities_of_countable_items_are_refused(stock_db, quantity):
    with pytest.raises(ValidationError) as err:
        ledger.receive(stock_db, ADMIN, "DPA", "TENT12", quantity, today=TODAY)
    assert "quantity" in err.value.fields
    assert _movements(stock_db) == 0


def test_fractional_quantities_of_bulk_items_are_accepted(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "RICE", "12.5", today=TODAY)
    assert _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "RICE")["quantity"] == 12.5


def test_unknown_item_and_depot_name_the_field(stock_db):
    with pytest.raises(StockValidationError) as err:
        ledger.receive(stock_db, ADMIN, "DPA", "NOPE", 1)
    assert "item" in err.value.fields
    with pytest.raises(StockNotFound) as err:
        ledger.receive(stock_db, ADMIN, "DP404", "QUILT", 1)
    assert "depot" in err.value.fields


def test_transfer_is_a_paired_out_and_in_with_one_reference(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 40, lot="L1", expires_on="2027-05-01",
                   today=TODAY)
    moved = ledger.transfer(stock_db, MANAGER, "DPA", "DPB", "WATER", 15, today=TODAY)
    assert [m["quantity"] for m in moved["out"]] == [-15]
    assert [(m["quantity"], m["lot"]) for m in moved["in"]] == [(15, "L1")]
    refs = set(stock_db.scalars(select(StockMovement.reference).where(
        StockMovement.kind.in_(["transfer_out", "transfer_in"]))))
    assert refs == {moved["reference"]}
    assert _item(ledger.on_hand(stock_db, "DPB", today=TODAY), "WATER")["lots"][0]["expires_on"] \
        == "2027-05-01"


def test_transfer_to_the_same_depot_is_refused(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 5)
    with pytest.raises(StockValidationError) as err:
        ledger.transfer(stock_db, ADMIN, "DPA", "DPA", "QUILT", 1)
    assert "to_depot" in err.value.fields


def test_transfer_to_an_unknown_depot_names_to_depot(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 5)
    with pytest.raises(StockValidationError) as err:
        ledger.transfer(stock_db, ADMIN, "DPA", "DPX", "QUILT", 1)
    assert "to_depot" in err.value.fields


def test_manager_of_another_depot_is_refused(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 5)
    with pytest.raises(StockPermissionDenied):
        ledger.issue(stock_db, OTHER_MANAGER, "DPA", "QUILT", 1)
    with pytest.raises(StockPermissionDenied):
        ledger.receive(stock_db, OTHER_MANAGER, "DPA", "QUILT", 1)


def test_adjustment_needs_a_reason(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 5)
    with pytest.raises(StockValidationError) as err:
        ledger.adjust(stock_db, ADMIN, "DPA", "QUILT", -1, reason="  ")
    assert "reason" in err.value.fields
    ledger.adjust(stock_db, ADMIN, "DPA", "QUILT", -2, reason="water damage")
    assert _item(ledger.on_hand(stock_db, "DPA"), "QUILT")["quantity"] == 3


def test_count_adjusts_to_the_counted_quantity_and_is_silent_when_equal(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "LAMP", 20)
    assert ledger.count(stock_db, MANAGER, "DPA", "LAMP", 20) is None
    moved = ledger.count(stock_db, MANAGER, "DPA", "LAMP", 17, reason="annual count")
    assert moved["quantity"] == -3 and moved["kind"] == "adjustment"
    assert _item(ledger.on_hand(stock_db, "DPA"), "LAMP")["quantity"] == 17


def test_reserved_stock_is_not_available_to_issue(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "BED", 10, today=TODAY)
    allocations = ledger.reserve(stock_db, MANAGER, "DPA", "BED", 8, today=TODAY)
    row = _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "BED")
    assert (row["quantity"], row["reserved"], row["available"]) == (10, 8, 2)
    with pytest.raises(InsufficientStock):
        ledger.issue(stock_db, MANAGER, "DPA", "BED", 3, today=TODAY)
    ledger.issue_reserved(stock_db, MANAGER, "DPA", "BED", allocations)
    row = _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "BED")
    assert (row["quantity"], row["reserved"], row["available"]) == (2, 0, 2)


def test_on_hand_flags_expiring_and_expired_lots(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 10, lot="A", expires_on="2026-12-10",
                   today=TODAY)
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 5, lot="B", expires_on="2027-11-01",
                   today=TODAY)
    row = _item(ledger.on_hand(stock_db, "DPA", today=TODAY), "WATER")
    assert (row["expiring_soon"], row["expired"], row["available"]) == (10, 0, 15)
    row = _item(ledger.on_hand(stock_db, "DPA", today=dt.date(2026, 12, 11)), "WATER")
    assert (row["expired"], row["available"]) == (10, 5)


def test_stock_card_shows_the_running_balance(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "COAT", 10)
    ledger.issue(stock_db, ADMIN, "DPA", "COAT", 4)
    ledger.receive(stock_db, ADMIN, "DPA", "COAT", 1)
    card = ledger.stock_card(stock_db, "DPA", "COAT")
    assert [m["balance"] for m in card["movements"]] == [10, 6, 7]
    assert card["balance"] == 7


def test_ledger_sum_equals_balances(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "RICE", "100.25")
    ledger.transfer(stock_db, ADMIN, "DPA", "DPB", "RICE", "40.125")
    ledger.count(stock_db, ADMIN, "DPB", "RICE", 40)
    assert ledger.ledger_total(stock_db) == ledger.balance_total(stock_db) == {
        ("DPA", "RICE"): Decimal("60.125"), ("DPB", "RICE"): Decimal("40.000")}
