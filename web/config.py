"""Settings from the environment, shared by the CLI, the web app and the scheduler."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.db import default_sqlite_url


@dataclass
class Settings:
    """Runtime configuration.

    Environment variables: ``DISASTER_HOME`` (instance folder, default ``./instance``),
    ``DISASTER_DATABASE_URL`` (default: SpatiaLite ``disaster.sqlite`` in the instance folder),
    ``DISASTER_SECRET_KEY`` (default: generated once and kept in the instance folder),
    ``DISASTER_TILE_URL`` (optional base tiles, e.g. 天地图 with a key),
    ``DISASTER_OGC_PUBLIC`` (OGC API collections readable without a token).
    """

    home: Path
    database_url: str
    secret_key: str
    tile_url: str | None = None
    tile_attribution: str | None = None
    secure_cookies: bool = False
    max_upload_bytes: int = 16 * 1024 * 1024
    # OGC API collections readable without a token (DISASTER_OGC_PUBLIC, comma-separated).
    ogc_public: tuple[str, ...] = ("shelters", "hazard-zones", "alerts")
    extra: dict[str, Any] = field(default_factory=dict)


def instance_home() -> Path:
    return Path(os.environ.get("DISASTER_HOME", "instance")).resolve()


def _secret_key(home: Path) -> str:
    if os.environ.get("DISASTER_SECRET_KEY"):
        return os.environ["DISASTER_SECRET_KEY"]
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(database_url: str | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment; explicit arguments win."""
    home = instance_home()
    url = database_url or os.environ.get("DISASTER_DATABASE_URL") or default_sqlite_url(home)
    settings = Settings(
        home=home,
        database_url=url,
        secret_key=_secret_key(home),
        tile_url=os.environ.get("DISASTER_TILE_URL") or None,
        tile_attribution=os.environ.get("DISASTER_TILE_ATTRIBUTION") or None,
        secure_cookies=os.environ.get("DISASTER_SECURE_COOKIES", "0") == "1",
    )
    if os.environ.get("DISASTER_OGC_PUBLIC") is not None:
        settings.ogc_public = tuple(c.strip() for c in os.environ["DISASTER_OGC_PUBLIC"].split(",")
                                    if c.strip())
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings
