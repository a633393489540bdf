"""The officer files a report with the network off; it waits on the phone and arrives exactly
once when the network returns (headless Chromium, service worker, IndexedDB)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.reports.models import Report
from tests.disaster.reports.factories import build_region
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Officer2026pass"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, object, list[str]]]:
    settings = Settings(home=tmp_path, database_url=database_url, secret_key="officer-test")
    app = create_app(settings)
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        region = build_region(s)
        add_user(s, cli_actor(), "officer", Role.INFO_OFFICER, password=PASSWORD,
                 scopes=["341302001"], update=True)
        s.commit()
    with ServerThread(app) as running:
        yield running.url, sessions, region.communities
    app.extensions["disaster_runtime"].engine.dispose()


def count_reports(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count(Report.id)))


def test_report_filed_offline_arrives_exactly_once(server, browser):
    base, sessions, communities = server
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base}/login?next=/officer/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/officer/")
    # The service worker is installed and controls the page before the network goes away.
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    response = page.reload()  # no network: the service worker answers from its cache
    assert response is not None and response.from_service_worker
    page.wait_for_selector("#report-form")
    page.select_option("select[name=community]", communities[0])
    page.fill("input[name=affected_people]", "12")
    page.fill("input[name=evacuated]", "5")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#outbox li.waiting")
    assert page.inner_text("#outbox-count") == "1"
    assert "测试01村 · 初报" in page.inner_text("#outbox")  # names, not codes
    page.wait_for_timeout(300)  # a failed attempt must leave it waiting, not lose it
    assert page.inner_text("#outbox-count") == "1"
    assert count_reports(sessions) == 0

    context.set_offline(False)  # the page's "online" handler sends the queue
    page.wait_for_selector("#sent li.sent")
    assert page.inner_text("#outbox-count") == "0"
    page.evaluate("window.OfficerOutbox.flush()")  # another flush sends nothing more
    assert count_reports(sessions) == 1
    with sessions() as s:
        report = s.scalar(select(Report))
        assert (report.community_code, report.affected_people, report.evacuated) == (
            communities[0], 12, 5)
        assert report.idempotency_key
    context.close()


def sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?next=/officer/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/officer/")


def test_inconsistent_figures_are_flagged_on_the_form_before_sending(server, browser):
    base, sessions, _communities = server
    context = browser.new_context(timezone_id="Asia/Shanghai")
    page = context.new_page()
    sign_in(page, base)
    page.fill("input[name=affected_people]", "3")
    page.fill("input[name=evacuated]", "9")
    page.click("#report-form button[type=submit]")
    assert page.inner_text('.field-error[data-field="evacuated"]')
    assert page.inner_text("#outbox-count") == "0"
    assert count_reports(sessions) == 0
    context.close()


def test_queued_report_the_server_refuses_is_shown_with_the_reason_and_corrected(server, browser):
    base, sessions, communities = server
    context = browser.new_context(timezone_id="Asia/Shanghai")
    page = context.new_page()
    sign_in(page, base)
    context.set_offline(True)
    for _ in range(2):  # the second 初报 of the same community will be refused
        page.select_option("select[name=community]", communities[1])
        page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#outbox li.waiting').length === 2")
    context.set_offline(False)
    page.wait_for_selector("#outbox li.rejected")
    # The reason in the officer's words; the refused report still counts as waiting.
    assert "本次灾害已报送初报，请报送续报" in page.inner_text("#outbox li.rejected")
    assert page.inner_text("#outbox-count") == "1"
    assert count_reports(sessions) == 1
    # Corrected in the form (a 续报 instead), it is sent like any report.
    page.click("#outbox li.rejected button.edit")
    assert page.input_value("select[name=community]") == communities[1]
    page.wait_for_function("document.querySelectorAll('#outbox li.rejected').length === 0")
    page.select_option("select[name=kind]", "update")
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#sent li.sent').length === 2")
    assert page.inner_text("#outbox-count") == "0"
    assert count_reports(sessions) == 2
    context.close()
