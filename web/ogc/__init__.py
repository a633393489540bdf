"""OGC API – Features (Part 1 Core, GeoJSON, HTML; Part 2 CRS) and Tiles at ``/ogc``.

Served on this app's own routes (see the README's last section for why not pygeoapi): the
collections read through the same paths as the console API (the geometry cache of
:mod:`web.api.geojson`, the domain read functions), so both backends answer alike and the
app's bearer tokens decide who sees the protected collections.
"""
