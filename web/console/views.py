"""The map console at ``/``: a folium map whose layers the console plugins fetch as GeoJSON."""

from __future__ import annotations

from pathlib import Path

import folium
from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from web.console import vendor
from web.db import runtime

bp = Blueprint("console", __name__)

# 宿州 (Suzhou, Anhui): the city seat is near 117.0°E 33.65°N.
CENTER = (33.65, 117.0)
ZOOM = 9
PLUGIN_DIR = Path(__file__).resolve().parent.parent / "static" / "console" / "plugins"


def plugin_files(only: str | None = None) -> list[str]:
    """Console plugin scripts sorted by file name (the load order).

    ``only``: comma-separated plugin names without ``.js`` (``?plugins=10-core`` gives a
    lighter console, e.g. over a slow link); absent, every plugin.
    """
    names = sorted(p.name for p in PLUGIN_DIR.glob("*.js"))
    if only:
        wanted = {w.strip() for w in only.split(",")}
        names = [n for n in names if n.removesuffix(".js") in wanted]
    return names


def data_bounds() -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the loaded areas, to open the map on them."""
    from disaster.areas import Area
    from web.api.geojson import cache
    from web.db import get_session

    bounds = cache().layer(get_session(), Area).bounds
    if not len(bounds):
        return None
    w, s = bounds[:, 0].min(), bounds[:, 1].min()
    e, n = bounds[:, 2].max(), bounds[:, 3].max()
    return [[round(float(s), 5), round(float(w), 5)], [round(float(n), 5), round(float(e), 5)]]


def build_map() -> folium.Map:
    """The folium map with local assets only and the optional configured tile layer."""
    m = folium.Map(location=CENTER, zoom_start=ZOOM, tiles=None, control_scale=True,
                   prefer_canvas=False, min_zoom=5, max_zoom=18)
    # Instance attributes shadow folium's CDN class defaults for this map only.
    m.default_js = [(name, url_for("console.vendor_file", name=path.split("/")[1],
                                   filename=path.split("/", 2)[2]))
                    for name, path in vendor.FOLIUM_JS]
    m.default_css = [(name, url_for("console.vendor_file", name=path.split("/")[1],
                                    filename=path.split("/", 2)[2]))
                     for name, path in vendor.FOLIUM_CSS]
    return m


def tile_layers(m: folium.Map) -> list[dict[str, str]]:
    """Add the configured base tiles (e.g. 天地图 with a key), if any; none by default."""
    settings = runtime().settings
    if not settings.tile_url:
        return []
    layer = folium.TileLayer(tiles=settings.tile_url, attr=settings.tile_attribution or " ",
                             name="tiles", overlay=False, control=False)
    layer.add_to(m)
    return [{"variable": layer.get_name(), "title": "Tiles"}]


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The console page."""
    m = build_map()
    tiles = tile_layers(m)
    root = m.get_root()
    root.render()
    options = {"tileLayers": tiles, "loginUrl": url_for("auth.login"), "bounds": data_bounds()}
    # folium's output is built from constants and settings only, never from user data.
    return render_template(
        "console/index.html",
        map_header=Markup(root.header.render()),  # noqa: S704
        map_html=Markup(root.html.render()),  # noqa: S704
        map_script=Markup(root.script.render()),  # noqa: S704
        map_name=m.get_name(),
        console_options=options,
        plugins=plugin_files(request.args.get("plugins")),
        debug=current_app.debug,
    )


@bp.get("/vendor/<name>/<path:filename>")
def vendor_file(name: str, filename: str):  # type: ignore[no-untyped-def]
    """Leaflet, jQuery, Font Awesome and MarkerCluster from their XStatic packages."""
    return vendor.serve(name, filename)
