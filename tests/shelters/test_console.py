"""The console's shelter plugin in headless Chromium: fill bars, unsafe flag, plan flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from disaster.access import Actor, Role
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters import evacuation
from tests.web.browser.dataset import PASSWORD, make_app
from web.server import ServerThread

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
RED_COMMUNITY = "341302002202"      # holds shelter SH341302003 of the browser dataset
ORANGE_COMMUNITY = "341302001200"


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[tuple[object, int]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    app, _data = make_app(database_url, tmp_path)
    with app.extensions["disaster_runtime"].sessions() as s:
        set_level(s, RED_COMMUNITY, Hazard.RAINSTORM, WarningLevel.RED)
        set_level(s, ORANGE_COMMUNITY, Hazard.RAINSTORM, WarningLevel.ORANGE)
        s.flush()
        plan_id = evacuation.plan_evacuation(
            s, Actor(user_id=None, username="duty", role=Role.DUTY_OFFICER))["id"]
        s.commit()
    with ServerThread(app) as running, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800},
                                       bypass_csp=True).new_page()
            page.goto(running.url + "/")
            page.wait_for_url("**/login**")
            page.fill("input[name=username]", "duty")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(running.url + "/")
            yield page, plan_id
        finally:
            browser.close()
    app.extensions["disaster_runtime"].engine.dispose()


def test_console_shows_fill_flags_unsafe_shelters_and_draws_the_plan(console):
    page, plan_id = console
    page.wait_for_function("document.querySelectorAll('.shelter-fill-icon').length === 3")
    flagged = page.locator(".shelter-fill-icon .shelter-unsafe-flag")
    assert flagged.count() == 1
    page.locator(".leaflet-control-layers-overlays label", has_text="疏散路线").locator(
        "input").check()
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-evacuation-flows-pane path').length >= 1")
    panel = page.locator("#panel-evacuation")
    panel.get_by_text(f"方案编号：{plan_id}").wait_for()
    panel.locator("button", has_text="计算新方案").click()
    panel.get_by_text(f"方案编号：{plan_id + 1}").wait_for()
    # Communities are offered by name (with township), never typed as codes.
    option = panel.locator("select option", has_text="埇桥区第1镇").first
    panel.locator("select").select_option(value=option.get_attribute("value"))
    panel.locator("button", has_text="查看去向").click()
    panel.locator("li", has_text="避难场所").first.wait_for()
    assert "公里" in panel.locator(".evacuation-where").inner_text()
