"""The stock plugin of the map console: depot stock bars, dispatch orders as lines, unmet
needs and stock warnings, all as escaped text (headless Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.communities import Community
from stockpile import ledger, orders
from tests.stockpile.conftest import seed_relief, seed_stock
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Duty2026password"
XSS = "<img src=x onerror=alert(1)>村"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="console-stock"))
    with app.extensions["disaster_runtime"].sessions() as s:
        seed_relief(seed_stock(s))
        s.execute(update(Community).where(Community.code == "341302001201").values(name=XSS))
        ledger.receive(s, cli_actor(), "DPB", "WATER", 10, lot="OLD", expires_on="2099-01-01")
        add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD, update=True)
        plan = orders.create_plan(s, cli_actor())
        orders.approve_plan(s, cli_actor(), plan.id)
        from stockpile.jobs import set_minimum

        set_minimum(s, cli_actor(), "DPB", "QUILT", 500)  # DPB holds 100: low stock
        s.commit()
    with ServerThread(app) as running:
        yield running.url
    app.extensions["disaster_runtime"].engine.dispose()


def _show(page, title: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator(".leaflet-control-layers-overlays label", has_text=title).locator("input")
    if not box.is_checked():
        box.check()


def test_console_draws_orders_needs_and_stock_bars(server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800},
                                bypass_csp=True)
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/")
        page.wait_for_url("**/login**")
        page.fill("input[name=username]", "duty")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/")
        warnings = page.locator("#panel-stock-warnings")
        warnings.locator("li").first.wait_for()
        assert "库存不足" in warnings.inner_text()
        assert "仓库DPB 棉被（床）" in warnings.inner_text()  # names, not codes
        assert "QUILT" not in warnings.inner_text()
        _show(page, "调拨单（计划与在途）")
        page.wait_for_function("document.querySelectorAll('.leaflet-orders-pane path').length >= 1")
        _show(page, "未满足需求")
        page.wait_for_function("document.querySelectorAll('.leaflet-needs-pane path').length >= 1")
        texts = []
        circles = page.locator(".leaflet-needs-pane path")
        for n in range(circles.count()):
            # Dispatch on the circle itself: depot markers may lie on top of it.
            circles.nth(n).dispatch_event("click")
            texts.append(page.locator(".leaflet-popup-content").last.inner_text())
        assert any(XSS in text for text in texts)  # the name is text, never parsed as HTML
        _show(page, "储备库库存（柱状）")
        page.wait_for_function("document.querySelectorAll('.stock-bars').length == 2")
        assert dialogs == [] and errors == []
        browser.close()
