"""Low-stock and expiring-soon warnings."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.errors import PermissionDenied
from stockpile import jobs, ledger
from tests.stockpile.conftest import ADMIN, MANAGER, OTHER_MANAGER

TODAY = dt.date(2026, 11, 29)


def test_low_stock_and_expiring_lots_are_warned(stock_db):
    ledger.receive(stock_db, ADMIN, "DPA", "WATER", 100, lot="A", expires_on="2027-01-10",
                   today=TODAY)
    ledger.receive(stock_db, ADMIN, "DPA", "QUILT", 5, today=TODAY)
    jobs.set_minimum(stock_db, MANAGER, "DPA", "QUILT", 20)
    warnings = jobs.stock_warnings(stock_db, "DPA", today=TODAY)
    assert {(w["kind"], w["item"]) for w in warnings} == {("expiring", "WATER"),
                                                          ("low_stock", "QUILT")}
    later = jobs.stock_warnings(stock_db, today=dt.date(2027, 2, 1))
    assert ("expired", "WATER") in {(w["kind"], w["item"]) for w in later}


def test_minimum_of_another_depot_is_refused(stock_db):
    with pytest.raises(PermissionDenied):
        jobs.set_minimum(stock_db, OTHER_MANAGER, "DPA", "QUILT", 20)
