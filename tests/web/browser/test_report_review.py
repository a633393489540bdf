"""Report review end to end in headless Chromium: the information officer (390×844 phone)
acknowledges a warning, files a report online and one offline, each confirmed; the duty
officer sees them as points and in the filtered review list with their figures, returns one
with a comment; the officer sees the comment, corrects and resends; the duty officer verifies.
The waiting counts of both pages are checked at each step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.officers import Officer, upsert_officers
from disaster.reports.models import Report, ReportReview, ReviewStatus
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.models import Alert, AlertStatus, MsgType
from tests.disaster.reports.factories import build_region
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Review2026pass"
HEADLINE = "发布暴雨橙色预警（埇桥区）"
COMMENT = "转移人数与村委会台账不符，请核实后重报"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Any, list[str]]]:
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="report-review"))
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        region = build_region(s)
        c = region.communities
        officer = add_user(s, cli_actor(), "officer", Role.INFO_OFFICER, password=PASSWORD,
                           scopes=["341302001"], update=True, display_name="王芳")
        add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD, update=True,
                 display_name="值班员李明")
        upsert_officers(s, cli_actor(), [{"code": "OF1", "name": "王芳", "home_community_code": c[0],
                                          "primary": c[:3]}])
        # The officer record is the signed-in officer's (as the sample data links them).
        s.scalar(select(Officer).where(Officer.code == "OF1")).user_id = officer.id
        now = dt.datetime.now(dt.UTC)
        alert = Alert(identifier="341302000000_20261206080000_1", sender="test", sent=now,
                      msg_type=MsgType.ALERT, status=AlertStatus.ACTIVE, hazard=Hazard.RAINSTORM,
                      level=WarningLevel.ORANGE, county_code="341302", communities=c[:2],
                      references=[], expires=now + dt.timedelta(hours=6), evaluated_at=now,
                      headline=HEADLINE, description="测试01村、测试02村达到暴雨橙色预警标准。")
        s.add(alert)
        s.flush()
        alerts_mod.notify_alert(s, alert, now)  # the officer's inbox gets the warning
        s.commit()
    with ServerThread(app) as running:
        yield running.url, sessions, region.communities
    app.extensions["disaster_runtime"].engine.dispose()


def sign_in(page, base: str, username: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def feedback(page, text: str) -> str:  # type: ignore[no-untyped-def]
    """The confirmation the officer sees, once it says ``text``."""
    page.locator("#feedback", has_text=text).wait_for(state="visible")
    return page.inner_text("#feedback")


def counts(page) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text("#panel-report-review .review-counts")


def wait_counts(page, pending: int, returned: int, verified: int) -> None:  # type: ignore[no-untyped-def]
    expected = f"待审核 {pending}退回修改 {returned}已核实 {verified}"
    page.wait_for_function(
        "e => (document.querySelector('#panel-report-review .review-counts') || {}).textContent === e",
        arg=expected)


def shot_panel(page, panel, screenshot, name: str) -> None:  # type: ignore[no-untyped-def]
    """The console with the review panel scrolled into view, and the panel on its own."""
    panel.scroll_into_view_if_needed()
    path = screenshot(page, name)
    panel.screenshot(path=str(path.with_name(f"{name}-panel.png")))


def photo(folder: Path) -> Path:
    """A small JPEG as a phone camera would send it."""
    from PIL import Image

    path = folder / "scene.jpg"
    Image.new("RGB", (320, 240), (90, 120, 160)).save(path, "JPEG")
    return path


def test_report_is_filed_returned_corrected_resent_and_verified(server, browser, screenshot,
                                                                tmp_path):
    base, sessions, c = server
    phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE)
    officer = phone.new_page()
    sign_in(officer, base, "officer", "/officer/")
    officer.evaluate("navigator.serviceWorker.ready")
    officer.reload()
    officer.wait_for_function("navigator.serviceWorker.controller !== null")

    # 1. Acknowledge the warning: a confirmation in Chinese, the warning marked.
    officer.click("#alerts button.ack")
    assert HEADLINE in feedback(officer, "已确认收到预警")
    assert "已确认收到" in officer.inner_text("#alerts li.acked")
    screenshot(officer, "officer-acknowledged", full_page=False)

    # 2. The inbox lists the warning the officer was notified of.
    officer.click("#inbox-link")
    officer.wait_for_url(f"{base}/inbox/")
    note = officer.locator("li.note", has_text=HEADLINE)
    assert note.count() == 1 and "预警" in note.locator(".note-kind").inner_text()
    screenshot(officer, "officer-inbox")
    officer.goto(f"{base}/officer/")

    # 3. File a 初报 online: stored and confirmed; the kinds read 初报, not "初报 初报".
    assert officer.locator("select[name=kind] option").all_inner_texts() == ["初报", "续报", "核报"]
    officer.select_option("select[name=community]", c[0])
    officer.fill("input[name=affected_people]", "20")
    officer.fill("input[name=evacuated]", "5")
    officer.fill("input[name=collapsed_households]", "2")
    officer.fill("input[name=collapsed_rooms]", "3")
    officer.set_input_files("input[name=photos]", str(photo(tmp_path)))
    officer.click("#report-form button[type=submit]")
    assert "报告已送达指挥中心" in feedback(officer, "已送达")
    assert officer.inner_text("#outbox-count") == "0"
    assert "测试01村 · 初报" in officer.inner_text("#sent")
    screenshot(officer, "officer-report-sent", full_page=False)

    # 4. A form mistake is named with the Chinese label, never a field code.
    officer.fill("input[name=affected_people]", "3")
    officer.fill("input[name=evacuated]", "9")
    officer.click("#report-form button[type=submit]")
    assert officer.inner_text('.field-error[data-field="evacuated"]') == "不能大于受灾人口（人）"
    officer.fill("input[name=evacuated]", "0")

    # 5. Offline: kept on the phone (confirmed as such), sent when the network returns.
    phone.set_offline(True)
    officer.reload()
    officer.select_option("select[name=community]", c[1])
    officer.fill("input[name=affected_people]", "7")
    officer.click("#report-form button[type=submit]")
    feedback(officer, "报告已保存在本机")
    assert officer.inner_text("#outbox-count") == "1"
    screenshot(officer, "officer-offline-queued", full_page=False)
    phone.set_offline(False)
    assert "离线保存的报告已送达指挥中心" in feedback(officer, "离线保存的报告已送达")
    assert officer.inner_text("#outbox-count") == "0"
    with sessions() as s:
        first, second = s.scalars(select(Report).order_by(Report.id)).all()
        assert (first.community_code, second.community_code) == (c[0], c[1])

    # 6. The duty officer sees both as points and in the filtered list with their figures.
    desk = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                               viewport={"width": 1280, "height": 900})
    duty = desk.new_page()
    sign_in(duty, base, "duty", "/")
    wait_counts(duty, 2, 0, 0)
    duty.wait_for_function("document.querySelectorAll('path.report-point').length === 2")
    panel = duty.locator("#panel-report-review")
    duty.select_option("#panel-report-review select[name=township]", label="埇桥街道")
    duty.select_option("#panel-report-review select[name=kind]", label="初报")
    duty.select_option("#panel-report-review select[name=hazard]", label="暴雨")
    duty.select_option("#panel-report-review select[name=hours]", label="最近24小时")
    duty.wait_for_function("document.querySelectorAll('#panel-report-review .report-card').length === 2")
    card = panel.locator(f"#report-card-{first.id}")
    text = card.inner_text()
    assert "测试01村（埇桥街道）" in text and "初报 · 暴雨" in text and "待审核" in text
    assert "受灾人口 20人" in text and "紧急转移安置 5人" in text and "倒塌房屋 3间" in text
    assert "王芳" in text
    thumb = card.locator(".report-photos img")
    thumb.wait_for()
    duty.wait_for_function("img => img.complete && img.naturalWidth === 320",
                           arg=thumb.element_handle())
    duty.select_option("#panel-report-review select[name=hazard]", label="大风")
    duty.wait_for_function("document.querySelectorAll('#panel-report-review .report-card').length === 0")
    assert "没有符合条件的灾情报告" in panel.inner_text()
    duty.select_option("#panel-report-review select[name=hazard]", label="全部灾种")
    card.wait_for()
    card.locator("button.report-title").click()  # the map zooms to the report's point
    duty.wait_for_function("DisasterConsole.map.getZoom() >= 12")
    duty.wait_for_timeout(500)  # the zoom animation
    duty.locator(f"path.report-point.report-at-{first.id}").click()
    assert "测试01村（埇桥街道）" in duty.inner_text(".leaflet-popup-content")
    assert "受灾人口 20人" in duty.inner_text(".leaflet-popup-content")
    duty.wait_for_timeout(400)  # the pop-up's fade-in
    screenshot(duty, "console-review-map")
    shot_panel(duty, panel, screenshot, "console-review-list")

    # 7. Returned with a comment: waiting 1, returned 1.
    card.locator("button.return").click()
    card.locator("button.confirm-return").click()  # without a comment: refused, said why
    card.locator(".review-message", has_text="请写明").wait_for()
    card.locator("textarea[name=comment]").fill(COMMENT)
    card.locator("button.confirm-return").click()
    wait_counts(duty, 1, 1, 0)
    assert COMMENT in panel.locator(f"#report-card-{first.id}").inner_text()
    shot_panel(duty, panel, screenshot, "console-review-returned")

    # 8. The officer sees the returned report and the comment, corrects and resends it.
    officer.reload()
    returned = officer.locator("#returned li.returned")
    assert officer.inner_text("#returned-count") == "1"
    assert COMMENT in returned.inner_text() and "值班员李明" in returned.inner_text()
    assert "退回修改" in officer.inner_text("#my-communities")
    screenshot(officer, "officer-returned")
    returned.locator("button.correct").click()
    assert officer.inner_text("#report-heading") == "修改退回的报告"
    assert officer.input_value("input[name=evacuated]") == "5"
    assert officer.locator("select[name=community]").is_disabled()
    screenshot(officer, "officer-correcting", full_page=False)
    officer.fill("input[name=evacuated]", "8")
    officer.click("#report-form button[type=submit]")
    assert "已重新报送" in feedback(officer, "已重新报送")
    assert officer.inner_text("#returned-count") == "0"
    assert officer.inner_text("#outbox-count") == "0"
    screenshot(officer, "officer-resent", full_page=False)

    # 9. Back to waiting; the duty officer sees the correction and its history, verifies.
    duty.reload()
    wait_counts(duty, 2, 0, 0)
    card = duty.locator(f"#report-card-{first.id}")
    assert "紧急转移安置 8人" in card.inner_text()
    assert "退回 · 值班员李明" in card.inner_text() and "修改后重报 · 王芳" in card.inner_text()
    card.locator("button.verify").click()
    wait_counts(duty, 1, 0, 1)
    assert "已核实" in duty.locator(f"#report-card-{first.id} .review-badge").inner_text()
    shot_panel(duty, duty.locator("#panel-report-review"), screenshot, "console-review-verified")

    with sessions() as s:
        report = s.get(Report, first.id)
        assert (report.review_status, report.evacuated) == (ReviewStatus.VERIFIED, 8)
        steps = s.scalars(select(ReportReview).where(ReportReview.report_id == first.id)
                          .order_by(ReportReview.id)).all()
        assert [(st.action, st.comment) for st in steps] == [
            ("returned", COMMENT), ("resent", None), ("verified", None)]
    desk.close()
    phone.close()


def test_correction_made_offline_is_resent_when_the_network_returns(server, browser, screenshot):
    from disaster.accounts import User
    from disaster.reports.review import review_report
    from disaster.reports.services import submit_report

    base, sessions, c = server
    with sessions() as s:
        officer = s.scalar(select(User).where(User.username == "officer")).actor()
        duty = s.scalar(select(User).where(User.username == "duty")).actor()
        report, _ = submit_report(s, officer, {
            "community": c[2], "kind": "initial", "hazard": "rainstorm",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(), "affected_people": 6})
        review_report(s, duty, report.id, {"decision": "returned", "comment": "受灾人口偏少"})
        s.commit()
        report_id = report.id
    phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE)
    page = phone.new_page()
    sign_in(page, base, "officer", "/officer/")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.inner_text("#returned-count") == "1"

    phone.set_offline(True)
    page.reload()  # from the service worker's cache
    page.click("#returned li.returned button.correct")
    page.fill("input[name=affected_people]", "16")
    page.click("#report-form button[type=submit]")
    feedback(page, "报告已保存在本机")
    assert page.inner_text("#outbox-count") == "1"
    assert page.inner_text("#returned-count") == "0"  # the correction waits in the outbox
    with sessions() as s:
        assert s.get(Report, report_id).review_status == ReviewStatus.RETURNED

    phone.set_offline(False)
    assert "已重新报送" in feedback(page, "已重新报送")
    assert page.inner_text("#outbox-count") == "0"
    screenshot(page, "officer-resent-after-offline", full_page=False)
    with sessions() as s:
        report = s.get(Report, report_id)
        assert (report.review_status, report.affected_people) == (ReviewStatus.PENDING, 16)
    phone.close()
