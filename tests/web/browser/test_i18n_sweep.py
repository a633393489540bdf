"""Every page in Chinese: no English left on any page a role can open in zh_CN.

Each role signs in (the information officer and the depot manager on a 390×844 phone) during
the demo storm's peak and opens every page it can; the visible text (``innerText``) and the
``title``/``aria-label``/``placeholder`` attributes are collected, and every string holding an
English word (three or more Latin letters in a row) not on the allowlist fails the test. An
untranslated catalogue key (English sentence or field name such as ``occurred_at``) and an
English API error message shown on a page are caught the same way. The JSON error messages of
failing API calls are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser.storm import storm_server

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
WORD = re.compile(r"[A-Za-z]{3,}")
# Words a Chinese user reads as they are:
ALLOWED = {
    "CAP", "API", "GeoJSON", "CSV", "JSON", "PDF", "JPEG", "PNG",  # standards and file formats
    "SMS",  # 短信 is also used, but operators' settings pages say SMS
    "GDP",  # written so in Chinese statistics (直接经济损失占GDP比重)
    "English",  # the language switch names its language in that language
    "Leaflet",  # the map library's credit, which its licence asks to keep
    "admin", "duty", "officer", "depot",  # the demo accounts' user names
    # The open-data page names the standards and the GIS programs a bureau uses by their names.
    "OGC", "Features", "OpenAPI", "WFS", "QGIS", "ArcGIS", "GDAL", "OAPIF", "MVT",
}
URL = re.compile(r"\b(?:https?://|OAPIF:)\S+")
# Known English waiting for a fix (reported as xfail instead of failing); keep it empty.
PENDING: list[tuple[str | None, re.Pattern[str], str]] = []
# Failing API calls whose English message comes from another developer's domain code.
PENDING_CALLS: dict[str, str] = {}


def pending(path: str, line: str) -> str | None:
    """The owner of an English finding that is known and waits for another branch."""
    return next((owner for page, pattern, owner in PENDING
                 if (page is None or path.startswith(page)) and pattern.search(line)), None)


def english(strings: list[str]) -> list[str]:
    """The strings (one per line) that hold an English word not on the allowlist."""
    found = []
    for text in strings:
        for line in str(text).splitlines():
            if any(w not in ALLOWED for w in WORD.findall(URL.sub("", line))):
                found.append(line.strip()[:200])
    return sorted(set(found))


COLLECT = """() => {
    const out = [document.title, document.body.innerText];
    for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
        for (const name of ['title', 'aria-label', 'placeholder']) {
            const value = el.getAttribute(name);
            if (value) { out.push(value); }
        }
    }
    return out;
}"""

PAGES = [
    # (role, path, viewport); "{event}" and "{depot}" are filled in from the storm.
    ("admin", "/", DESKTOP), ("admin", "/admin/users", DESKTOP), ("admin", "/admin/audit", DESKTOP),
    ("admin", "/assessment/parameters", DESKTOP), ("admin", "/inbox/", DESKTOP),
    ("duty", "/", DESKTOP), ("duty", "/sitrep/", DESKTOP), ("duty", "/sitrep/{event}", DESKTOP),
    ("duty", "/indicators", DESKTOP), ("duty", "/risk", DESKTOP), ("duty", "/inbox/", DESKTOP),
    ("duty", "/officer/", DESKTOP), ("duty", "/depot/", DESKTOP),
    ("officer", "/officer/", PHONE), ("officer", "/inbox/", PHONE),
    ("officer", "/admin/users", PHONE),  # 403 page
    ("depot", "/depot/", PHONE), ("depot", "/depot/{depot}", PHONE), ("depot", "/inbox/", PHONE),
    ("duty", "/no-such-page", DESKTOP),  # 404 page
    ("admin", "/admin/", DESKTOP), ("duty", "/account/password", DESKTOP),
    ("duty", "/shelters/operations", DESKTOP), ("officer", "/officer/evacuation", PHONE),
    ("depot", "/depot/{depot}/history", PHONE), ("duty", "/ogc?f=html", DESKTOP),
    ("duty", "/ogc/collections?f=html", DESKTOP),
    (None, "/login", PHONE), (None, "/login", DESKTOP),
]


@pytest.fixture(scope="module")
def storm(backend, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with storm_server(backend.new_url(), tmp_path_factory.mktemp("sweep")) as running:
        yield running


@pytest.fixture(scope="module")
def signed_in(storm, browser) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Storage state (cookies) of each role, signed in once through the form in Chinese."""
    states = {}
    for username, password in storm["users"].items():
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.goto(storm["url"] + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        states[username] = context.storage_state()
        context.close()
    return states


def visit(browser, storm, signed_in, role, path, viewport):  # type: ignore[no-untyped-def]
    """Open ``path`` as ``role``; returns the page's strings once its content has loaded."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport,
                                  storage_state=signed_in[role] if role else None)
    try:
        page = context.new_page()
        page.goto(storm["url"] + path.format(event=storm["event"], depot="DP341300"))
        page.wait_for_load_state("networkidle")
        if path == "/":
            # every panel drawn (they start once the map's first layers are in)
            page.wait_for_function("""() => {
                const panels = document.querySelectorAll('#console-panels section.console-panel');
                // Every shown panel has drawn its content (a hidden one, e.g. an unused legend,
                // has only its title).
                return panels.length >= 5 && [...panels].filter(p => p.offsetParent !== null)
                    .every(p => p.innerText.split('\\n').length > 1);
            }""")
            page.wait_for_load_state("networkidle")
        return page.evaluate(COLLECT)
    finally:
        context.close()


@pytest.mark.parametrize(("role", "path", "viewport"), PAGES,
                         ids=[f"{r or 'anonymous'}:{p}" for r, p, _v in PAGES])
def test_page_shows_no_english_in_chinese(browser, storm, signed_in, role, path, viewport):
    found = english(visit(browser, storm, signed_in, role, path, viewport))
    mine = [line for line in found if not pending(path, line)]
    assert not mine, f"{role} {path} shows English in zh_CN:\n" + "\n".join(mine)
    if found:
        pytest.xfail("waiting for other branches: " + "; ".join(
            sorted({f"{pending(path, line)} ({line[:60]})" for line in found})))


FAILING_CALLS = [
    # (role, method, path, body): API calls a page may make that fail, in zh_CN.
    ("duty", "GET", "/api/v1/areas?level=province", None),
    ("duty", "GET", "/api/v1/no-such-endpoint", None),
    ("duty", "POST", "/api/v1/depots/DP341300/movements", {"kind": "issue", "item": "TENT12",
                                                           "quantity": 1}),
    ("depot", "POST", "/api/v1/depots/DP341300/movements", {"kind": "issue", "item": "TENT12",
                                                            "quantity": 10 ** 9}),
    ("depot", "POST", "/api/v1/depots/DP341300/movements", {"kind": "bogus", "quantity": -1}),
    ("officer", "POST", "/api/v1/reports", {"community": "341302001001", "kind": "initial",
                                            "hazard": "rainstorm", "occurred_at": "2999-01-01T00:00Z",
                                            "affected_people": 5, "dead": 9}),
    ("officer", "POST", "/api/v1/reports", {"kind": "sometimes"}),
    ("officer", "POST", "/api/v1/alerts/999999/ack", {}),
    ("duty", "PATCH", "/api/v1/shelters/X999999", {"occupancy": 5}),
]


def test_api_errors_are_chinese_in_zh_cn(browser, storm, signed_in):
    problems = []
    for role, method, path, body in FAILING_CALLS:
        context = browser.new_context(locale="zh-CN", storage_state=signed_in[role])
        try:
            page = context.new_page()
            page.goto(storm["url"] + "/inbox/")
            status, doc = page.evaluate("""async ([method, path, body]) => {
                const token = document.querySelector('meta[name="csrf-token"]').content;
                const r = await fetch(path, {method, credentials: 'same-origin',
                    headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                              'X-CSRFToken': token, 'Idempotency-Key': 'bad-' + Math.random()},
                    body: body === null ? undefined : JSON.stringify(body)});
                return [r.status, await r.json()];
            }""", [method, path, body])
        finally:
            context.close()
        assert status >= 400, (method, path, status, doc)
        error = doc["error"]
        assert error["code"] and error["code"].isascii()  # a stable machine code
        texts = [error["message"]] + [m for ms in (error.get("fields") or {}).values() for m in ms]
        found = english(texts)
        if found:
            problems.append((path, f"{role} {method} {path} ({status}): {found}"))
    mine = [text for path, text in problems if path not in PENDING_CALLS]
    assert not mine, "English API errors in zh_CN:\n" + "\n".join(mine)
    if problems:
        pytest.xfail("waiting for other branches: " + "; ".join(
            f"{PENDING_CALLS[path]} ({text[:120]})" for path, text in problems))
