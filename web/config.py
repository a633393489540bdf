"""Runtime configuration shared by the CLI, the web app and the scheduler.

Every environment variable is read by one typed object, :class:`gis.settings.Environment`
(pydantic-settings); :func:`load_settings` turns it into the :class:`Settings` of a process.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.db import default_sqlite_url, private_dir
from gis.settings import Environment, environment


@dataclass
class Settings:
    """The configuration of one process (see the README's configuration table)."""

    home: Path
    database_url: str
    secret_key: str
    tile_url: str | None = None
    tile_attribution: str | None = None
    secure_cookies: bool = False
    max_upload_bytes: int = 16 * 1024 * 1024
    ratelimit_storage_uri: str = "memory://"
    login_rate_limit: str = "30 per minute;300 per hour"
    retry_after_seconds: int = 10
    trusted_proxies: int = 0
    # OGC API collections readable without a token (DISASTER_OGC_PUBLIC, comma-separated).
    ogc_public: tuple[str, ...] = ("shelters", "hazard-zones", "alerts")
    extra: dict[str, Any] = field(default_factory=dict)


def instance_home(env: Environment | None = None) -> Path:
    """The instance folder (``DISASTER_HOME``, default ``./instance``)."""
    return (env or environment()).home.resolve()


def _secret_key(home: Path, env: Environment) -> str:
    if env.secret_key:
        return env.secret_key
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_dir(home)
    key = secrets.token_hex(32)
    # Created 0600 from the start: the key signs every session cookie.
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(database_url: str | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment; explicit arguments win."""
    env = environment()
    home = instance_home(env)
    private_dir(home)
    settings = Settings(
        home=home,
        database_url=database_url or env.database_url or default_sqlite_url(home),
        secret_key=_secret_key(home, env),
        tile_url=env.tile_url,
        tile_attribution=env.tile_attribution,
        secure_cookies=env.secure_cookies,
        max_upload_bytes=env.max_upload_bytes,
        ratelimit_storage_uri=env.ratelimit_storage_uri,
        login_rate_limit=env.login_rate_limit,
        retry_after_seconds=env.retry_after_seconds,
        trusted_proxies=env.trusted_proxies,
    )
    if env.ogc_public is not None:
        settings.ogc_public = tuple(c.strip() for c in env.ogc_public.split(",") if c.strip())
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings
