"""One movement schema (``MovementIn``) for the movements API, the depot page and the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from stockpile import ledger
from stockpile.errors import StockValidationError
from stockpile.models import StockMovement
from stockpile.record_schemas import MovementIn
from tests.stockpile.conftest import MANAGER


def _movements(session) -> int:
    return session.scalar(select(func.count()).select_from(StockMovement))


def test_a_movement_document_is_booked_through_the_schema(stock_db):
    ledger.book(stock_db, MANAGER, "DPA", {"kind": "receipt", "item": "QUILT",
                                           "quantity": "120"})
    ledger.book(stock_db, MANAGER, "DPA", MovementIn(kind="issue", item="QUILT", quantity=20))
    quilt = next(r for r in ledger.on_hand(stock_db, "DPA") if r["item"] == "QUILT")
    assert quilt["quantity"] == 100


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"kind": "receipt", "item": "QUILT", "quantity": "NaN"}, "quantity", "type"),
    ({"kind": "receipt", "item": "QUILT", "quantity": 1e300}, "quantity", "too_large"),
    ({"kind": "receipt", "item": "QUILT", "quantity": [5]}, "quantity", None),
    ({"kind": "count", "item": "QUILT", "counted": -1}, "counted", "too_small"),
    ({"kind": "steal", "item": "QUILT", "quantity": 5}, "kind", "choice"),
    ({"kind": "receipt", "item": "QUI\x00LT", "quantity": 5}, "item", "invalid"),
    ({"kind": "receipt", "item": "QUILT", "quantity": 5, "reason": "x" * 201}, "reason",
     "too_long"),
])
def test_bad_movement_documents_name_the_field_and_change_nothing(stock_db, body, field, code):
    with pytest.raises(StockValidationError) as caught:
        ledger.book(stock_db, MANAGER, "DPA", body)
    assert field in caught.value.fields
    assert code is None or code in caught.value.field_codes[field]
    assert _movements(stock_db) == 0


def test_negative_and_non_finite_quantities_are_refused_by_the_ledger(stock_db):
    for bad in (-5, "-5", "inf", "NaN", True, "many"):
        with pytest.raises(StockValidationError) as caught:
            ledger.receive(stock_db, MANAGER, "DPA", "QUILT", bad)
        assert "quantity" in caught.value.fields
    assert _movements(stock_db) == 0
