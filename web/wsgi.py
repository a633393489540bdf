"""The WSGI entry point for production servers: ``gunicorn -w 4 web.wsgi:app``.

The only module that builds an app at import: from the environment (``DISASTER_DATABASE_URL``,
``DISASTER_HOME``, ``DISASTER_SECRET_KEY``…; see :mod:`web.config`). Each worker imports it
and starts filling its map-layer geometry cache in the background.
"""

from __future__ import annotations

from web.api.geojson import warm_in_background
from web.app import create_app

app = create_app()
warm_in_background(app)
