"""Web console, HTTP API, command line and scheduler wiring (the only package importing Flask)."""

from __future__ import annotations

from typing import Any


def create_app(config: Any = None) -> Any:
    """Build the Flask application (see :func:`web.app.create_app`)."""
    from web.app import create_app as _create_app

    return _create_app(config)
