"""Low-stock and expiring-soon warnings for depot managers and the duty officer.

:func:`stock_warnings` computes them for the depot page, the console,
``GET /api/v1/stock/warnings`` and the CLI; :mod:`stockpile.notices` pushes each new one
to the depot's managers and the duty officers (inbox, e-mail, SMS) on a schedule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_depot
from gis.messages import msg
from stockpile import ledger
from stockpile.dispatch_models import StockMinimum
from stockpile.errors import StockPermissionDenied
from stockpile.models import Depot, Item, StockLevel


def set_minimum(session: Session, actor: Actor, depot_code: str, item_code: str,
                minimum: Any) -> None:
    """Set the quantity below which ``item`` is low at ``depot`` (its manager or admin)."""
    item = ledger.get_item(session, item_code)
    qty = ledger.parse_quantity(minimum, item, field="minimum", allow_zero=True)
    depot = ledger.get_depot(session, depot_code)
    if not covers_depot(actor, depot.code) and actor.role != Role.ADMIN:
        raise StockPermissionDenied(msg("%(depot)s is outside your scope", depot=depot.name),
                                    fields={"depot": [msg("outside your scope")]})
    row = session.scalar(select(StockMinimum).where(StockMinimum.depot_id == depot.id,
                                                    StockMinimum.item_id == item.id))
    before = {"minimum": ledger._num(Decimal(row.minimum))} if row else None
    if row is None:
        row = StockMinimum(depot_id=depot.id, item_id=item.id, minimum=qty)
        session.add(row)
    row.minimum = qty
    audit.record(session, actor, "stock.minimum", "stock", f"{depot.code}/{item.code}", before,
                 {"minimum": ledger._num(qty)})
    session.flush()


def stock_warnings(session: Session, depot_code: str | None = None, *,
                   today: dt.date | None = None,
                   expiring_days: int = ledger.EXPIRING_SOON_DAYS) -> list[dict[str, Any]]:
    """``low_stock`` (available below the minimum), ``expiring`` and ``expired`` lots."""
    day = ledger._today(today)
    soon = day + dt.timedelta(days=expiring_days)
    depot_filter = [Depot.code == depot_code] if depot_code else []
    out: list[dict[str, Any]] = []
    available: dict[tuple[str, str], Decimal] = {}
    for depot, item, level in session.execute(
            select(Depot.code, Item.code, StockLevel).join(Depot, Depot.id == StockLevel.depot_id)
            .join(Item, Item.id == StockLevel.item_id).where(*depot_filter)
            .order_by(Depot.code, Item.code, StockLevel.lot)):
        qty = Decimal(level.on_hand)
        expired = level.expires_on is not None and level.expires_on < day
        if not expired:
            available[(depot, item)] = available.get((depot, item), Decimal(0)) + qty - Decimal(
                level.reserved)
        if qty > 0 and level.expires_on is not None and level.expires_on <= soon:
            out.append({"kind": "expired" if expired else "expiring", "depot": depot,
                        "item": item, "lot": level.lot, "quantity": ledger._num(qty),
                        "expires_on": level.expires_on.isoformat()})
    for depot, item, minimum in session.execute(
            select(Depot.code, Item.code, StockMinimum.minimum)
            .join(Depot, Depot.id == StockMinimum.depot_id)
            .join(Item, Item.id == StockMinimum.item_id).where(*depot_filter)):
        have = available.get((depot, item), Decimal(0))
        if have < Decimal(minimum):
            out.append({"kind": "low_stock", "depot": depot, "item": item,
                        "quantity": ledger._num(have), "minimum": ledger._num(Decimal(minimum))})
    return out
