"""Racing issues on one item never drive stock negative; the ledger sum stays the balance."""

from __future__ import annotations

import multiprocessing
import threading
from decimal import Decimal

from sqlalchemy.orm import Session

from disaster.access import SYSTEM
from gis.db import make_engine, make_session_factory, unit_of_work
from stockpile import catalog, ledger
from stockpile.errors import InsufficientStock
from tests.stockpile.conftest import MANAGER, add_depot

STOCK = 30
WORKERS = 8
ATTEMPTS = 6  # 48 attempts of 1 unit… and 2 units: more asked than held


def _seed(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        catalog.ensure_items(session, SYSTEM)
        add_depot(session, "DPA", 116.98, 33.63)
        ledger.receive(session, SYSTEM, "DPA", "TENT12", STOCK)
        session.commit()
    engine.dispose()


def _issue_many(url: str, quantity: int) -> tuple[int, int]:
    """Issue ``quantity`` tents ATTEMPTS times in separate transactions; (done, refused)."""
    from web.models import import_all_models

    import_all_models()  # a spawned process starts without the mapped tables
    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    done = refused = 0
    for _ in range(ATTEMPTS):
        try:
            with unit_of_work(factory) as session:
                ledger.issue(session, MANAGER, "DPA", "TENT12", quantity)
            done += quantity
        except InsufficientStock:
            refused += 1
    engine.dispose()
    return done, refused


def _check(url: str, issued: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = ledger.on_hand(session, "DPA")
        assert (rows[0]["quantity"] if rows else 0) == STOCK - issued >= 0
        assert ledger.ledger_total(session) == ledger.balance_total(session) == {
            ("DPA", "TENT12"): Decimal(STOCK - issued)}
    engine.dispose()


def test_racing_threads_never_drive_stock_negative(database_url):
    _seed(database_url)
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        outcome = _issue_many(database_url, 1 + n % 2)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    issued = sum(done for done, _ in results)
    assert issued <= STOCK
    assert sum(refused for _, refused in results) > 0  # the race really ran out of stock
    _check(database_url, issued)


def test_racing_processes_never_drive_stock_negative(database_url):
    # PostGIS: row locks across server connections; SQLite: BEGIN IMMEDIATE file locks.
    _seed(database_url)
    # fork: the children start with the models imported and open no inherited connection.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        results = pool.starmap(_issue_many, [(database_url, 2)] * 3)
    issued = sum(done for done, _ in results)
    assert issued == STOCK  # 36 asked in pairs of 2 from 30: exactly 30 go out
    _check(database_url, issued)
