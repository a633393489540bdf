"""The console at the demo storm's peak, as a duty officer sees it: the 宿州 sample, the
scenario replayed fast up to its strongest hour, plans computed; saves ``console-peak.png``
and checks what makes it legible (legend, layer box, scale bar, tab order, tables)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from disaster import jobs
from disaster.reports import deadlines
from disaster.warnings.models import Alert, AlertStatus
from disaster.weather.models import WeatherSource
from web.app import create_app
from web.commands import demo
from web.config import Settings
from web.runtime import build_runtime
from web.server import ServerThread

pytestmark = pytest.mark.browser
PEAK_RUNS = 8  # the first run evaluates the start hour; red is in force from about run 6 to 10


@pytest.fixture(scope="module")
def peak(backend, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A server on the 宿州 sample with the demo storm replayed up to its peak."""
    settings = Settings(home=tmp_path_factory.mktemp("peak"), database_url=backend.new_url(),
                        secret_key="peak-test")
    runtime = build_runtime(settings)
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - \
        dt.timedelta(hours=PEAK_RUNS + 2)
    info = demo.prepare_demo(runtime, hour_seconds=1, start=start)
    jobs.configure(runtime.sessions)
    with runtime.sessions() as s:
        source_id = s.scalar(select(WeatherSource.id).where(WeatherSource.name == demo.SOURCE))
    for _ in range(PEAK_RUNS):
        assert jobs.run_source(source_id) is not None
        with runtime.sessions() as s:
            deadlines.run_deadline_job(s, jobs.clock(s), send=lambda *a, **k: None)
            s.commit()
    with runtime.sessions() as s:
        levels = set(s.scalars(select(Alert.level).where(Alert.status == AlertStatus.ACTIVE)))
    app = create_app(settings)
    with ServerThread(app) as running:
        yield {"url": running.url, "users": {u["username"]: u["password"] for u in info["users"]},
               "levels": {getattr(lv, "value", lv) for lv in levels}}
    runtime.engine.dispose()
    app.extensions["disaster_runtime"].engine.dispose()


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
        # The duty officer computes the evacuation and dispatch plans, as during the storm.
        page.goto(base + "/")
        page.wait_for_function("window.DisasterConsole && DisasterConsole.map")
        page.evaluate("""async () => {
            await DisasterConsole.sendJSON('POST', '/api/v1/evacuation/plans', {});
            await DisasterConsole.sendJSON('POST', '/api/v1/dispatch/plans', {});
        }""")
        page.reload()
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
