"""The stock ledger: every receipt, issue, transfer, adjustment, count and reservation.

Each write locks the depot row and its :class:`StockLevel` rows (``SELECT … FOR UPDATE`` on
PostGIS through :func:`gis.spatial.for_update`; SQLite transactions are ``BEGIN IMMEDIATE``,
i.e. serialised), validates the whole movement against the locked balances, and only then
appends ledger lines, updates the balances and writes the audit entry. So a refused movement
changes nothing and concurrent issues can never drive stock below zero.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pydantic
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_depot
from gis.messages import Message, msg
from gis.schema import error_fields, validate
from gis.spatial import for_update
from gis.types import utcnow
from stockpile.errors import (
    InsufficientStock,
    StockNotFound,
    StockPermissionDenied,
    StockValidationError,
)
from stockpile.models import Depot, Item, MovementKind, StockLevel, StockMovement
from stockpile.record_schemas import MovementIn, Quantity

__all__ = [
    "EXPIRING_SOON_DAYS",
    "adjust",
    "book",
    "count",
    "issue",
    "issue_reserved",
    "ledger_total",
    "on_hand",
    "receive",
    "release",
    "reserve",
    "stock_card",
    "transfer",
]

# Lots expiring within this many days are flagged on the stock table and in warnings.
EXPIRING_SOON_DAYS = 60
_QUANTUM = Decimal("0.001")  # Numeric(14, 3)


@dataclass(frozen=True)
class Allocation:
    """Part of a quantity taken from (or reserved in) one lot."""

    lot: str
    quantity: Decimal
    expires_on: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"lot": self.lot, "quantity": _num(self.quantity),
                "expires_on": self.expires_on.isoformat() if self.expires_on else None}


# --------------------------------------------------------------------------- validation


def _today(today: dt.date | None = None) -> dt.date:
    # Expiry is judged by the calendar day in China (Asia/Shanghai = UTC+8, no DST).
    return today or (utcnow() + dt.timedelta(hours=8)).date()


def _num(value: Decimal) -> int | float:
    """JSON-friendly number: whole quantities as int."""
    return int(value) if value == value.to_integral_value() else float(value)


_QUANTITY = TypeAdapter(Quantity)


def parse_quantity(value: Any, item: Item, *, field: str = "quantity", allow_zero: bool = False,
                   signed: bool = False) -> Decimal:
    """A quantity of ``item`` read with the movement schema's type (:data:`Quantity`):
    finite, positive (unless ``signed``), whole for countable items, at most three decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise StockValidationError(msg("%(field)s is required", field=msg(field)),
                                   fields={field: [msg("a number is required")]},
                                   field_codes={field: ["required"]})
    try:
        qty: Decimal = _QUANTITY.validate_python(value)
    except pydantic.ValidationError as exc:
        found, codes = error_fields(exc)
        problems = [m for messages in found.values() for m in messages]
        raise StockValidationError(
            msg("%(field)s: %(problem)s", field=msg(field), problem=problems[0]),
            fields={field: problems},
            field_codes={field: [c for cs in codes.values() for c in cs]}) from None
    if signed:
        if qty == 0 and not allow_zero:
            raise StockValidationError(msg("%(field)s must not be zero", field=msg(field)),
                                       fields={field: [msg("must not be 0")]},
                                       field_codes={field: ["too_small"]})
    elif qty < 0 or (qty == 0 and not allow_zero):
        problem = msg("must be greater than 0") if not allow_zero else msg("must not be negative")
        raise StockValidationError(msg("%(field)s: %(problem)s", field=msg(field),
                                       problem=problem),
                                   fields={field: [problem]}, field_codes={field: ["too_small"]})
    if item.countable and qty != qty.to_integral_value():
        raise StockValidationError(
            msg("%(item)s is counted in whole %(unit)s", item=item.name, unit=item.unit),
            fields={field: [msg("%(item)s is countable: a whole number of %(unit)s is required",
                                item=item.name, unit=item.unit)]},
            field_codes={field: ["whole_number"]})
    if qty != qty.quantize(_QUANTUM):
        raise StockValidationError(msg("%(field)s has more than 3 decimals", field=msg(field)),
                                   fields={field: [msg("at most 3 decimals")]},
                                   field_codes={field: ["too_precise"]})
    return qty.quantize(_QUANTUM)


def _parse_date(value: Any, field: str = "expires_on") -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise StockValidationError(
            msg("%(field)s is not a date", field=msg(field)),
            fields={field: [msg("%(value)s is not a date (YYYY-MM-DD)", value=str(value))]}) from None


def _clean_lot(lot: Any) -> str:
    lot = "" if lot is None else str(lot).strip()
    if len(lot) > 40:
        raise StockValidationError(msg("the lot is too long"),
                                   fields={"lot": [msg("at most %(limit)s characters", limit=40)]})
    return lot


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    if len(value) > limit:
        raise StockValidationError(msg("%(field)s is too long", field=msg(field)),
                                   fields={field: [msg("at most %(limit)s characters", limit=limit)]})
    return value or None


def get_item(session: Session, code: Any, *, field: str = "item") -> Item:
    """The item with ``code`` or a field error naming it."""
    item = session.scalar(select(Item).where(Item.code == str(code or "").strip()))
    if item is None:
        unknown = msg("unknown item %(code)s", code=str(code or ""))
        raise StockValidationError(unknown, fields={field: [unknown]})
    return item


def get_depot(session: Session, code: Any, *, field: str = "depot", lock: bool = False) -> Depot:
    """The depot with ``code`` (404 for the addressed depot, 422 for a referenced one)."""
    stmt = select(Depot).where(Depot.code == str(code or "").strip())
    if lock:
        stmt = for_update(stmt, session)
    depot = session.scalar(stmt)
    if depot is None:
        cls = StockNotFound if field == "depot" else StockValidationError
        unknown = msg("unknown depot %(code)s", code=str(code or ""))
        raise cls(unknown, fields={field: [unknown]})
    return depot


def _require_depot(actor: Actor, depot: Depot, action: Message) -> None:
    # ``action`` is a msg() of its own ("receive stock"…), translated inside the sentence.
    if not covers_depot(actor, depot.code):
        raise StockPermissionDenied(
            msg("%(user)s may not %(action)s at %(depot)s", user=actor.username,
                action=action, depot=depot.name),
            fields={"depot": [msg("%(depot)s is outside your scope", depot=depot.name)]})


def _lock_depots(session: Session, *codes: str) -> list[Depot]:
    """Lock depot rows in a fixed order (by code) so that transfers cannot deadlock."""
    locked = {code: get_depot(session, code, lock=True) for code in sorted(set(codes))}
    return [locked[c] for c in codes]


def _levels(session: Session, depot: Depot, item: Item) -> list[StockLevel]:
    stmt = (select(StockLevel)
            .where(StockLevel.depot_id == depot.id, StockLevel.item_id == item.id)
            .order_by(StockLevel.id))
    # populate_existing: after waiting for the lock, read the committed balances, not a cache.
    stmt = for_update(stmt, session).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def _fefo(levels: list[StockLevel]) -> list[StockLevel]:
    # First expiry, first out; lots without expiry last; then by lot name for stability.
    return sorted(levels, key=lambda lv: (lv.expires_on is None, lv.expires_on or dt.date.max,
                                          lv.lot, lv.id))


def _level_for(session: Session, levels: list[StockLevel], depot: Depot, item: Item, lot: str,
               expires_on: dt.date | None, *, field: str = "expires_on") -> StockLevel:
    for level in levels:
        if level.lot == lot:
            if expires_on is not None and level.expires_on not in (None, expires_on):
                raise StockValidationError(
                    msg("lot %(lot)s already expires on %(date)s", lot=lot,
                        date=level.expires_on.isoformat()),
                    fields={field: [msg("lot %(lot)s of %(item)s expires on %(date)s, not %(given)s",
                                        lot=lot, item=item.name,
                                        date=level.expires_on.isoformat(),
                                        given=expires_on.isoformat())]})
            if level.expires_on is None and expires_on is not None:
                level.expires_on = expires_on
            return level
    level = StockLevel(depot_id=depot.id, item_id=item.id, lot=lot, expires_on=expires_on,
                       on_hand=Decimal(0), reserved=Decimal(0))
    session.add(level)
    levels.append(level)
    return level


def _append(session: Session, actor: Actor, depot: Depot, item: Item, kind: MovementKind,
            quantity: Decimal, level: StockLevel, *, reason: str | None,
            reference: str | None, at: dt.datetime) -> StockMovement:
    movement = StockMovement(depot_id=depot.id, item_id=item.id, kind=kind, quantity=quantity,
                             lot=level.lot, expires_on=level.expires_on, reason=reason,
                             reference=reference, at=at, actor_id=actor.user_id,
                             actor_name=actor.username[:80])
    session.add(movement)
    level.on_hand = Decimal(level.on_hand) + quantity
    return movement


def _audit(session: Session, actor: Actor, action: str, depot: Depot, item: Item,
           lines: list[tuple[str, Decimal]], **extra: Any) -> None:
    audit.record(session, actor, action, "stock", f"{depot.code}/{item.code}", None, {
        "depot": depot.code, "item": item.code,
        "lots": [{"lot": lot, "quantity": _num(q)} for lot, q in lines], **extra})


def _movement_dict(m: StockMovement, depot: Depot, item: Item) -> dict[str, Any]:
    return {"id": m.id, "depot": depot.code, "item": item.code, "kind": m.kind.value,
            "quantity": _num(Decimal(m.quantity)), "lot": m.lot,
            "expires_on": m.expires_on.isoformat() if m.expires_on else None,
            "reason": m.reason, "reference": m.reference, "at": m.at.isoformat(),
            "actor": m.actor_name}


def _allocate(levels: list[StockLevel], item: Item, quantity: Decimal, lot: str | None,
              today: dt.date, depot: Depot) -> list[tuple[StockLevel, Decimal]]:
    """Split ``quantity`` over available (unreserved, unexpired) stock; refuse if short."""
    if lot:
        chosen = [lv for lv in levels if lv.lot == lot]
        if not chosen:
            raise StockValidationError(
                msg("no lot %(lot)s of %(item)s at %(depot)s", lot=lot, item=item.name,
                    depot=depot.name),
                fields={"lot": [msg("no lot %(lot)s of %(item)s here", lot=lot, item=item.name)]})
        if chosen[0].expires_on is not None and chosen[0].expires_on < today:
            expired = chosen[0].expires_on.isoformat()
            raise StockValidationError(
                msg("lot %(lot)s of %(item)s expired on %(date)s", lot=lot, item=item.name,
                    date=expired),
                fields={"lot": [msg("lot %(lot)s expired on %(date)s; it cannot be issued "
                                    "(write it off with an adjustment)", lot=lot, date=expired)]})
    else:
        chosen = [lv for lv in _fefo(levels)
                  if lv.expires_on is None or lv.expires_on >= today]
    plan: list[tuple[StockLevel, Decimal]] = []
    left = quantity
    for level in chosen:
        free = Decimal(level.on_hand) - Decimal(level.reserved)
        if free <= 0:
            continue
        take = min(free, left)
        plan.append((level, take))
        left -= take
        if left == 0:
            return plan
    available = quantity - left
    if lot:
        message = msg("only %(available)s %(unit)s of %(item)s (lot %(lot)s) available at "
                      "%(depot)s, %(requested)s requested", available=_num(available),
                      unit=item.unit, item=item.name, lot=lot, depot=depot.name,
                      requested=_num(quantity))
    else:
        message = msg("only %(available)s %(unit)s of %(item)s available at %(depot)s, "
                      "%(requested)s requested", available=_num(available), unit=item.unit,
                      item=item.name, depot=depot.name, requested=_num(quantity))
    raise InsufficientStock(
        message,
        fields={"quantity": [msg("exceeds available stock (%(available)s %(unit)s)",
                                 available=_num(available), unit=item.unit)]})


# --------------------------------------------------------------------------- writes


def receive(session: Session, actor: Actor, depot_code: str, item_code: str, quantity: Any, *,
            lot: str = "", expires_on: Any = None, reason: str | None = None,
            reference: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Book a receipt into a depot (into ``lot`` with its expiry date)."""
    item = get_item(session, item_code)
    qty = parse_quantity(quantity, item)
    lot = _clean_lot(lot)
    expiry = _parse_date(expires_on)
    if expiry is not None and expiry < _today(today):
        raise StockValidationError(
            msg("an expired lot cannot be received"),
            fields={"expires_on": [msg("%(date)s is in the past", date=expiry.isoformat())]})
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("receive stock"))
    levels = _levels(session, depot, item)
    level = _level_for(session, levels, depot, item, lot, expiry)
    movement = _append(session, actor, depot, item, MovementKind.RECEIPT, qty, level,
                       reason=_text(reason, "reason", 200), reference=_text(reference, "reference", 80),
                       at=utcnow())
    _audit(session, actor, "stock.receipt", depot, item, [(lot, qty)], reference=reference)
    session.flush()
    return _movement_dict(movement, depot, item)


def issue(session: Session, actor: Actor, depot_code: str, item_code: str, quantity: Any, *,
          lot: str | None = None, reason: str | None = None, reference: str | None = None,
          today: dt.date | None = None) -> list[dict[str, Any]]:
    """Issue stock first-expiry-first-out (or from the named ``lot``); expired lots refused.

    Raises
    ------
    InsufficientStock
        More than the available (on hand minus reserved) stock was asked for; nothing changed.
    """
    item = get_item(session, item_code)
    qty = parse_quantity(quantity, item)
    lot = _clean_lot(lot) or None
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("issue stock"))
    levels = _levels(session, depot, item)
    plan = _allocate(levels, item, qty, lot, _today(today), depot)
    at = utcnow()
    reason, reference = _text(reason, "reason", 200), _text(reference, "reference", 80)
    moves = [_append(session, actor, depot, item, MovementKind.ISSUE, -take, level,
                     reason=reason, reference=reference, at=at) for level, take in plan]
    _audit(session, actor, "stock.issue", depot, item, [(lv.lot, -q) for lv, q in plan],
           reference=reference)
    session.flush()
    return [_movement_dict(m, depot, item) for m in moves]


def transfer(session: Session, actor: Actor, from_depot: str, to_depot: str, item_code: str,
             quantity: Any, *, lot: str | None = None, reason: str | None = None,
             reference: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Move stock between depots: paired out and in lines sharing one reference, lots kept.

    The actor must manage the sending depot (the receiving one is told by the ledger).
    """
    item = get_item(session, item_code)
    qty = parse_quantity(quantity, item)
    lot = _clean_lot(lot) or None
    if str(from_depot).strip() == str(to_depot or "").strip():
        raise StockValidationError(msg("a transfer needs two different depots"),
                                   fields={"to_depot": [msg("must differ from the sending depot")]})
    if not to_depot:
        raise StockValidationError(msg("%(field)s is required", field=msg("to_depot")),
                                   fields={"to_depot": [msg("required")]})
    get_depot(session, to_depot, field="to_depot")  # 422 naming to_depot before locking
    source, target = _lock_depots(session, from_depot, to_depot)
    _require_depot(actor, source, msg("transfer stock"))
    levels = _levels(session, source, item)
    plan = _allocate(levels, item, qty, lot, _today(today), source)
    target_levels = _levels(session, target, item)
    reference = _text(reference, "reference", 80) or f"TR-{uuid.uuid4().hex[:12]}"
    reason = _text(reason, "reason", 200)
    at = utcnow()
    outs, ins = [], []
    for level, take in plan:
        outs.append(_append(session, actor, source, item, MovementKind.TRANSFER_OUT, -take, level,
                            reason=reason, reference=reference, at=at))
        dest = _level_for(session, target_levels, target, item, level.lot, level.expires_on)
        ins.append(_append(session, actor, target, item, MovementKind.TRANSFER_IN, take, dest,
                           reason=reason, reference=reference, at=at))
    _audit(session, actor, "stock.transfer", source, item, [(lv.lot, -q) for lv, q in plan],
           to_depot=target.code, reference=reference)
    session.flush()
    return {"reference": reference,
            "out": [_movement_dict(m, source, item) for m in outs],
            "in": [_movement_dict(m, target, item) for m in ins]}


def adjust(session: Session, actor: Actor, depot_code: str, item_code: str, quantity: Any, *,
           reason: str, lot: str = "", expires_on: Any = None, reference: str | None = None,
           today: dt.date | None = None) -> dict[str, Any]:
    """Correct the balance of one lot by a signed ``quantity`` (damage, loss, write-off…).

    A reason is mandatory; the adjusted lot may not go below its reserved quantity or zero.
    """
    reason_text = _text(reason, "reason", 200)
    if not reason_text:
        raise StockValidationError(msg("an adjustment needs a reason"),
                                   fields={"reason": [msg("a reason is required for adjustments")]})
    item = get_item(session, item_code)
    qty = parse_quantity(quantity, item, signed=True)
    lot = _clean_lot(lot)
    expiry = _parse_date(expires_on)
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("adjust stock"))
    levels = _levels(session, depot, item)
    if qty < 0 and not any(lv.lot == lot for lv in levels):
        raise StockValidationError(
            msg("no lot %(lot)s of %(item)s at %(depot)s", lot=lot, item=item.name,
                depot=depot.name),
            fields={"lot": [msg("no lot %(lot)s of %(item)s here", lot=lot, item=item.name)]})
    level = _level_for(session, levels, depot, item, lot, expiry)
    free = Decimal(level.on_hand) - Decimal(level.reserved)
    if qty < 0 and -qty > free:
        raise InsufficientStock(
            msg("lot %(lot)s of %(item)s holds only %(free)s unreserved %(unit)s", lot=lot,
                item=item.name, free=_num(free), unit=item.unit),
            fields={"quantity": [msg("exceeds unreserved stock of the lot (%(free)s %(unit)s)",
                                     free=_num(free), unit=item.unit)]})
    movement = _append(session, actor, depot, item, MovementKind.ADJUSTMENT, qty, level,
                       reason=reason_text, reference=_text(reference, "reference", 80), at=utcnow())
    _audit(session, actor, "stock.adjustment", depot, item, [(lot, qty)], reason=reason_text)
    session.flush()
    return _movement_dict(movement, depot, item)


def count(session: Session, actor: Actor, depot_code: str, item_code: str, counted: Any, *,
          lot: str = "", expires_on: Any = None, reason: str | None = None,
          today: dt.date | None = None) -> dict[str, Any] | None:
    """Record a physical count of one lot: an adjustment by the difference, none when equal.

    Returns the adjustment movement, or ``None`` when the count matched the books.
    """
    item = get_item(session, item_code)
    qty = parse_quantity(counted, item, field="counted", allow_zero=True)
    lot = _clean_lot(lot)
    expiry = _parse_date(expires_on)
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("count stock"))
    levels = _levels(session, depot, item)
    existing = next((lv for lv in levels if lv.lot == lot), None)
    booked = Decimal(existing.on_hand) if existing else Decimal(0)
    reserved = Decimal(existing.reserved) if existing else Decimal(0)
    if qty < reserved:
        raise StockValidationError(
            msg("count %(counted)s %(unit)s is below the %(reserved)s reserved for confirmed "
                "orders", counted=_num(qty), unit=item.unit, reserved=_num(reserved)),
            fields={"counted": [msg("below the reserved quantity (%(reserved)s %(unit)s); cancel "
                                    "or re-plan the orders first", reserved=_num(reserved),
                                    unit=item.unit)]})
    if qty == booked:
        audit.record(session, actor, "stock.count", "stock", f"{depot.code}/{item.code}", None,
                     {"depot": depot.code, "item": item.code, "lot": lot,
                      "counted": _num(qty), "difference": 0})
        session.flush()
        return None
    level = _level_for(session, levels, depot, item, lot, expiry)
    why = _text(reason, "reason", 200) or f"count: {_num(booked)} booked, {_num(qty)} counted"
    movement = _append(session, actor, depot, item, MovementKind.ADJUSTMENT, qty - booked, level,
                       reason=why, reference=None, at=utcnow())
    _audit(session, actor, "stock.count", depot, item, [(lot, qty - booked)],
           counted=_num(qty), booked=_num(booked))
    session.flush()
    return _movement_dict(movement, depot, item)


def book(session: Session, actor: Actor, depot_code: str,
         movement: MovementIn | Mapping[str, Any]) -> Any:
    """Book one movement document at ``depot_code`` (the movements API and the depot page).

    ``movement`` is validated with :class:`stockpile.record_schemas.MovementIn` (the API's
    request body schema) and handed to :func:`receive`, :func:`issue`, :func:`transfer`,
    :func:`adjust` or :func:`count`; returns what that function returns.
    """
    m = movement if isinstance(movement, MovementIn) else validate(
        MovementIn, movement, what=msg("stock movement"), error=StockValidationError)
    lot = m.lot or ""
    if m.kind == "receipt":
        return receive(session, actor, depot_code, m.item, m.quantity, lot=lot,
                       expires_on=m.expires_on, reason=m.reason, reference=m.reference)
    if m.kind == "issue":
        return issue(session, actor, depot_code, m.item, m.quantity, lot=lot or None,
                     reason=m.reason, reference=m.reference)
    if m.kind == "transfer":
        return transfer(session, actor, depot_code, m.to_depot or "", m.item, m.quantity,
                        lot=lot or None, reason=m.reason, reference=m.reference)
    if m.kind == "adjustment":
        return adjust(session, actor, depot_code, m.item, m.quantity, reason=m.reason or "",
                      lot=lot, expires_on=m.expires_on, reference=m.reference)
    return count(session, actor, depot_code, m.item,
                 m.counted if m.counted is not None else m.quantity, lot=lot,
                 expires_on=m.expires_on, reason=m.reason)


def reserve(session: Session, actor: Actor, depot_code: str, item_code: str, quantity: Any, *,
            reference: str | None = None, today: dt.date | None = None) -> list[Allocation]:
    """Reserve available stock first-expiry-first-out for a confirmed order.

    Returns the per-lot allocations to pass back to :func:`issue_reserved` or
    :func:`release`. Raises :class:`InsufficientStock` (nothing changed) when short.
    """
    item = get_item(session, item_code)
    qty = parse_quantity(quantity, item)
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("reserve stock"))
    levels = _levels(session, depot, item)
    plan = _allocate(levels, item, qty, None, _today(today), depot)
    for level, take in plan:
        level.reserved = Decimal(level.reserved) + take
    _audit(session, actor, "stock.reserve", depot, item, [(lv.lot, q) for lv, q in plan],
           reference=reference)
    session.flush()
    return [Allocation(lv.lot, q, lv.expires_on) for lv, q in plan]


def _reserved_levels(session: Session, depot: Depot, item: Item,
                     allocations: list[Allocation] | list[dict]) -> list[tuple[StockLevel, Decimal]]:
    levels = {lv.lot: lv for lv in _levels(session, depot, item)}
    out = []
    for a in allocations:
        lot = a.lot if isinstance(a, Allocation) else a["lot"]
        qty = Decimal(str(a.quantity if isinstance(a, Allocation) else a["quantity"]))
        level = levels.get(lot)
        if level is None or Decimal(level.reserved) < qty:
            raise InsufficientStock(
                msg("the reservation of lot %(lot)s of %(item)s at %(depot)s is gone", lot=lot,
                    item=item.name, depot=depot.name),
                fields={"lot": [msg("less than %(quantity)s %(unit)s reserved in lot %(lot)s",
                                    quantity=_num(qty), unit=item.unit, lot=lot)]})
        out.append((level, qty))
    return out


def release(session: Session, actor: Actor, depot_code: str, item_code: str,
            allocations: list[Allocation] | list[dict], *, reference: str | None = None) -> None:
    """Give back reserved stock (a cancelled order). Managers of the depot, duty officers
    and administrators may release."""
    item = get_item(session, item_code)
    (depot,) = _lock_depots(session, depot_code)
    if actor.role != Role.DUTY_OFFICER:
        _require_depot(actor, depot, msg("release reserved stock"))
    plan = _reserved_levels(session, depot, item, allocations)
    for level, qty in plan:
        level.reserved = Decimal(level.reserved) - qty
    _audit(session, actor, "stock.release", depot, item, [(lv.lot, q) for lv, q in plan],
           reference=reference)
    session.flush()


def issue_reserved(session: Session, actor: Actor, depot_code: str, item_code: str,
                   allocations: list[Allocation] | list[dict], *, reference: str | None = None,
                   reason: str | None = None) -> list[dict[str, Any]]:
    """Issue exactly the reserved lots of a shipped order (reservation and stock both drop)."""
    item = get_item(session, item_code)
    (depot,) = _lock_depots(session, depot_code)
    _require_depot(actor, depot, msg("ship stock"))
    plan = _reserved_levels(session, depot, item, allocations)
    at = utcnow()
    moves = []
    for level, qty in plan:
        level.reserved = Decimal(level.reserved) - qty
        moves.append(_append(session, actor, depot, item, MovementKind.ISSUE, -qty, level,
                             reason=reason, reference=reference, at=at))
    _audit(session, actor, "stock.issue", depot, item, [(lv.lot, -q) for lv, q in plan],
           reference=reference)
    session.flush()
    return [_movement_dict(m, depot, item) for m in moves]


# --------------------------------------------------------------------------- reads


def on_hand(session: Session, depot_code: str, *, today: dt.date | None = None,
            expiring_days: int = EXPIRING_SOON_DAYS) -> list[dict[str, Any]]:
    """Stock on hand of one depot per item, with lots, reservations and expiry flags.

    Reads the balance rows only (a few per item), never the ledger, so it stays fast
    however long the ledger grows.
    """
    depot = get_depot(session, depot_code)
    day = _today(today)
    soon = day + dt.timedelta(days=expiring_days)
    rows = session.execute(
        select(StockLevel, Item).join(Item, Item.id == StockLevel.item_id)
        .where(StockLevel.depot_id == depot.id).order_by(Item.code, StockLevel.lot))
    by_item: dict[str, dict[str, Any]] = {}
    for level, item in rows:
        qty, res = Decimal(level.on_hand), Decimal(level.reserved)
        if qty == 0 and res == 0:
            continue
        entry = by_item.setdefault(item.code, {
            "item": item.code, "name": item.name, "name_en": item.name_en, "unit": item.unit,
            "category": item.category, "quantity": Decimal(0), "reserved": Decimal(0),
            "available": Decimal(0), "expired": Decimal(0), "expiring_soon": Decimal(0),
            "lots": []})
        expired = level.expires_on is not None and level.expires_on < day
        entry["quantity"] += qty
        entry["reserved"] += res
        if expired:
            entry["expired"] += qty
        else:
            entry["available"] += qty - res
            if level.expires_on is not None and level.expires_on <= soon:
                entry["expiring_soon"] += qty
        entry["lots"].append({"lot": level.lot, "quantity": _num(qty), "reserved": _num(res),
                              "expires_on": level.expires_on.isoformat() if level.expires_on else None,
                              "expired": expired})
    out = []
    for entry in by_item.values():
        for key in ("quantity", "reserved", "available", "expired", "expiring_soon"):
            entry[key] = _num(entry[key])
        out.append(entry)
    return out


def stock_card(session: Session, depot_code: str, item_code: str, *, limit: int | None = None
               ) -> dict[str, Any]:
    """The stock card (库存卡) of one item at one depot: movements with the running balance."""
    depot = get_depot(session, depot_code)
    item = get_item(session, item_code)
    moves = session.scalars(
        select(StockMovement).where(StockMovement.depot_id == depot.id,
                                    StockMovement.item_id == item.id)
        .order_by(StockMovement.at, StockMovement.id))
    balance = Decimal(0)
    lines = []
    for m in moves:
        balance += Decimal(m.quantity)
        row = _movement_dict(m, depot, item)
        row["balance"] = _num(balance)
        lines.append(row)
    if limit is not None:
        lines = lines[-limit:]
    return {"depot": depot.code, "item": item.code, "name": item.name, "unit": item.unit,
            "balance": _num(balance), "movements": lines}


def ledger_total(session: Session, depot_code: str | None = None) -> dict[tuple[str, str], Decimal]:
    """Σ of ledger lines per (depot, item): must equal the balance rows (a check for tests
    and operators)."""
    stmt = (select(Depot.code, Item.code, func.sum(StockMovement.quantity))
            .join(Depot, Depot.id == StockMovement.depot_id)
            .join(Item, Item.id == StockMovement.item_id)
            .group_by(Depot.code, Item.code))
    if depot_code:
        stmt = stmt.where(Depot.code == depot_code)
    return {(d, i): Decimal(q) for d, i, q in session.execute(stmt)}


def balance_total(session: Session, depot_code: str | None = None) -> dict[tuple[str, str], Decimal]:
    """Σ of balance rows per (depot, item) (see :func:`ledger_total`)."""
    stmt = (select(Depot.code, Item.code, func.sum(StockLevel.on_hand))
            .join(Depot, Depot.id == StockLevel.depot_id)
            .join(Item, Item.id == StockLevel.item_id)
            .group_by(Depot.code, Item.code))
    if depot_code:
        stmt = stmt.where(Depot.code == depot_code)
    return {(d, i): Decimal(q) for d, i, q in session.execute(stmt)}


def totals_by_depot(session: Session) -> dict[str, dict[str, Decimal]]:
    """``{depot_code: {item_code: available}}`` over unexpired lots (input of the planner)."""
    day = _today()
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = session.execute(
        select(Depot.code, Item.code, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.expires_on)
        .join(Depot, Depot.id == StockLevel.depot_id).join(Item, Item.id == StockLevel.item_id))
    for depot, item, qty, res, expires in rows:
        if expires is not None and expires < day:
            continue
        free = Decimal(qty) - Decimal(res)
        if free > 0:
            out[depot][item] += free
    return {d: dict(v) for d, v in out.items()}
