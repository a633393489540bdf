"""Stock on hand of one depot after 1,000,000 ledger movements (target < 50 ms).

Builds a fresh database (SpatiaLite by default, or ``--database URL`` for PostGIS), writes the
movements in bulk with their balance rows (as the ledger would have left them), then times
:func:`stockpile.ledger.on_hand` and, for comparison, a sum over the whole ledger.

Run: ``.venv/bin/python bench/stock_on_hand.py [--movements N] [--database URL]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from disaster.access import SYSTEM
from gis.db import make_engine
from stockpile import catalog, ledger
from stockpile.models import Depot, DepotLevel, Item, MovementKind, StockLevel, StockMovement
from web.migrate import upgrade
from web.models import import_all_models


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    import_all_models()
    tmp = tempfile.TemporaryDirectory()
    url = args.database or f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    rng = np.random.default_rng(1)
    with Session(engine) as session:
        catalog.ensure_items(session, SYSTEM)
        depots = [Depot(code=f"BD{n}", name=f"bench {n}", level=DepotLevel.COUNTY)
                  for n in range(3)]
        session.add_all(depots)
        session.flush()
        items = session.query(Item).order_by(Item.code).all()
        lots = [f"L{n:02d}" for n in range(4)]
        expiry = {lot: dt.date(2027, 1, 1) + dt.timedelta(days=90 * i) for i, lot in enumerate(lots)}
        started = time.perf_counter()
        balance: dict[tuple[int, int, str], Decimal] = {}
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        batch = 50_000
        for start in range(0, args.movements, batch):
            n = min(batch, args.movements - start)
            depot_i = rng.choice(3, n, p=[0.6, 0.2, 0.2])  # most movements at the benched depot
            item_i = rng.integers(0, len(items), n)
            lot_i = rng.integers(0, len(lots), n)
            qty = rng.integers(1, 50, n)
            sign = np.where(rng.random(n) < 0.55, 1, -1)
            rows = []
            for d, i, lo, q, sg in zip(depot_i, item_i, lot_i, qty, sign, strict=True):
                key = (depots[d].id, items[i].id, lots[lo])
                have = balance.get(key, Decimal(0))
                q = Decimal(int(q))
                q = q if sg > 0 or have < q else -q  # never below zero
                balance[key] = have + q
                rows.append({"depot_id": key[0], "item_id": key[1], "lot": key[2],
                             "kind": (MovementKind.RECEIPT if q > 0 else MovementKind.ISSUE).value,
                             "quantity": q, "expires_on": expiry[key[2]], "at": at,
                             "actor_name": "bench"})
            session.execute(insert(StockMovement.__table__), rows)
        session.execute(insert(StockLevel.__table__), [
            {"depot_id": d, "item_id": i, "lot": lo, "expires_on": expiry[lo], "on_hand": q,
             "reserved": Decimal(0)} for (d, i, lo), q in balance.items()])
        session.commit()
        print(f"{args.movements:,} movements written in {time.perf_counter() - started:.1f} s "
              f"({engine.dialect.name})")
    with Session(engine) as session:
        ledger.on_hand(session, "BD0")  # warm the connection and statement caches
        times = []
        for _ in range(20):
            started = time.perf_counter()
            rows = ledger.on_hand(session, "BD0")
            times.append((time.perf_counter() - started) * 1000)
        print(f"on_hand(BD0): {len(rows)} items, median {statistics.median(times):.2f} ms, "
              f"max {max(times):.2f} ms (target < 50 ms)")
        started = time.perf_counter()
        totals = ledger.ledger_total(session, "BD0")
        print(f"for comparison, Σ over the ledger for BD0: "
              f"{(time.perf_counter() - started) * 1000:.0f} ms; matches balances: "
              f"{totals == ledger.balance_total(session, 'BD0')}")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
