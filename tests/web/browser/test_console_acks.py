"""A duty officer's 叫应 and event work on the console, in headless Chromium: open an event,
see the warning card, record a phoned 叫应 for a chosen officer and see who, when and by
which channel, see the unacknowledged villages by name and township, keep the list open
across the refresh that brings the next hourly Update, and close the event."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.levels import Hazard, WarningLevel
from tests.disaster.warnings import world
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Duty2026password"
A, B, C = "341302001200", "341302001201", "341302001202"  # 测试00村, 测试01村, 测试02村
YELLOW = WarningLevel.YELLOW


def warn(app, levels: dict[str, WarningLevel | None], at: dt.datetime) -> None:
    """One run of the warning lifecycle, as the scheduler's evaluation applies it."""
    with app.extensions["disaster_runtime"].sessions() as s:
        alerts_mod.apply_levels(s, {Hazard.RAINSTORM: alerts_mod.Desired(levels)}, at)
        s.commit()


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[tuple[str, object]]:
    app = create_app(Settings(home=tmp_path, database_url=database_url, secret_key="acks"))
    with app.extensions["disaster_runtime"].sessions() as s:
        world.build(s)
        add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD,
                 display_name="值班员")
        s.commit()
    warn(app, {A: YELLOW, B: YELLOW}, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=50))
    with ServerThread(app) as server:
        yield server.url, app
    app.extensions["disaster_runtime"].engine.dispose()


def test_duty_officer_records_a_phoned_ack_and_runs_the_event(running, browser, screenshot):
    base, app = running
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.goto(base + "/login")
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")

    # Open the storm's event.
    events = page.locator("#panel-events")
    events.locator("text=当前无进行中的事件").wait_for()
    events.locator("input[name=name]").fill("7·10 暴雨过程")
    events.locator("select[name=hazard]").select_option("rainstorm")
    events.locator("button", has_text="开启事件").click()
    row = events.locator("li.event-row", has_text="7·10 暴雨过程")
    row.wait_for()
    assert "暴雨" in row.inner_text() and "开始于" in row.inner_text()
    events.scroll_into_view_if_needed()
    screenshot(page, "acks-event-panel", full_page=False)

    # The warning card, nobody acknowledged yet, villages named with their township.
    card = page.locator("#panel-alerts .alert-card", has_text="暴雨黄色预警")
    card.wait_for()
    assert "已叫应 0 / 2" in card.inner_text()
    assert "发布于" in card.inner_text() and "Alert" not in card.inner_text()
    pending = card.locator("details.ack-pending")
    pending.locator("summary").click()
    assert "测试00村（埇桥区一镇） — 信息员200" in pending.inner_text()
    assert A not in card.inner_text()  # names, never codes

    # Record the phoned 叫应 of 信息员200, chosen among the officers covering the alert.
    options = card.locator("form.phone-ack select option")
    labels = options.all_inner_texts()
    assert any(label.startswith("信息员200（主岗 测试00村（埇桥区一镇）") for label in labels)
    assert any(label.startswith("备岗341302") for label in labels)
    assert not any("信息员205" in label for label in labels)  # covers no village of the alert
    value = card.locator("form.phone-ack option", has_text="信息员200").get_attribute("value")
    card.locator("form.phone-ack select").select_option(value)
    card.locator("form.phone-ack button", has_text="记录叫应").click()
    card = page.locator("#panel-alerts .alert-card", has_text="已叫应 1 / 2")
    card.wait_for()
    acked = card.locator("details.ack-acked")
    assert acked.get_attribute("open") is not None
    text = acked.inner_text()
    assert re.search(r"测试00村（埇桥区一镇） — 信息员200 · \d+/\d+ \d\d:\d\d · 电话", text), text
    assert card.locator("details.ack-pending").get_attribute("open") is not None
    assert "测试01村（埇桥区一镇）" in card.locator("details.ack-pending").inner_text()
    card.scroll_into_view_if_needed()
    screenshot(page, "acks-alert-card", full_page=False)

    # The next hourly Update of the same warning reaches a third village; the periodic
    # refresh shows it, the 叫应 holds and the opened lists stay open.
    warn(app, {A: YELLOW, B: YELLOW, C: YELLOW}, dt.datetime.now(dt.UTC))
    card = page.locator("#panel-alerts .alert-card", has_text="已叫应 1 / 3")
    card.wait_for(timeout=30_000)
    assert "更新于" in card.inner_text()
    assert card.locator("details.ack-pending").get_attribute("open") is not None
    assert card.locator("details.ack-acked").get_attribute("open") is not None
    assert "信息员200" in card.locator("details.ack-acked").inner_text()
    assert "测试02村（埇桥区一镇）" in card.locator("details.ack-pending").inner_text()
    screenshot(page, "acks-console")

    # Close the event after confirming.
    events.locator("li.event-row", has_text="7·10 暴雨过程").locator("button", has_text="结束事件").click()
    events.locator("text=当前无进行中的事件").wait_for()
    assert dialogs and "7·10 暴雨过程" in dialogs[0]
    assert "已结束事件：7·10 暴雨过程" in events.inner_text()
    page.close()
