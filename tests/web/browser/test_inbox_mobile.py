"""The inbox on a 360 px wide phone: nothing overflows sideways, and a notification is marked
read with one tap (headless Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from disaster.access import SYSTEM, Role, cli_actor
from disaster.accounts import add_user
from disaster.notify.models import Notification
from stockpile import jobs, ledger, notices
from tests.stockpile.conftest import seed_stock
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Inbox2026pass"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, object]]:
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="inbox-test"))
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        seed_stock(s)
        add_user(s, cli_actor(), "manager", Role.DEPOT_MANAGER, password=PASSWORD,
                 scopes=["DPA"])
        # Several warnings with long item lines, as a real depot produces them.
        for item in ("QUILT", "TENT12", "WATER", "FOOD"):
            ledger.receive(s, cli_actor(), "DPA", item, 1)
            jobs.set_minimum(s, cli_actor(), "DPA", item, 1000)
        notices.notify_stock_warnings(s, SYSTEM, channels=[])
        s.commit()
    with ServerThread(app) as running:
        yield running.url, sessions
    app.extensions["disaster_runtime"].engine.dispose()


def test_inbox_fits_a_360px_phone_and_marks_read_with_one_tap(server, browser):
    base, sessions = server
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{base}/login?next=/depot/DPA")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/depot/DPA")
    page.click("#inbox-link")
    page.wait_for_url(f"{base}/inbox/")
    assert page.locator("li.note.unread").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    button = page.locator("li.note.unread button[type=submit]")
    assert button.bounding_box()["height"] >= 44  # a thumb-sized target
    button.click()
    page.wait_for_url(f"{base}/inbox/")
    assert page.locator("li.note.unread").count() == 0
    assert page.locator(".flash.success").inner_text() == "已标为已读。"
    with sessions() as s:
        assert s.scalar(select(func.count(Notification.id)).where(
            Notification.read_at.is_(None))) == 0
    context.close()
