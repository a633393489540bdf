"""A duty officer sees on the console how a warning's SMS and e-mail stand and whom it did not
reach: per channel sent / failed / waiting, and the officers to phone (name, phone, village),
in headless Chromium on both backends. The messages go through a delivery worker to a local
fake SMS gateway, which refuses one officer's number, and the local aiosmtpd."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.notify.worker import DeliveryWorker, WorkerConfig
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.levels import Hazard, WarningLevel
from tests.disaster.warnings import world
from tests.mailbox import smtp_server
from tests.sms_gateway import FakeGateway
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Duty2026password"
A, B, C = "341302001200", "341302001201", "341302001202"  # 测试00村, 测试01村, 测试02村
REFUSED = "13802001201"  # 信息员201's phone: the gateway refuses it


@pytest.fixture
def running(database_url: str, tmp_path: Path, monkeypatch) -> Iterator[tuple[str, object]]:
    gateway = FakeGateway()
    gateway.fail_to.add(REFUSED)
    with smtp_server() as (_box, port):
        monkeypatch.setenv("DISASTER_SMS_URL", gateway.url)
        monkeypatch.setenv("DISASTER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("DISASTER_SMTP_PORT", str(port))
        app = create_app(Settings(home=tmp_path, database_url=database_url, secret_key="dlv"))
        runtime = app.extensions["disaster_runtime"]
        with runtime.sessions() as s:
            world.build(s)
            add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD,
                     display_name="值班员")
            s.commit()
        with runtime.sessions() as s:
            levels = dict.fromkeys((A, B, C), WarningLevel.RED)
            alerts_mod.apply_levels(s, {Hazard.RAINSTORM: alerts_mod.Desired(levels)},
                                    dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
            s.commit()
        worker = DeliveryWorker(runtime.engine, config=WorkerConfig(threads=4, max_attempts=1))
        try:
            worker.run_until_idle()
        finally:
            worker.close()
        with ServerThread(app) as server:
            yield server.url, app
        runtime.engine.dispose()
    gateway.close()


def _sign_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_duty_officer_sees_delivery_per_channel_and_whom_to_phone(running, browser, screenshot):
    base, _ = running
    page = _sign_in(browser, base, "duty")
    card = page.locator("#panel-delivery .delivery-card")
    card.wait_for()
    assert "暴雨红色预警" in card.locator(".delivery-title").inner_text()
    sms = card.locator("tr.delivery-channel-sms").inner_text().split()
    email = card.locator("tr.delivery-channel-email").inner_text().split()
    assert sms == ["短信", "2", "1", "0"]  # three officers, one number refused
    assert email == ["邮件", "3", "0", "0"]
    failed = card.locator("details.delivery-failed-officers")
    assert "未送达，请电话通知：1 人" in failed.locator("summary").inner_text()
    failed.locator("summary").click()
    text = failed.inner_text()
    assert "信息员201" in text and REFUSED in text and "测试01村" in text and "短信" in text
    assert "信息员200" not in text
    assert failed.locator("a.phone").get_attribute("href") == "tel:" + REFUSED
    assert "sms" not in card.inner_text() and A not in card.inner_text()  # names, not codes
    card.scroll_into_view_if_needed()
    screenshot(page, "delivery-panel", full_page=False)

    # the same figures through the API the panel reads
    alert_id = page.evaluate("fetch('/api/v1/alerts?status=active').then(r => r.json())"
                             ".then(a => a[0].id)")
    body = page.evaluate(f"fetch('/api/v1/alerts/{alert_id}/deliveries').then(r => r.text())")
    status = json.loads(body)
    assert {c["channel"]: (c["sent"], c["failed"], c["pending"]) for c in status["channels"]} == {
        "inbox": (3, 0, 0), "sms": (2, 1, 0), "email": (3, 0, 0)}
    officer = status["failed_officers"][0]
    assert (officer["name"], officer["phone"], officer["channels"]) == ("信息员201", REFUSED,
                                                                        ["sms"])
    assert "500" in officer["error"]
    page.close()

