"""The map console in headless Chromium: sign in, polygons drawn, layer switching, escaped
pop-ups, and not one request to any host but the app's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.browser.dataset import PASSWORD, PER_SIDE, XSS_NAME, Dataset, make_app
from web.server import ServerThread

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
N_COMMUNITIES = 4 * PER_SIDE ** 2  # two counties of two townships each
COMMUNITY_PATHS = ".leaflet-communities-pane path.leaflet-interactive"


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")))
    with ServerThread(app) as running:
        yield running.url, data
    app.extensions["disaster_runtime"].engine.dispose()




@pytest.fixture(scope="module")
def signed_in(server, browser) -> dict:  # type: ignore[no-untyped-def]
    """Sign in once through the form (from the console's redirect); keep the cookies."""
    base, _data = server
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    state = context.storage_state()
    context.close()
    return state


def open_console(browser, signed_in, init_script: str | None = None):  # type: ignore[no-untyped-def]
    """A new signed-in browser context and page (``init_script`` runs before the page's)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  storage_state=signed_in)
    page = context.new_page()
    if init_script:
        page.add_init_script(init_script)
    return context, page


@pytest.fixture
def console(server, browser, signed_in):  # type: ignore[no-untyped-def]
    """A signed-in console page whose requests and dialogs are recorded."""
    base, data = server
    context, page = open_console(browser, signed_in)
    page.requests = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(base + "/")
    page.wait_for_function(f"document.querySelectorAll('{COMMUNITY_PATHS}').length >= {N_COMMUNITIES}")
    try:
        yield page, base, data
    finally:
        context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"))


def overlay_checkbox(page, title: str):  # type: ignore[no-untyped-def]
    return page.locator(".leaflet-control-layers-overlays label", has_text=title).locator("input")


def test_signed_in_console_draws_every_community_polygon(console, backend_name):
    page, _base, _data = console
    assert page.locator(COMMUNITY_PATHS).count() == N_COMMUNITIES
    # County and township outlines are the offline basemap: drawn, no tiles fetched.
    assert page.locator(".leaflet-outlines-pane path").count() >= 6
    assert page.locator("img.leaflet-tile").count() == 0
    # One layer each for shelters and depots: the plugins' fill bars and stock charts.
    page.wait_for_function("document.querySelectorAll('.leaflet-shelter-fill-pane .shelter-fill-icon')"
                           ".length === 3 && document.querySelectorAll('.leaflet-stockbars-pane "
                           ".stock-bars').length === 2")
    assert page.locator(".leaflet-points-pane path, .leaflet-points-pane .depot-icon").count() == 0
    shot(page, f"map-{backend_name}")


def test_no_request_leaves_the_app(console):
    page, base, _data = console
    page.wait_for_load_state("networkidle")
    own = urlsplit(base).netloc
    foreign = [url for url in page.requests
               if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != own]
    assert not foreign
    assert any("/api/v1/communities" in url for url in page.requests)
    assert any("/vendor/leaflet/leaflet.js" in url for url in page.requests)


def test_layers_switch_in_the_layer_control(console, backend_name):
    page, _base, _data = console
    communities = overlay_checkbox(page, "社区（村）预警等级")
    hazards = overlay_checkbox(page, "灾害隐患区")
    assert communities.is_checked() and not hazards.is_checked()
    communities.uncheck()
    page.wait_for_function(f"document.querySelectorAll('{COMMUNITY_PATHS}').length === 0")
    hazards.check()
    page.wait_for_function("document.querySelectorAll('.leaflet-hazards-pane path').length >= 2")
    shot(page, f"layers-{backend_name}")
    communities.check()
    page.wait_for_function(f"document.querySelectorAll('{COMMUNITY_PATHS}').length === {N_COMMUNITIES}")


def click_community_named_with_html(page):  # type: ignore[no-untyped-def]
    """Click the south-west cell of the first township (named with HTML); its pop-up."""
    point = page.evaluate("""() => {
        const map = window.DisasterConsole.map;
        const p = map.latLngToContainerPoint([33.51, 116.81]);
        const box = map.getContainer().getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y};
    }""")
    page.mouse.click(point["x"], point["y"])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator(".popup-title").inner_text() == XSS_NAME
    assert popup.locator("img").count() == 0
    page.wait_for_timeout(200)
    assert page.dialogs == []
    return popup


def test_popup_shows_stored_html_as_text(console, backend_name):
    page, _base, _data = console
    click_community_named_with_html(page)
    shot(page, f"popup-{backend_name}")


def test_console_speaks_english_when_switched(console):
    page, base, _data = console
    page.click("text=English")
    page.wait_for_url(base + "/")
    page.wait_for_function(f"document.querySelectorAll('{COMMUNITY_PATHS}').length >= {N_COMMUNITIES}")
    assert overlay_checkbox(page, "Communities by warning level").count() == 1
    assert page.locator(".brand").inner_text() == "Disaster early warning and relief"


# The province-scale path: above a threshold (4,000) communities are drawn on one canvas by
# DisasterConsole.polygonLayer instead of an SVG element each. A threshold of 0 puts the
# small test set on that path.
CANVAS_LAYER = """() => {
    const entry = window.DisasterConsole.overlays.find(o => o.id === 'communities');
    let found = null;
    entry.container.eachLayer(l => { if (l.featureCount) { found = l; } });
    return found;
}"""


@pytest.fixture
def canvas_console(server, browser, signed_in):  # type: ignore[no-untyped-def]
    base, data = server
    context, page = open_console(browser, signed_in, "window.DISASTER_CANVAS_THRESHOLD = 0;")
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(base + "/")
    page.wait_for_function(f"(() => {{ const l = ({CANVAS_LAYER})(); "
                           f"return l && l.featureCount() >= {N_COMMUNITIES}; }})()")
    page.wait_for_timeout(100)  # two animation frames: the canvas is painted
    try:
        yield page, base, data
    finally:
        context.close()


def pixel_at(page, lat: float, lon: float) -> list[int]:  # type: ignore[no-untyped-def]
    """RGBA of the communities canvas under a lat/lon (device pixels)."""
    return page.evaluate(f"""() => {{
        const layer = ({CANVAS_LAYER})();
        const map = window.DisasterConsole.map;
        const canvas = layer._container;
        const p = map.latLngToContainerPoint([{lat}, {lon}]);
        const box = canvas.getBoundingClientRect(), mbox = map.getContainer().getBoundingClientRect();
        const scale = canvas.width / box.width;
        const x = Math.round((p.x + mbox.left - box.left) * scale);
        const y = Math.round((p.y + mbox.top - box.top) * scale);
        return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
    }}""")


def test_many_communities_are_painted_on_one_canvas(canvas_console, backend_name):
    page, _base, _data = canvas_console
    assert page.locator(COMMUNITY_PATHS).count() == 0  # no SVG element per polygon
    assert page.locator(".leaflet-communities-pane canvas").count() == 1
    assert page.evaluate(f"({CANVAS_LAYER})().featureCount()") == N_COMMUNITIES
    # Inside a community: its fill and stroke are painted; far outside the data: nothing.
    assert pixel_at(page, 33.55, 116.85)[3] > 0
    assert pixel_at(page, 33.35, 116.60)[3] == 0
    shot(page, f"canvas-{backend_name}")


def test_canvas_popup_shows_stored_html_as_text(canvas_console, backend_name):
    page, _base, _data = canvas_console
    # The uncovered-communities outlines (a canvas above) would answer the click first.
    overlay_checkbox(page, "无信息员的社区（村）").uncheck()
    popup = click_community_named_with_html(page)
    assert "人口" in popup.inner_text()  # the community's own pop-up
    shot(page, f"canvas-popup-{backend_name}")


def test_canvas_layer_redraws_when_the_map_zooms(canvas_console):
    page, _base, _data = canvas_console
    page.evaluate("window.DisasterConsole.map.setView([33.55, 116.85], 13, {animate: false})")
    # Reloaded for the new view (bbox and zoom), then painted again at the new scale.
    page.wait_for_function(f"(() => {{ const l = ({CANVAS_LAYER})(); "
                           f"return l && l.featureCount() < {N_COMMUNITIES}; }})()")
    page.wait_for_timeout(100)
    assert pixel_at(page, 33.55, 116.85)[3] > 0
    assert page.evaluate(f"({CANVAS_LAYER})().featureAt(L.latLng(33.55, 116.85)) !== null")
