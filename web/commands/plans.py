"""``disaster dispatch …`` (plans, orders, roads, vehicles) and ``disaster stock …``."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from disaster.access import cli_actor
from disaster.notify import dispatch as notify_dispatch
from stockpile import catalog, jobs, ledger, notices, orders
from stockpile.dispatch import DEFAULT_DETOUR, DEFAULT_MAX_DEPOTS, DEFAULT_UNMET_PENALTY
from stockpile.dispatch_models import Vehicle
from stockpile.errors import StockValidationError
from stockpile.roads import import_roads
from web.commands.common import CliContext, command_options, emit


@click.group("dispatch")
def dispatch_group() -> None:
    """Relief dispatch: optimal plans from needs and stock, and their orders."""


def _plan_text(d: dict[str, Any]) -> str:
    lines = [f"plan {d['id']} ({d['status']}, {d['solver']}): {len(d['orders'])} orders, "
             f"{len(d['unmet'])} unmet needs, objective {d['objective']:.3f}"]
    for o in d["orders"]:
        goods = ", ".join(f"{ln['item']} {ln['quantity']}" for ln in o["lines"])
        lines.append(f"  #{o['id']} {o['depot']} -> {o['destination']} "
                     f"({o['distance_km']:.1f} km, {o['status']}): {goods}")
    for u in d["unmet"]:
        lines.append(f"  unmet {u['destination']} {u['item']} {u['quantity']}")
    return "\n".join(lines)


@dispatch_group.command("plan")
@click.option("--profile", default=None, help="Needs profile (china, sphere, inasafe…).")
@click.option("--unmet-penalty", type=float, default=DEFAULT_UNMET_PENALTY, show_default=True,
              help="Penalty per unit of unmet need, times the destination's priority.")
@click.option("--detour", type=float, default=DEFAULT_DETOUR, show_default=True,
              help="Road km per great-circle km where no road network is imported.")
@click.option("--max-depots", type=int, default=DEFAULT_MAX_DEPOTS, show_default=True,
              help="Candidate depots per destination (nearest first).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes solving items in parallel (large plans on idle machines).")
@click.option("--source", type=click.Choice(["both", "reports", "model"]), default="both",
              show_default=True, help="Needs from officers' reports, the model, or both.")
@click.option("--depot", "depots", multiple=True, help="Send only from this depot (repeatable).")
@click.option("--item", "items", multiple=True, help="Send only this item (repeatable).")
@click.option("--due-hours", type=click.IntRange(1, 720), default=None,
              help="Orders are late when not delivered this many hours after approval "
                   "(default 12).")
@command_options
def plan(obj: CliContext, profile: str | None, unmet_penalty: float, detour: float,
         max_depots: int, workers: int, source: str, depots: tuple[str, ...],
         items: tuple[str, ...], due_hours: int | None) -> None:
    """Optimal dispatch plan for current needs, stored as draft orders."""
    with obj.session() as session:
        document = orders.plan_dict(session, orders.create_plan(
            session, cli_actor(), profile=profile, unmet_penalty=unmet_penalty, detour=detour,
            max_depots=max_depots, workers=workers, source=source, depots=depots,
            items=items, due_hours=due_hours))
    emit(obj, document, _plan_text)


@dispatch_group.command("show")
@click.argument("plan_id", type=int)
@command_options
def show(obj: CliContext, plan_id: int) -> None:
    """Print a stored plan."""
    with obj.session() as session:
        document = orders.plan_dict(session, orders.get_plan(session, plan_id))
    emit(obj, document, _plan_text)


@dispatch_group.command("approve")
@click.argument("plan_id", type=int)
@command_options
def approve(obj: CliContext, plan_id: int) -> None:
    """Approve a draft plan (all its draft orders)."""
    with obj.session() as session:
        document = orders.plan_dict(session, orders.approve_plan(session, cli_actor(), plan_id))
    emit(obj, document, _plan_text)


@dispatch_group.command("order")
@click.argument("order_id", type=int)
@click.argument("action", type=click.Choice(orders.ACTIONS))
@click.option("--note", default=None)
@command_options
def order(obj: CliContext, order_id: int, action: str, note: str | None) -> None:
    """Move an order: approve, confirm, ship, deliver or cancel."""
    with obj.session() as session:
        document = orders.order_dict(session, orders.act(session, cli_actor(), order_id, action,
                                                         note=note))
    emit(obj, document, lambda d: f"order {d['id']}: {d['status']}")


@dispatch_group.command("roads")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", default=None, help="CRS of a file that declares none.")
@click.option("--append", is_flag=True, help="Add to the network instead of replacing it.")
@command_options
def roads(obj: CliContext, path: str, crs: str | None, append: bool) -> None:
    """Import road lines (GeoPackage, Shapefile, GeoJSON) for road distances."""
    with obj.session() as session:
        count = import_roads(session, cli_actor(), path, crs=crs, replace=not append)
    emit(obj, {"segments": count}, f"{count} road segments imported")


@dispatch_group.command("vehicle")
@click.argument("code")
@click.option("--depot", required=True)
@click.option("--name", default=None)
@click.option("--payload-kg", type=float, required=True)
@click.option("--volume-m3", type=float, required=True)
@click.option("--trips", type=int, default=None,
              help="Trips per plan; caps what the depot ships (HiGHS solves the coupled plan).")
@command_options
def vehicle(obj: CliContext, code: str, depot: str, name: str | None, payload_kg: float,
            volume_m3: float, trips: int | None) -> None:
    """Add or change a truck based at a depot."""
    if payload_kg <= 0 or volume_m3 <= 0 or (trips is not None and trips < 1):
        raise StockValidationError("vehicle capacities must be positive",
                                   fields={"payload_kg": ["must be > 0"], "volume_m3": ["> 0"],
                                           "trips": ["≥ 1"]})
    with obj.session() as session:
        d = ledger.get_depot(session, depot)
        row = session.scalar(select(Vehicle).where(Vehicle.code == code))
        if row is None:
            row = Vehicle(code=code, depot_id=d.id, name=name or code, payload_kg=payload_kg,
                          volume_m3=volume_m3, trips=trips)
            session.add(row)
        row.depot_id, row.payload_kg, row.volume_m3, row.trips = d.id, payload_kg, volume_m3, trips
        if name:
            row.name = name
        from disaster import audit

        audit.record(session, cli_actor(), "vehicle.save", "vehicle", code, None,
                     {"depot": depot, "payload_kg": payload_kg, "volume_m3": volume_m3,
                      "trips": trips})
    emit(obj, {"vehicle": code, "depot": depot}, f"vehicle {code} at {depot}")


@click.group("stock")
def stock_group() -> None:
    """Depot stock: receipts, issues, transfers, counts, stock on hand."""


def _moved(d: Any) -> str:
    if d is None:
        return "count matches the books: no movement"
    if isinstance(d, dict) and "out" in d:
        return f"transfer {d['reference']}: " + ", ".join(
            f"{m['lot'] or '-'} {m['quantity']}" for m in d["in"])
    rows = d if isinstance(d, list) else [d]
    return "\n".join(f"{m['kind']} {m['depot']} {m['item']} {m['quantity']} lot "
                     f"{m['lot'] or '-'}" for m in rows)


def _lot_options(fn: Any) -> Any:
    fn = click.option("--lot", default="", help="Lot (batch) number.")(fn)
    fn = click.option("--reason", default=None)(fn)
    return fn


@stock_group.command("receive")
@click.argument("depot")
@click.argument("item")
@click.argument("quantity")
@_lot_options
@click.option("--expires-on", default=None, help="Expiry date YYYY-MM-DD of the lot.")
@click.option("--reference", default=None)
@command_options
def receive(obj: CliContext, depot: str, item: str, quantity: str, lot: str,
            reason: str | None, expires_on: str | None, reference: str | None) -> None:
    """Book a receipt."""
    with obj.session() as session:
        moved = ledger.receive(session, cli_actor(), depot, item, quantity, lot=lot,
                               expires_on=expires_on, reason=reason, reference=reference)
    emit(obj, moved, _moved)


@stock_group.command("issue")
@click.argument("depot")
@click.argument("item")
@click.argument("quantity")
@_lot_options
@click.option("--reference", default=None)
@command_options
def issue(obj: CliContext, depot: str, item: str, quantity: str, lot: str,
          reason: str | None, reference: str | None) -> None:
    """Issue stock (first expiry first out unless --lot)."""
    with obj.session() as session:
        moved = ledger.issue(session, cli_actor(), depot, item, quantity, lot=lot or None,
                             reason=reason, reference=reference)
    emit(obj, moved, _moved)


@stock_group.command("transfer")
@click.argument("from_depot")
@click.argument("to_depot")
@click.argument("item")
@click.argument("quantity")
@_lot_options
@command_options
def transfer(obj: CliContext, from_depot: str, to_depot: str, item: str, quantity: str,
             lot: str, reason: str | None) -> None:
    """Transfer stock between depots."""
    with obj.session() as session:
        moved = ledger.transfer(session, cli_actor(), from_depot, to_depot, item, quantity,
                                lot=lot or None, reason=reason)
    emit(obj, moved, _moved)


@stock_group.command("adjust")
@click.argument("depot")
@click.argument("item")
@click.argument("quantity")
@click.option("--lot", default="")
@click.option("--reason", required=True)
@command_options
def adjust(obj: CliContext, depot: str, item: str, quantity: str, lot: str, reason: str) -> None:
    """Adjust a lot by a signed quantity (a reason is required)."""
    with obj.session() as session:
        moved = ledger.adjust(session, cli_actor(), depot, item, quantity, reason=reason, lot=lot)
    emit(obj, moved, _moved)


@stock_group.command("count")
@click.argument("depot")
@click.argument("item")
@click.argument("counted")
@_lot_options
@command_options
def count(obj: CliContext, depot: str, item: str, counted: str, lot: str,
          reason: str | None) -> None:
    """Record a physical count (adjusts to it; nothing when equal)."""
    with obj.session() as session:
        moved = ledger.count(session, cli_actor(), depot, item, counted, lot=lot, reason=reason)
    emit(obj, moved, _moved)


@stock_group.command("on-hand")
@click.argument("depot")
@command_options
def on_hand(obj: CliContext, depot: str) -> None:
    """Stock on hand of a depot."""
    with obj.session() as session:
        rows = ledger.on_hand(session, depot)
    emit(obj, rows, lambda rs: "\n".join(
        f"{r['item']:<9} {r['quantity']:>10} {r['unit']}  reserved {r['reserved']}  "
        f"available {r['available']}  expiring {r['expiring_soon']}  expired {r['expired']}"
        for r in rs) or "no stock")


@stock_group.command("card")
@click.argument("depot")
@click.argument("item")
@command_options
def card(obj: CliContext, depot: str, item: str) -> None:
    """Stock card of one item: movements with the running balance."""
    with obj.session() as session:
        data = ledger.stock_card(session, depot, item)
    emit(obj, data, lambda d: "\n".join(
        f"{m['at'][:19]} {m['kind']:<12} {m['quantity']:>10} {m['lot'] or '-':<10} "
        f"= {m['balance']}" for m in d["movements"]) or "no movements")


@stock_group.command("warnings")
@click.option("--depot", default=None)
@command_options
def warnings(obj: CliContext, depot: str | None) -> None:
    """Low-stock and expiring-soon warnings."""
    with obj.session() as session:
        rows = jobs.stock_warnings(session, depot)
    emit(obj, rows, lambda rs: "\n".join(
        f"{w['kind']:<9} {w['depot']} {w['item']} {w['quantity']} "
        f"{w.get('expires_on') or w.get('minimum') or ''}" for w in rs) or "no warnings")


@stock_group.command("notify")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge expiry as of this day (default: today in China).")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Send the queued e-mail/SMS at once (else the scheduler's delivery job does).")
@command_options
def notify(obj: CliContext, today: Any, deliver: bool) -> None:
    """Notify new stock warnings to depot managers and duty officers (each once)."""
    with obj.session() as session:
        counts = notices.notify_stock_warnings(session, cli_actor(),
                                               today=today.date() if today else None)
        if deliver and counts["notifications"]:
            counts["deliveries"] = notify_dispatch.deliver_pending(session)
    emit(obj, counts, lambda c: f"{c['notified']} new warning(s) notified in "
                                f"{c['notifications']} notification(s), {c['cleared']} cleared, "
                                f"{c['warnings']} current")


@stock_group.command("minimum")
@click.argument("depot")
@click.argument("item")
@click.argument("minimum")
@command_options
def minimum(obj: CliContext, depot: str, item: str, minimum: str) -> None:
    """Set the low-stock level of an item at a depot."""
    with obj.session() as session:
        jobs.set_minimum(session, cli_actor(), depot, item, minimum)
    emit(obj, {"depot": depot, "item": item, "minimum": minimum}, "minimum set")


@stock_group.command("items")
@command_options
def items(obj: CliContext) -> None:
    """Load or refresh the relief item catalogue from data/items.csv."""
    with obj.session() as session:
        changed = catalog.ensure_items(session, cli_actor())
        catalog.ensure_profiles(session)
    emit(obj, {"changed": changed}, f"{changed} items created or updated")


def register(group: click.Group) -> None:
    group.add_command(dispatch_group)
    group.add_command(stock_group)
