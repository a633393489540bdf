"""In Chromium: each role lands on its own page, the pages run under the Content-Security-Policy
without a single violation, and an administrator works the user list (scope codes checked,
confirmation before destructive actions, an API token shown once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser.dataset import PASSWORD, Dataset, make_app
from web.server import ServerThread

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
COMMUNITY_PATHS = ".leaflet-communities-pane path.leaflet-interactive"
# Records every CSP violation the page reports, before any of its own scripts run.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")))
    # Not TESTING: the production app (the browser contexts below enforce the policy).
    app.config["TESTING"] = False
    with ServerThread(app) as running:
        yield running.url, data
    app.extensions["disaster_runtime"].engine.dispose()


def open_page(browser, viewport):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=False)
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    return context, page, console_errors


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def csp_problems(page, console_errors: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate("window.__csp || []")) + [
        text for text in console_errors if "Content Security Policy" in text]


@pytest.mark.parametrize(("username", "path", "viewport", "visible"), [
    ("officer", "/officer/", PHONE, "埇桥区1-201村"),
    ("depot", "/depot/DP341300", PHONE, "宿州市救灾物资储备库"),
    ("admin", "/admin/", DESKTOP, "系统管理"),
    ("duty", "/", DESKTOP, None),
])
def test_each_role_lands_on_its_own_page_without_csp_violations(
        server, browser, screenshot, username, path, viewport, visible):
    base, _data = server
    context, page, errors = open_page(browser, viewport)
    try:
        sign_in(page, base, username)
        page.wait_for_url(base + path)
        if visible:
            page.get_by_text(visible).first.wait_for()
        else:  # the duty officer's console draws the communities
            page.wait_for_selector(COMMUNITY_PATHS)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"security-landing-{username}")
        assert csp_problems(page, errors) == []
    finally:
        context.close()


def test_a_safe_next_wins_over_the_landing_page(server, browser):
    base, _data = server
    context, page, _errors = open_page(browser, PHONE)
    try:
        page.goto(base + "/sitrep/")
        page.wait_for_url("**/login**")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/sitrep/")
    finally:
        context.close()


def test_console_works_under_the_csp(server, browser, screenshot):
    base, data = server
    context, page, errors = open_page(browser, DESKTOP)
    try:
        sign_in(page, base, "duty")
        page.wait_for_url(base + "/")
        response = page.goto(base + "/")
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
        page.wait_for_selector(COMMUNITY_PATHS)
        assert page.locator(COMMUNITY_PATHS).count() == len(data.community_codes)
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_load_state("networkidle")
        screenshot(page, "security-console-csp")
        assert csp_problems(page, errors) == []
    finally:
        context.close()


def test_admin_checks_scopes_confirms_and_issues_a_token(server, browser, screenshot):
    base, _data = server
    context, page, errors = open_page(browser, DESKTOP)
    try:
        sign_in(page, base, "admin")
        page.wait_for_url(base + "/admin/")
        page.locator("#admin-links").get_by_role("link", name="用户管理").click()
        page.wait_for_url(base + "/admin/users")
        # A scope code that does not exist is refused, the field named, in Chinese.
        page.fill("#username", "newofficer")
        page.select_option("#role", "info_officer")
        page.fill("#scopes", "999999")
        page.fill("#password", "Longenough123")
        page.click("text=创建用户")
        page.get_by_text("999999 不是已有的村（社区）、乡镇或县区代码").wait_for()
        screenshot(page, "security-admin-scope-refused")
        page.fill("#scopes", "341302001")
        page.fill("#password", "Longenough123")
        page.click("text=创建用户")
        row = page.locator("tr[data-username=newofficer]")
        row.wait_for()
        assert "埇桥区第1镇" in row.inner_text()
        # An API token, shown once, copyable.
        row.get_by_role("button", name="签发 API 令牌").click()
        page.get_by_text("newofficer 的新 API 令牌").wait_for()
        token = page.input_value("#token-value")
        assert token.startswith("dt_")
        page.click("#copy-token")
        page.get_by_text("已复制。").wait_for()
        screenshot(page, "security-admin-token")
        page.goto(base + "/admin/users")
        # Deactivating asks first; cancelling changes nothing.
        row = page.locator("tr[data-username=newofficer]")
        row.get_by_role("link", name="停用").click()
        page.get_by_text("确定停用 newofficer 吗？").wait_for()
        screenshot(page, "security-admin-confirm")
        page.get_by_role("link", name="取消").click()
        page.wait_for_url(base + "/admin/users")
        assert "已停用" not in page.locator("tr[data-username=newofficer]").inner_text()
        page.locator("tr[data-username=newofficer]").get_by_role("link", name="停用").click()
        page.locator("#confirm").get_by_role("button", name="停用").click()
        page.get_by_text("已停用用户 newofficer。").wait_for()
        assert "已停用" in page.locator("tr[data-username=newofficer]").inner_text()
        page.locator("tr[data-username=newofficer]").get_by_role("link", name="吊销令牌").click()
        page.locator("#confirm").get_by_role("button", name="吊销令牌").click()
        page.get_by_text("已吊销 newofficer 的 1 个令牌。").wait_for()
        assert csp_problems(page, errors) == []
    finally:
        context.close()
