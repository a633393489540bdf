"""The console legend shows a hazard's impact matrix while the hazard uses it (headless Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.warnings import impact_matrix
from tests.disaster.warnings import world
from web.app import create_app
from web.config import Settings
from web.server import ServerThread

pytestmark = pytest.mark.browser
PASSWORD = "Duty2026password"


@contextmanager
def _server(database_url: str, home: Path, enabled: bool) -> Iterator[str]:
    app = create_app(Settings(home=home, database_url=database_url, secret_key="impact-matrix"))
    with app.extensions["disaster_runtime"].sessions() as s:
        world.build(s)
        add_user(s, cli_actor(), "duty", Role.DUTY_OFFICER, password=PASSWORD, update=True)
        if enabled:
            impact_matrix.set_matrix(s, cli_actor(), "rainstorm", {"enabled": True})
        s.commit()
    try:
        with ServerThread(app) as running:
            yield running.url
    finally:
        app.extensions["disaster_runtime"].engine.dispose()


@pytest.fixture
def matrix_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with _server(database_url, tmp_path, enabled=True) as url:
        yield url


def _sign_in(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_the_legend_shows_the_rainstorm_matrix_in_chinese(matrix_server, browser, screenshot):
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(page, matrix_server)
    panel = page.locator("#panel-impact-matrix")
    panel.locator("table.impact-matrix").wait_for()
    text = panel.inner_text()
    assert "影响矩阵图例" in text and "暴雨：可能性 × 影响" in text
    for word in ("不太可能", "可能", "很可能", "极可能", "严重影响", "高影响", "中影响", "低影响"):
        assert word in text
    # severe impact row (drawn on top): 黄 橙 红 红
    top = panel.locator("table.impact-matrix tr").nth(1).inner_text()
    assert top.split() == ["严重影响", "黄", "橙", "红", "红"]
    assert "rainstorm" not in text and "severe" not in text  # names, never codes
    panel.scroll_into_view_if_needed()
    screenshot(page, "console-impact-matrix-legend", full_page=False)
    page.close()


def test_the_matrix_legend_is_hidden_while_the_rules_decide(database_url, tmp_path, browser):
    with _server(database_url, tmp_path, enabled=False) as url:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
        _sign_in(page, url)
        panel = page.locator("#panel-impact-matrix")
        panel.wait_for(state="attached")
        panel.wait_for(state="hidden")  # shown with its title until the matrices are read
        page.locator("#console-legend").wait_for()  # the console's own legend is there
        assert "影响矩阵图例" not in page.locator("#console-panels").inner_text()
        page.close()
