"""The WSGI entry point for production servers: ``gunicorn -w 4 web.wsgi:app``.

The only module that builds an app at import: from the environment (``DISASTER_DATABASE_URL``,
``DISASTER_HOME``, ``DISASTER_SECRET_KEY``…; see :mod:`web.config`).
"""

from __future__ import annotations

from web.app import create_app

app = create_app()
