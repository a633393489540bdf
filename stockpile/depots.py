"""Depots and the relief item catalogue: bulk import services (stock moves in the ledger)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import upsert as u
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from gis import datafiles
from gis.messages import msg
from stockpile.errors import StockValidationError
from stockpile.models import Depot, Item, StockLevel
from stockpile.record_schemas import DepotRecord, ItemRecord, StockRecord

ITEMS_CSV = datafiles.data_file("items.csv")

def upsert_depots(session: Session, actor: Actor,
                  records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update depots by code (level, county, point); administrators only.

    Returns ``(created, updated, unchanged)``; raises :class:`StockValidationError` with
    ``"row N: field"`` entries and writes nothing when any record is bad.
    """
    require_role(actor, Role.ADMIN, action="loading depots")
    errors = u.RowErrors()
    prepared = u.validate_records(records, DepotRecord, errors, what=msg("depots"))
    existing = u.load_existing(session, Depot, DepotRecord.columns(),
                               [v["code"] for _, v in prepared])
    counties = sorted({v.get("county_code") for _, v in prepared} - {None})
    known = set(session.scalars(select(Area.code).where(
        Area.code.in_(counties), Area.level == AreaLevel.COUNTY))) if counties else set()
    for row, values in prepared:
        if values["code"] not in existing:
            errors.require(row, values, ("name", "level", ("geometry", "geom")), msg("depot"))
        county = values.get("county_code")
        if county is not None and county not in known:
            errors.add(row, "county_code", msg("unknown county %(code)s", code=county),
                       "unknown")
    errors.raise_if_any(msg("depots"), StockValidationError)
    plan = u.plan_changes(prepared, existing, {"generated": False})
    return u.apply_plan(session, actor, Depot, "depot", plan, geometry_columns=("geom",))


def upsert_items(session: Session, actor: Actor,
                 records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    """Create or update relief items of the catalogue by code; administrators only."""
    require_role(actor, Role.ADMIN, action="loading the item catalogue")
    errors = u.RowErrors()
    prepared = u.validate_records(records, ItemRecord, errors, what=msg("items"))
    existing = u.load_existing(session, Item, ItemRecord.columns(),
                               [v["code"] for _, v in prepared])
    for row, values in prepared:
        if values["code"] not in existing:
            errors.require(row, values, ("name", "unit", "category"), msg("item"))
    errors.raise_if_any(msg("items"), StockValidationError)
    plan = u.plan_changes(prepared, existing, {"countable": True})
    return u.apply_plan(session, actor, Item, "item", plan)


def read_item_catalog(path: Path = ITEMS_CSV) -> list[dict[str, Any]]:
    """The standard relief items of ``data/items.csv`` as records (blank cells absent)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: v for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]


def load_item_catalog(session: Session, actor: Actor,
                      path: Path = ITEMS_CSV) -> tuple[int, int, int]:
    """Load the standard item catalogue (``data/items.csv``); idempotent."""
    return upsert_items(session, actor, read_item_catalog(path))


def upsert_stock(session: Session, actor: Actor, records: Sequence[dict[str, Any]],
                 reason: str = "stock import") -> tuple[int, int, int]:
    """Set counted stock per depot, item and lot through the ledger's stock count.

    Each record states the quantity on hand of one lot; a lot not yet held is ``created``,
    one whose balance differs gets an adjustment (``updated``), an equal one writes nothing
    (``unchanged``), so importing the same stock twice moves nothing.

    Raises
    ------
    StockValidationError
        Unknown depot or item, negative or non-numeric quantity, a fractional quantity of a
        countable item, or a lot given twice; ``"row N: field"`` entries, nothing written.
    """
    from stockpile import ledger  # the ledger module is built beside this one

    require_role(actor, Role.ADMIN, action="importing stock")
    errors = u.RowErrors()
    prepared = u.validate_records(records, StockRecord, errors, what=msg("stock"), key=None)
    depots = dict(session.execute(select(Depot.code, Depot.id)).all())
    items = {i.code: i for i in session.scalars(select(Item))}
    seen: dict[tuple[str, str, str], int] = {}
    for row, values in prepared:
        values.setdefault("lot", "")
        if values["depot"] not in depots:
            errors.add(row, "depot", msg("unknown depot %(code)s", code=values["depot"]),
                       "unknown")
        item = items.get(values["item"])
        if item is None:
            errors.add(row, "item", msg("unknown item %(code)s", code=values["item"]), "unknown")
        elif item.countable and values["quantity"] != values["quantity"].to_integral_value():
            errors.add(row, "quantity", msg("%(item)s is counted in whole %(unit)s",
                                            item=item.name, unit=item.unit))
        key = (values["depot"], values["item"], values["lot"])
        if key in seen:
            errors.add(row, "lot", msg("lot %(lot)s of %(item)s at %(depot)s also in row %(row)s",
                                       lot=values["lot"] or "-", item=values["item"],
                                       depot=values["depot"], row=seen[key]), "duplicate")
        seen.setdefault(key, row)
    errors.raise_if_any(msg("stock"), StockValidationError)
    balances = {
        (depot_id, item_id, lot): (on_hand, expires)
        for depot_id, item_id, lot, on_hand, expires in session.execute(
            select(StockLevel.depot_id, StockLevel.item_id, StockLevel.lot,
                   StockLevel.on_hand, StockLevel.expires_on))
    }
    created = updated = unchanged = 0
    for _row, values in prepared:
        current = balances.get((depots[values["depot"]], items[values["item"]].id, values["lot"]))
        quantity: Decimal = values["quantity"]
        expires: dt.date | None = values.get("expires_on")
        if current is not None and Decimal(current[0]) == quantity:
            unchanged += 1
            continue
        if current is None and quantity == 0:
            unchanged += 1  # nothing held and nothing counted: no ledger line to write
            continue
        ledger.count(session, actor, values["depot"], values["item"], quantity,
                     lot=values["lot"], expires_on=expires, reason=reason)
        if current is None:
            created += 1
        else:
            updated += 1
    session.flush()
    return created, updated, unchanged
