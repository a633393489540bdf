"""The dispatch job end to end in headless Chromium, in Chinese: the duty officer plans a
dispatch on the console, reviews it as flows per township and as a table with names, edits a
quantity (a shortage is refused by name), approves; the depot manager on a phone confirms and
ships several orders at once without losing the scroll position and reads the movement
history; the duty officer then sees the orders shipped and a late one highlighted."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from stockpile.models import Depot
from stockpile.orders_models import DispatchOrder, DispatchPlan
from tests.web.browser.dataset import PASSWORD, make_app
from web.server import ServerThread

pytestmark = pytest.mark.browser
DEPOT_NAME = "宿州市救灾物资储备库"  # DP341300, the depot user's depot


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    app, data = make_app(database_url, tmp_path)
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        # Red rainstorm warnings over villages of three townships: a model-based need.
        for code in data.community_codes[1:4] + data.community_codes[9:13] \
                + data.community_codes[27:30]:
            set_level(s, code, Hazard.RAINSTORM, WarningLevel.RED)
        s.commit()
    with ServerThread(app) as running:
        yield running.url, sessions
    app.extensions["disaster_runtime"].engine.dispose()


def _sign_in(page, base: str, username: str, after: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?next={after}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{after}")


def tap(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Touch what is on the screen where it is (no scrolling, unlike Playwright's click)."""
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_dispatch_from_plan_to_shipped_with_a_late_order(server, browser, screenshot):
    base, sessions = server
    errors: list[str] = []

    # --- the duty officer plans, reviews, edits and approves on the console
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                               viewport={"width": 1400, "height": 900})
    page = desk.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(page, base, "duty", "/")
    panel = page.locator("#panel-dispatch-plan")
    panel.locator("#dispatch-compute").wait_for()
    panel.locator("label", has_text="仅模型估算").locator("input").check()
    panel.locator("#dispatch-compute").click()
    table = page.locator("#dispatch-plan-table")
    table.locator("tbody tr").first.wait_for()
    text = table.inner_text()
    assert DEPOT_NAME in text and "棉被" in text and "床" in text
    assert "埇桥区第1镇" in text  # destinations read village (township)
    assert not re.search(r"\b3413\d{8}\b", text) and "QUILT" not in text  # names, not codes
    orders = page.locator("#dispatch-plan-table tbody tr.order-start").count()
    # One flow per depot and township, far fewer than the orders.
    page.wait_for_function("document.querySelectorAll('.leaflet-dispatch-flows-pane path')"
                           ".length >= 2")
    flows = page.locator(".leaflet-dispatch-flows-pane path").count()
    assert 2 <= flows < orders
    screenshot(page, "dispatch-review", full_page=False)

    # A quantity beyond the depot's stock is refused by name; a fitting one is kept.
    quilt = page.locator("#dispatch-plan-table tr[data-depot='DP341300'][data-item='QUILT'] "
                         "input").first
    order_id = quilt.evaluate("e => e.closest('tr').dataset.order")
    quilt.fill("99999")
    quilt.dispatch_event("change")
    message = page.locator("#dispatch-review-msg.error")
    message.wait_for()
    assert message.inner_text().startswith(f"{DEPOT_NAME}的棉被只有 ")
    assert "床" in message.inner_text() and "available" not in message.inner_text()
    quilt.fill("5")
    quilt.dispatch_event("change")
    page.locator("#dispatch-review-msg.ok", has_text="已修改").wait_for()
    assert page.locator(f"#dispatch-plan-table tr[data-order='{order_id}'][data-item='QUILT'] "
                        "input").input_value() == "5"
    page.locator("#dispatch-approve").click()
    page.locator("#dispatch-review-msg.ok", has_text="方案已批准").wait_for()
    board = page.locator("#dispatch-orders-list")
    board.locator("li", has_text="已批准").first.wait_for()
    assert "approved" not in board.inner_text()

    with sessions() as s:
        plan_id = s.scalar(select(DispatchPlan.id).order_by(DispatchPlan.id.desc()))
        mine = list(s.scalars(select(DispatchOrder.id).join(
            Depot, Depot.id == DispatchOrder.depot_id).where(
            DispatchOrder.plan_id == plan_id, Depot.code == "DP341300").order_by(DispatchOrder.id)))
    assert len(mine) >= 3

    # --- the depot manager confirms and ships them on a phone, in two taps each
    phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    mobile.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in(mobile, base, "depot", "/depot/DP341300")
    items = mobile.locator("#orders li.order")
    assert items.count() == len(mine)
    listed = mobile.locator("#orders").inner_text()
    assert "（埇桥区第1镇）" in listed and "棉被" in listed and "床" in listed
    assert "approved" not in listed and "QUILT" not in listed
    # Down at the order list, with its tick boxes and buttons on the screen.
    mobile.evaluate("window.scrollTo(0, document.getElementById('select-all-orders')"
                    ".getBoundingClientRect().top + window.scrollY - 100)")
    before = mobile.evaluate("window.scrollY")
    button = mobile.locator("button[value=ship]").bounding_box()
    # The action buttons stay on the screen (they stick to its bottom edge).
    assert before > 300 and button["y"] + button["height"] <= 844
    tap(mobile, "#select-all-orders")
    with mobile.expect_navigation():
        tap(mobile, "button[value=confirm]")

    mobile.wait_for_load_state("load")
    mobile.wait_for_timeout(200)
    assert abs(mobile.evaluate("window.scrollY") - before) <= 5  # same place in the list
    assert f"已确认 {len(mine)} 张调拨单" in mobile.locator(".flash.success").inner_text()
    assert mobile.locator("#orders .state-confirmed").count() == len(mine)
    screenshot(mobile, "depot-page", full_page=False)
    tap(mobile, "#select-all-orders")
    with mobile.expect_navigation():
        tap(mobile, "button[value=ship]")
    mobile.wait_for_load_state("load")
    assert f"已发出 {len(mine)} 张调拨单" in mobile.locator(".flash.success").inner_text()
    assert mobile.locator("#orders li.order").count() == 0
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390

    mobile.click("#history-link")
    history = mobile.locator("#history-table")
    history.wait_for()
    shipped = mobile.locator("#history-table tbody tr", has_text="调拨单 #")
    assert shipped.count() >= 1
    first = shipped.first.inner_text()
    assert "出库 · " in first and "-" in first and "经办人：depot" in first
    assert re.search(r"\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}", first)
    # The quantity the duty officer edited is what left the depot.
    edited = mobile.locator("#history-table tbody tr[data-item=QUILT]",
                            has_text=f"调拨单 #{order_id} ")
    assert edited.count() == 1 and "-5 床" in edited.inner_text()
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.select_option("select[name=item]", "QUILT")
    with mobile.expect_navigation():
        mobile.click("#history-filter button")
    assert set(mobile.locator("#history-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.item)")) == {"QUILT"}
    screenshot(mobile, "depot-history")
    phone.close()

    # --- hours later: nothing delivered by the due time; the duty officer sees it
    with sessions() as s:
        plan = s.get(DispatchPlan, plan_id)
        plan.approved_at = plan.approved_at - dt.timedelta(hours=plan.due_hours + 1)
        s.commit()
    page.reload()
    board = page.locator("#dispatch-orders-list")
    board.locator("li").first.wait_for()
    page.select_option("#dispatch-state-filter", "shipped")
    page.wait_for_function("[...document.querySelectorAll('#dispatch-orders-list li')]"
                           ".every(li => li.dataset.status === 'shipped')")
    shipped_rows = page.locator("#dispatch-orders-list li")
    assert shipped_rows.count() == len(mine)
    assert all("已发出" in shipped_rows.nth(n).inner_text() for n in range(len(mine)))
    late = page.locator("#dispatch-orders-list li.late")
    assert late.count() >= 1 and "逾期" in late.first.inner_text()
    colour = late.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != "rgba(0, 0, 0, 0)"  # highlighted, not only a word
    # The destination phones in: recorded as delivered (after its due time: still late).
    page.locator(f"#dispatch-orders-list li[data-order='{mine[0]}'] .dispatch-deliver").click()
    page.wait_for_function(f"!document.querySelector(\"#dispatch-orders-list li[data-order='{mine[0]}']\")")
    page.select_option("#dispatch-state-filter", "delivered")
    delivered = page.locator(f"#dispatch-orders-list li[data-order='{mine[0]}']")
    delivered.wait_for()
    assert "已送达" in delivered.inner_text() and "逾期" in delivered.inner_text()
    page.select_option("#dispatch-state-filter", "late")
    page.wait_for_function("[...document.querySelectorAll('#dispatch-orders-list li')]"
                           ".every(li => li.classList.contains('late'))")
    page.locator("#panel-dispatch-orders").scroll_into_view_if_needed()
    screenshot(page, "dispatch-orders-late", full_page=False)
    assert errors == []
    desk.close()
