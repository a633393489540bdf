"""Evacuation orders and shelter check-ins walked in headless Chromium, as the people who do
them: the duty officer reviews a plan (查看去向 for several communities), issues it; the
information officer on a phone sees the order and acknowledges it; the duty officer sees who
did; check-ins on the operations page show on the console and in the next plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from disaster import accounts
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters.models import Shelter
from tests.web.browser.dataset import PASSWORD, Dataset, make_app
from web.server import ServerThread

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Dataset, list[str]]]:
    """The dataset with orange rainstorm warnings over the officer's township and two
    villages of the next one; the officer is primary for every village of the township."""
    app, data = make_app(database_url, tmp_path)
    township = data.township_codes[0]
    mine = [c for c in data.community_codes if c.startswith(township)][1:5]
    others = [c for c in data.community_codes if c.startswith(data.township_codes[1])][:2]
    with app.extensions["disaster_runtime"].sessions() as s:
        user = s.scalar(select(accounts.User).where(accounts.User.username == "officer"))
        user.display_name = "王信息员"
        s.scalar(select(accounts.User).where(accounts.User.username == "duty")
                 ).display_name = "张值班"
        officer = Officer(code="OF1", name="王信息员", phone="13800000001", user_id=user.id)
        s.add(officer)
        s.flush()
        for code in mine:
            s.add(OfficerAssignment(officer_id=officer.id, community_code=code,
                                    role=AssignmentRole.PRIMARY))
        for code in mine + others:
            set_level(s, code, Hazard.RAINSTORM, WarningLevel.ORANGE)
        shelter = s.scalar(select(Shelter).where(Shelter.code == data.shelter_codes[0]))
        shelter.community_code = mine[0]
        s.commit()
    with ServerThread(app) as running:
        yield running.url, data, mine
    app.extensions["disaster_runtime"].engine.dispose()


def sign_in(browser, base: str, username: str, viewport: dict, target: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")
    return context, page


def test_duty_officer_issues_a_plan_the_officer_acknowledges_and_check_ins_count(
        server, browser, screenshot):
    base, data, mine = server
    duty_context, console = sign_in(browser, base, "duty", DESK, "/")
    panel = console.locator("#panel-evacuation")
    panel.get_by_text("尚无疏散方案。").wait_for()
    panel.locator("button", has_text="计算新方案").click()
    panel.get_by_text("方案编号：1").wait_for()
    panel.get_by_text("空余床位合计：").wait_for()

    # 查看去向 answers for every community of the plan, by name, with shelter and distance.
    options = panel.locator("#evacuation-community-select option")
    assert options.count() == len(mine) + 2
    texts = options.all_inner_texts()
    assert all("（" in t and "镇）" in t for t in texts), texts
    for i in range(options.count()):
        panel.locator("#evacuation-community-select").select_option(value=str(i))
        panel.locator("#evacuation-where-button").click()
        where = panel.locator(".evacuation-answer")
        name = texts[i].split(" · ")[0]
        where.get_by_text(name).first.wait_for()
        assert "避难场所" in where.inner_text() and "公里" in where.inner_text(), \
            where.inner_text()
        assert "SH3413" not in where.inner_text()
    screenshot(console, "evacuation-console-where")

    panel.locator("#evacuation-issue").click()
    panel.get_by_text("疏散令已签发").wait_for()
    orders = panel.locator(".evacuation-orders")
    orders.get_by_text(f"已确认 0 / {len(mine) + 2}").wait_for()
    waiting = orders.locator(".order-waiting li").all_inner_texts()
    assert len(waiting) == len(mine) + 2 and all("镇）" in w for w in waiting), waiting
    assert panel.locator("#evacuation-issue").is_disabled()

    # The information officer, on a phone, sees the order from the officer page.
    officer_context, phone = sign_in(browser, base, "officer", PHONE, "/officer/")
    assert phone.locator("#evacuation-pending").inner_text() == str(len(mine))
    phone.click("#evacuation-link")
    phone.wait_for_url(f"{base}/officer/evacuation")
    order = phone.locator(".evacuation-order").first
    communities = order.locator(".order-community")
    assert communities.count() == len(mine)
    first = communities.first
    text = first.inner_text()
    assert "镇）" in text and "转移" in text and "避难场所" in text and "公里" in text, text
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Names and Chinese only: no English word or code besides the language switch.
    words = set(re.findall(r"[A-Za-z_]{3,}", phone.locator("body").inner_text()))
    assert words <= {"English"}, words
    acknowledged_name = first.locator("h3").inner_text()
    first.locator("button.ack").click()
    phone.wait_for_url(f"{base}/officer/evacuation**")
    assert "已确认" in phone.locator(".flash.success").inner_text()
    assert phone.locator(".order-community.acknowledged").count() == 1
    assert "已确认：王信息员" in phone.locator(".order-community.acknowledged").inner_text()
    screenshot(phone, "evacuation-officer-phone")
    officer_context.close()

    # The duty officer sees who acknowledged and who not.
    console.reload()
    orders = console.locator("#panel-evacuation .evacuation-orders")
    orders.get_by_text(f"已确认 1 / {len(mine) + 2}").wait_for()
    acked = orders.locator(".order-acked li").all_inner_texts()
    assert len(acked) == 1 and acked[0].startswith(acknowledged_name) and "王信息员" in acked[0]
    assert len(orders.locator(".order-waiting li").all_inner_texts()) == len(mine) + 1
    orders.scroll_into_view_if_needed()
    screenshot(console, "evacuation-console-acknowledged", full_page=False)

    # Check-ins on the operations page: 300 people at 第1避难场所 (capacity 1,000, 100 there).
    ops = duty_context.new_page()
    ops.set_viewport_size(PHONE)
    ops.goto(f"{base}/shelters/operations")
    card = ops.locator(f"#shelter-{data.shelter_codes[0]}")
    assert "待命" in card.inner_text() and "100 / 容量 1,000" in card.inner_text()
    card.locator("input[name=people]").fill("300")
    card.locator("button.checkin").click()
    ops.wait_for_url(f"{base}/shelters/operations**")
    assert card.locator(".flash.success").inner_text() == "已登记入住 300 人；现有 400 / 1,000 人。"
    card = ops.locator(f"#shelter-{data.shelter_codes[0]}")
    assert "开放" in card.inner_text() and "400 / 容量 1,000" in card.inner_text()
    # Leaving more people than are there is refused, naming the field, in Chinese.
    card.locator("input[name=people]").fill("401")
    card.locator("button.departure").click()
    ops.wait_for_url(f"{base}/shelters/operations**")
    card = ops.locator(f"#shelter-{data.shelter_codes[0]}")
    error = card.locator(".flash.error").inner_text()
    assert card.locator(".flash.error").is_visible()
    assert "现有 400 人" in error and "人数" in error, error
    assert "400 / 容量 1,000" in ops.locator(f"#shelter-{data.shelter_codes[0]}").inner_text()
    screenshot(ops, "shelter-operations-phone", full_page=False)

    # The console's shelter pop-up and the next plan use the real occupancy.
    console.reload()
    console.wait_for_selector(".shelter-fill-icon")
    console.locator(".leaflet-marker-icon[title='第1避难场所']").click(force=True)
    popup = console.locator(".leaflet-popup-content")
    popup.get_by_text("400 / 1,000").wait_for()
    assert "开放" in popup.inner_text()
    panel = console.locator("#panel-evacuation")
    before = panel.locator(".evacuation-summary").inner_text()
    panel.locator("button", has_text="计算新方案").click()
    panel.get_by_text("方案编号：2").wait_for()
    plan = console.evaluate("fetch('/api/v1/evacuation/plans/2').then(r => r.json())")
    offered = {s["shelter"]: s["available"] for s in plan["problem"]["shelters"]}
    assert offered[data.shelter_codes[0]] == 1000 - 400
    total = sum(offered.values())
    assert f"空余床位合计：{total:,}" in panel.locator(".evacuation-summary").inner_text(), before
    assert not panel.locator("#evacuation-issue").is_disabled()
    screenshot(console, "evacuation-console-replanned")
    duty_context.close()
