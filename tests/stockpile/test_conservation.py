"""Property: whatever sequence of movements is tried, stock is conserved and never negative."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gis.errors import AppError
from stockpile import ledger
from stockpile.models import StockLevel
from tests.stockpile.conftest import ADMIN

ITEMS = ("TENT12", "RICE")
DEPOTS = ("DPA", "DPB")
quantities = st.one_of(st.integers(-3, 40), st.sampled_from(["2.5", "0.125", "abc"]))
operations = st.lists(st.tuples(
    st.sampled_from(["receive", "issue", "transfer", "count", "adjust", "reserve"]),
    st.sampled_from(DEPOTS), st.sampled_from(ITEMS), quantities,
    st.sampled_from(["", "L1", "L2"])), min_size=1, max_size=25)


def _apply(session, op, depot, item, qty, lot):  # type: ignore[no-untyped-def]
    other = DEPOTS[1 - DEPOTS.index(depot)]
    if op == "receive":
        ledger.receive(session, ADMIN, depot, item, qty, lot=lot)
    elif op == "issue":
        ledger.issue(session, ADMIN, depot, item, qty, lot=lot or None)
    elif op == "transfer":
        ledger.transfer(session, ADMIN, depot, other, item, qty)
    elif op == "count":
        ledger.count(session, ADMIN, depot, item, qty, lot=lot)
    elif op == "adjust":
        ledger.adjust(session, ADMIN, depot, item, qty, lot=lot, reason="property test")
    else:
        ledger.reserve(session, ADMIN, depot, item, qty)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_stock_is_conserved_and_never_negative(stock_db, ops):
    savepoint = stock_db.begin_nested()
    expected: dict[tuple[str, str], Decimal] = {}
    try:
        for op, depot, item, qty, lot in ops:
            before = ledger.balance_total(stock_db)
            nested = stock_db.begin_nested()
            try:
                _apply(stock_db, op, depot, item, qty, lot)
                nested.commit()
            except AppError:
                nested.rollback()
                # A refused movement changed nothing.
                assert ledger.balance_total(stock_db) == before
            for level in stock_db.scalars(select(StockLevel)):
                assert Decimal(level.on_hand) >= 0
                assert Decimal(0) <= Decimal(level.reserved) <= Decimal(level.on_hand)
            expected = ledger.ledger_total(stock_db)
            assert ledger.balance_total(stock_db) == expected
        # Transfers move stock between depots; only receipts, issues and adjustments change
        # the total, and all of them are ledger lines: Σ ledger = Σ balances per item.
        assert sum(expected.values(), Decimal(0)) == sum(
            (Decimal(v.on_hand) for v in stock_db.scalars(select(StockLevel))), Decimal(0))
    finally:
        savepoint.rollback()
