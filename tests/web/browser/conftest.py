"""A headless Debian Chromium for the browser tests (skipped where it is not installed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


class _Harness:
    """The browser, whose contexts and pages bypass the site's Content-Security-Policy unless
    a test asks for it (``bypass_csp=False``): Playwright's ``wait_for_function`` evaluates
    its predicate with ``eval`` inside the page, which the policy rightly refuses."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self._browser.new_context(**options)

    def new_page(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self._browser.new_page(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser per test module; each test opens its own context (CSP bypassed unless
    the test passes ``bypass_csp=False``, as the CSP tests do)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield _Harness(b)
        finally:
            b.close()


SCREENSHOT_DIR = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``screenshot(page, name)`` saves a full-page PNG as
    ``test-artifacts/screenshots/<backend>/<name>.png`` (the folder the README names)."""
    backend = "spatialite"
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None:
        for value in callspec.params.values():
            if value in ("spatialite", "postgis"):
                backend = value
    folder = SCREENSHOT_DIR / backend

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
