"""Leaflet and friends served from installed XStatic packages: the console needs no CDN.

folium's defaults point at CDNs (jsdelivr, code.jquery.com, cdnjs, bootstrapcdn); the console
page replaces them with these local routes and drops what has no offline source (Bootstrap,
glyphicons, awesome-markers: the console uses none of them).
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_from_directory

# route name -> importable XStatic package
PACKAGES = {
    "leaflet": "xstatic.pkg.leaflet",
    "jquery": "xstatic.pkg.jquery",
    "font-awesome": "xstatic.pkg.font_awesome",
    "leaflet-markercluster": "xstatic.pkg.leaflet_markercluster",
}

# What folium's Map loads, pointed at the local routes (see web.console.views).
FOLIUM_JS = [
    ("leaflet", "vendor/leaflet/leaflet.js"),
    ("jquery", "vendor/jquery/jquery.min.js"),
]
FOLIUM_CSS = [
    ("leaflet_css", "vendor/leaflet/leaflet.css"),
]


def package_dir(name: str) -> Path:
    """The data directory of the XStatic package served as ``name`` (404 if unknown)."""
    import importlib

    module = PACKAGES.get(name)
    if module is None:
        abort(404)
    return Path(importlib.import_module(module).BASE_DIR)


def serve(name: str, filename: str):  # type: ignore[no-untyped-def]
    """Send one file of a vendored package (cached a day: versions change with the package)."""
    return send_from_directory(package_dir(name), filename, max_age=86400)
