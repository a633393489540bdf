"""Planning choices, line edits, bulk confirm/ship, late orders, flows and the movement
history: the dispatch job as the duty officer and the depot manager do it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from gis.errors import PermissionDenied, ValidationError
from stockpile import ledger, needs, orders, tracking
from stockpile.errors import InsufficientStock
from stockpile.models import Depot, Item
from stockpile.orders_models import DispatchOrder, DispatchPlan, OrderStatus
from tests.stockpile.conftest import DUTY, MANAGER, OTHER_MANAGER


def _dpa_orders(session, plan) -> list[DispatchOrder]:
    dpa = session.scalar(select(Depot.id).where(Depot.code == "DPA"))
    return list(session.scalars(select(DispatchOrder).where(
        DispatchOrder.plan_id == plan.id, DispatchOrder.depot_id == dpa).order_by(DispatchOrder.id)))


def _line(session, order: DispatchOrder, item: str) -> int:
    row = next(r for r in tracking.order_rows(session, [order])[0]["lines"] if r["item"] == item)
    return row["quantity"]


def test_needs_source_reports_model_or_both(relief_db):
    def codes(source):
        return {d.code for d in needs.compute_needs(relief_db, source=source) if d.needs}

    # 甲村 is warned red (modelled), 乙村 reported, the shelter SH1 holds 200 people.
    assert codes("reports") == {"341302001202", "SH1"}
    assert codes("model") == {"341302001201"}
    assert codes("both") == {"341302001201", "341302001202", "SH1"}


def test_plan_from_chosen_depots_and_items_sends_only_those(relief_db):
    plan = orders.create_plan(relief_db, DUTY, depots=["DPB"], items=["QUILT"], source="reports")
    data = orders.plan_dict(relief_db, plan)
    assert data["orders"], "DPB's quilts serve the reported needs"
    assert {o["depot"] for o in data["orders"]} == {"DPB"}
    assert {ln["item"] for o in data["orders"] for ln in o["lines"]} == {"QUILT"}
    assert {d["destination"] for d in data["problem"]["demands"]} <= {"341302001202", "SH1"}


def test_an_unknown_depot_or_item_is_a_field_error(relief_db):
    with pytest.raises(ValidationError) as err:
        orders.create_plan(relief_db, DUTY, depots=["NOPE"])
    assert "depots" in err.value.fields
    with pytest.raises(ValidationError) as err:
        orders.create_plan(relief_db, DUTY, items=["GENSET9"])
    assert "items" in err.value.fields


def test_edit_line_changes_the_quantity_and_zero_removes_the_line(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    order = _dpa_orders(relief_db, plan)[0]
    item = tracking.order_rows(relief_db, [order])[0]["lines"][0]["item"]
    orders.edit_line(relief_db, DUTY, order.id, item, 3)
    assert _line(relief_db, order, item) == 3
    orders.edit_line(relief_db, DUTY, order.id, item, 0)
    assert item not in {ln["item"] for ln in tracking.order_rows(relief_db, [order])[0]["lines"]}


def test_edit_beyond_stock_is_refused_naming_depot_and_item(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    order = _dpa_orders(relief_db, plan)[0]
    with pytest.raises(InsufficientStock) as err:
        orders.edit_line(relief_db, DUTY, order.id, "QUILT", 100_000)
    message = err.value.message
    assert message.params["depot"] == "仓库DPA" and message.params["item"] == "棉被"
    assert message.params["unit"] == "床"
    # What the plan may still give: stock less what the plan's other draft lines count on.
    others = sum(_line(relief_db, o, "QUILT") for o in _dpa_orders(relief_db, plan)
                 if o.id != order.id and "QUILT" in
                 {ln["item"] for ln in tracking.order_rows(relief_db, [o])[0]["lines"]})
    assert message.params["available"] == 400 - others
    assert _line(relief_db, order, "QUILT") != 100_000


def test_only_draft_orders_are_edited_and_only_by_a_duty_officer(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    order = _dpa_orders(relief_db, plan)[0]
    with pytest.raises(PermissionDenied):
        orders.edit_line(relief_db, MANAGER, order.id, "QUILT", 1)
    orders.approve_plan(relief_db, DUTY, plan.id)
    with pytest.raises(ValidationError) as err:
        orders.edit_line(relief_db, DUTY, order.id, "QUILT", 1)
    assert err.value.code == "not_draft"


def test_bulk_confirm_and_ship_move_every_order_and_report_the_refused(relief_db):
    plan = orders.create_plan(relief_db, DUTY, source="reports")
    orders.approve_plan(relief_db, DUTY, plan.id)
    ids = [o.id for o in _dpa_orders(relief_db, plan)]
    assert len(ids) >= 2
    result = orders.act_many(relief_db, MANAGER, ids, "confirm")
    assert result["done"] == ids and result["failed"] == []
    orders.act(relief_db, MANAGER, ids[0], "ship")  # shipped alone first
    result = orders.act_many(relief_db, MANAGER, ids, "ship")
    assert result["done"] == ids[1:]
    assert [f["order"] for f in result["failed"]] == [ids[0]]
    assert result["failed"][0]["code"] == "wrong_status"
    statuses = {o.status for o in _dpa_orders(relief_db, plan)}
    assert statuses == {OrderStatus.SHIPPED}
    assert ledger.ledger_total(relief_db) == ledger.balance_total(relief_db)


def test_bulk_action_on_another_depots_order_changes_nothing(relief_db):
    plan = orders.create_plan(relief_db, DUTY, source="reports")
    orders.approve_plan(relief_db, DUTY, plan.id)
    ids = [o.id for o in _dpa_orders(relief_db, plan)]
    with pytest.raises(PermissionDenied):
        orders.act_many(relief_db, OTHER_MANAGER, ids, "confirm")
    with pytest.raises(PermissionDenied):
        orders.act_many(relief_db, DUTY, ids, "confirm")
    assert {o.status for o in _dpa_orders(relief_db, plan)} == {OrderStatus.APPROVED}


def test_a_shortage_on_confirm_names_depot_item_and_unit(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    orders.approve_plan(relief_db, DUTY, plan.id)
    order = _dpa_orders(relief_db, plan)[0]
    line = tracking.order_rows(relief_db, [order])[0]["lines"][0]
    free = ledger.totals_by_depot(relief_db)["DPA"][line["item"]]
    ledger.issue(relief_db, MANAGER, "DPA", line["item"], free - line["quantity"] + 1)
    result = orders.act_many(relief_db, MANAGER, [order.id], "confirm")
    message = result["failed"][0]["message"]
    assert result["failed"][0]["code"] == "insufficient_stock"
    assert message.params["depot"] == "仓库DPA"
    assert message.params["item"] == line["name"]
    assert message.params["available"] == line["quantity"] - 1


def test_orders_not_delivered_by_the_due_time_are_late(relief_db):
    plan = orders.create_plan(relief_db, DUTY, due_hours=2, source="reports")
    orders.approve_plan(relief_db, DUTY, plan.id)
    first, second = _dpa_orders(relief_db, plan)[:2]
    board = tracking.order_board(relief_db, plan=plan.id)
    assert board["late"] == 0
    # Three hours later: the first was delivered in time (at 1 h), the second was not.
    stored = relief_db.get(DispatchPlan, plan.id)
    stored.approved_at = stored.approved_at - dt.timedelta(hours=3)
    first.status, first.delivered_at = OrderStatus.DELIVERED, stored.approved_at + dt.timedelta(hours=1)
    relief_db.flush()
    rows = {r["id"]: r for r in tracking.order_board(relief_db, plan=plan.id)["orders"]}
    assert rows[first.id]["late"] is False and rows[second.id]["late"] is True
    late_only = tracking.order_board(relief_db, plan=plan.id, late=True)
    assert second.id in {r["id"] for r in late_only["orders"]}
    assert first.id not in {r["id"] for r in late_only["orders"]}
    delivered = tracking.order_board(relief_db, status=["delivered"])
    assert [r["id"] for r in delivered["orders"]] == [first.id]
    assert delivered["counts"]["delivered"] == 1


def test_flows_are_summed_per_depot_and_township(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    review = tracking.plan_review(relief_db, plan)
    rows = review["orders"]
    features = review["flows"]["features"]
    # Every destination lies in 埇桥街道 or is the shelter (no township boundary in this data).
    pairs = {(r["depot"], r["township"] or r["destination"]) for r in rows}
    assert len(features) == len(pairs) < len(rows) or len(features) == len(pairs)
    for f in features:
        p = f["properties"]
        mine = [r for r in rows if r["depot"] == p["depot"]
                and (r["township"] or r["destination"]) == p["township"]]
        assert p["quantity"] == sum(ln["quantity"] for r in mine for ln in r["lines"])
        assert p["orders"] == sorted(r["id"] for r in mine)
        assert p["depot_name"].startswith("仓库")
    assert any(r["destination_label"] == "甲村（埇桥街道）" for r in rows)
    assert all(r["lines"][0]["name"] and r["lines"][0]["unit"] for r in rows)


def test_movement_history_pages_newest_first_with_the_balance_after_each_line(relief_db):
    depot = ledger.get_depot(relief_db, "DPB")
    quilt = relief_db.scalar(select(Item).where(Item.code == "QUILT"))
    for qty in (5, 7, 9):
        ledger.issue(relief_db, OTHER_MANAGER, "DPB", "QUILT", qty)
    ledger.receive(relief_db, OTHER_MANAGER, "DPB", "WATER", 50)
    page1 = tracking.movement_history(relief_db, depot, page=1, per_page=3)
    assert page1["total"] == 5 and page1["pages"] == 2
    assert [m["kind"] for m in page1["movements"]] == ["receipt", "issue", "issue"]
    assert [(m["item"], m["quantity"], m["balance"]) for m in page1["movements"]] == [
        ("WATER", 50, 50), ("QUILT", -9, 79), ("QUILT", -7, 88)]
    page2 = tracking.movement_history(relief_db, depot, page=2, per_page=3)
    assert [(m["quantity"], m["balance"]) for m in page2["movements"]] == [(-5, 95), (100, 100)]
    only = tracking.movement_history(relief_db, depot, item=quilt, per_page=10)
    assert only["total"] == 4 and {m["item"] for m in only["movements"]} == {"QUILT"}
    assert only["movements"][0]["name"] == "棉被" and Decimal(only["movements"][0]["balance"]) == 79


def test_shipped_orders_appear_in_the_history_with_their_destination(relief_db):
    plan = orders.create_plan(relief_db, DUTY)
    orders.approve_plan(relief_db, DUTY, plan.id)
    order = _dpa_orders(relief_db, plan)[0]
    orders.act_many(relief_db, MANAGER, [order.id], "confirm")
    orders.act_many(relief_db, MANAGER, [order.id], "ship")
    history = tracking.movement_history(relief_db, ledger.get_depot(relief_db, "DPA"))
    shipped = [m for m in history["movements"] if m["order"] == order.id]
    assert shipped and all(m["kind"] == "issue" for m in shipped)
    assert shipped[0]["destination_label"] == tracking.order_rows(
        relief_db, [order])[0]["destination_label"]
