"""The console at the demo storm's peak, as a duty officer sees it: the 宿州 sample, the
scenario replayed fast up to its strongest hour, plans computed; saves ``console-peak.png``
and checks what makes it legible (legend, layer box, scale bar, tab order, tables)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser.storm import storm_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def peak(backend, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A server on the 宿州 sample with the demo storm replayed up to its peak."""
    with storm_server(backend.new_url(), tmp_path_factory.mktemp("peak")) as running:
        yield running


def sign_in(browser, base: str, username: str, password: str, **context: Any):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return ctx, page


def test_console_at_the_storm_peak_is_legible(peak, browser, screenshot):
    assert "red" in peak["levels"]
    base = peak["url"]
    ctx, page = sign_in(browser, base, "duty", peak["users"]["duty"],
                        viewport={"width": 1440, "height": 900})
    try:
        # The evacuation and dispatch plans were computed by the duty officer (storm_server).
        page.goto(base + "/")
        page.locator("#panel-alerts .alert-card").first.wait_for()
        page.locator("#panel-overdue-reports table").wait_for()
        page.wait_for_function(
            "document.querySelectorAll('.leaflet-communities-pane path, "
            ".leaflet-communities-pane canvas').length > 0")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        screenshot(page, "console-peak", full_page=False)

        # The layer box does not cover the map: it is part of the side bar.
        assert page.locator("#console-map .leaflet-control-layers").count() == 0
        layers = page.locator("#console-panels .leaflet-control-layers")
        assert layers.is_visible()
        # One layer each for shelters and depots.
        overlay_names = layers.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert sum("避难场所" in n for n in overlay_names) == 1
        assert sum("储备库" in n for n in overlay_names) == 1
        # A legend that explains every symbol on the map.
        legend = page.locator("#console-legend").inner_text()
        for words in ("红色预警", "蓝色预警", "风险", "避难场所", "不安全", "储备库", "调拨", "疏散"):
            assert words in legend, words
        # The status label and the scale bar do not overlap.
        status = page.locator(".console-status").bounding_box()
        scale = page.locator(".leaflet-control-scale").bounding_box()
        assert status and scale
        assert (status["x"] + status["width"] <= scale["x"] or scale["x"] + scale["width"] <= status["x"]
                or status["y"] + status["height"] <= scale["y"]
                or scale["y"] + scale["height"] <= status["y"])
        # No table of the side bar is wider than its column.
        overflow = page.evaluate("""() => {
            const bar = document.getElementById('console-panels');
            return bar.scrollWidth - bar.clientWidth;
        }""")
        assert overflow <= 0
        # A click on a shelter's symbol, where no other symbol covers it, opens that
        # shelter's pop-up (beside a depot the shelter's bar stays on top of the stock chart).
        icons = page.locator(".leaflet-shelter-fill-pane .shelter-fill-icon")
        assert icons.count() >= 20
        # Measured afresh before each click: an opened pop-up pans the map.
        centre = """i => {
            const icon = document.querySelectorAll('.leaflet-shelter-fill-pane .shelter-fill-icon')[i];
            const r = icon.getBoundingClientRect();
            const m = document.getElementById('console-map').getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const inside = x > m.left + 60 && x < m.right - 60 && y > m.top + 60 && y < m.bottom - 60;
            const top = inside ? document.elementFromPoint(x, y) : null;
            return {x, y, title: icon.title, inside, free: !!top && icon.contains(top)};
        }"""
        # Pop-ups open where they are (no panning): every move would reload the layers.
        page.evaluate("L.Popup.prototype.options.autoPan = false")
        clicked, wrong, covered = 0, [], []
        for i in range(icons.count()):
            if clicked >= 12:
                break
            page.evaluate("DisasterConsole.map.closePopup()")
            c = page.evaluate(centre, i)
            if not c["inside"]:
                continue
            if not c["free"]:
                covered.append(c["title"])
                continue
            page.mouse.click(c["x"], c["y"])
            title = page.locator(".leaflet-popup-content .popup-title")
            title.wait_for(timeout=5000)
            clicked += 1
            if title.inner_text() != c["title"]:
                wrong.append((c["title"], title.inner_text()))
        assert not wrong
        assert clicked == 12 and len(covered) <= 3, covered
        page.evaluate("DisasterConsole.map.closePopup()")
        # The risk layer draws rings over the warning colours and the legend says so.
        layers.locator("label", has_text="综合风险指数").locator("input").check()
        page.wait_for_function("document.querySelectorAll('.leaflet-risk-pane path').length > 100")
        opacities = page.eval_on_selector_all(
            ".leaflet-risk-pane path", "ps => ps.map(p => Number(p.getAttribute('fill-opacity')))")
        assert max(opacities) <= 0.2
        assert "两者同时可见" in page.locator("#console-legend").inner_text()
        screenshot(page, "console-peak-risk", full_page=False)
        # The side bar comes before the map's markers in the tab order.
        page.locator("body").focus()
        first_stops = []
        for _ in range(12):
            page.keyboard.press("Tab")
            first_stops.append(page.evaluate(
                "() => !!document.activeElement.closest('#console-panels')"))
        assert any(first_stops)
        assert page.locator("#console-map [tabindex='0']").count() == 0 or first_stops.index(True) < 10
    finally:
        ctx.close()
