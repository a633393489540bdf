"""The officers plugin of the map console: uncovered communities outlined, overdue reports
and the roll-up listed, all as escaped text (headless Chromium)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.communities import Community
from disaster.officers import upsert_officers
from disaster.reports.deadlines import run_deadline_job
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from tests.disaster.reports.factories import build_region
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Duty2026password"
XSS = "<img src=x onerror=alert(1)>村"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="console-officers"))
    with app.extensions["disaster_runtime"].sessions() as s:
        region = build_region(s)
        c = region.communities
        s.execute(update(Community).where(Community.code == c[0]).values(name=XSS))
        add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD, update=True)
        upsert_officers(s, cli_actor(), [{"code": "OF1", "name": "张伟",
                                          "home_community_code": c[0], "primary": c[:3]}])
        # An orange warning reached c[0] three hours ago: its 初报 is an hour overdue.
        set_level(s, c[0], Hazard.RAINSTORM, WarningLevel.ORANGE,
                  now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
        s.flush()
        run_deadline_job(s, send=lambda *a, **k: None)
        s.commit()
    with ServerThread(app) as running:
        yield running.url, region.communities
    app.extensions["disaster_runtime"].engine.dispose()


def test_console_outlines_uncovered_and_lists_overdue_reports(server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import sync_playwright

    base, _communities = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800}, bypass_csp=True)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + "/")
        page.wait_for_url("**/login**")
        page.fill("input[name=username]", "duty")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        overdue = page.locator("#panel-overdue-reports")
        overdue.locator("table").wait_for()
        assert XSS in overdue.inner_text()  # shown as text, never parsed as HTML
        assert "初报" in overdue.inner_text()
        page.locator("#panel-report-rollup .response-level").wait_for()
        box = page.locator(".leaflet-control-layers-overlays label",
                           has_text="无信息员的社区（村）").locator("input")
        if not box.is_checked():
            box.check()
        # The three communities of the second township have no officer.
        page.wait_for_function(
            "document.querySelectorAll('.leaflet-uncovered-pane path').length >= 3")
        assert dialogs == []
        browser.close()
