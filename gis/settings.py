"""Every environment variable the system reads, in one typed settings object.

``web.config`` builds the runtime configuration from it; domain modules (which must not
import ``web``) read their few values through :func:`environment`. Nothing is read at import:
each call reads the environment as it is then, so a changed variable is seen at once.
The README's configuration table lists each field (variable ``DISASTER_<FIELD>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "DISASTER_"


class Environment(BaseSettings):
    """The process environment, validated (a bad value fails naming the variable)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", case_sensitive=False)

    home: Path = Path("instance")
    database_url: str | None = None
    secret_key: str | None = None
    secure_cookies: bool = False
    max_upload_bytes: int = Field(16 * 1024 * 1024, gt=0)
    tile_url: str | None = None
    tile_attribution: str | None = None
    public_url: str | None = None
    # Imports and sample data.
    import_max_bytes: int | None = Field(None, gt=0)
    data_dir: Path | None = None
    # The warning kernel's compiled path can be switched off (debugging, odd CPUs).
    no_numba: bool = False
    # CAP identity of the issuing office (GB/T 35965.1 organisation and unit codes).
    cap_sender: str = "yjj.341300@warning.example.cn"
    cap_org: str = "000"
    cap_unit: str = "00000"
    # Notification channels: e-mail is off without a host, SMS without a gateway URL.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "warnings@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    sms_url: str | None = None
    sms_token: str | None = None
    # Delivery workers (``disaster deliver run`` and the scheduler's delivery job): threads per
    # channel, rows claimed at a time, the lease after which a dead worker's rows are taken
    # over, tries before a delivery is given up and the first retry delay (doubling).
    delivery_threads: int = Field(16, gt=0, le=256)
    delivery_batch: int = Field(200, gt=0)
    delivery_lease_seconds: float = Field(120.0, gt=0)
    delivery_max_attempts: int = Field(5, gt=0)
    delivery_backoff_seconds: float = Field(30.0, ge=0)
    # Per-channel sending rate of each delivery worker in messages per second, as agreed with
    # the gateway or mail relay (0: unlimited).
    sms_rate: float = Field(0.0, ge=0)
    smtp_rate: float = Field(0.0, ge=0)
    # Sign-in throttling: limiter storage (``memory://`` per process; ``redis://…`` or
    # ``memcached://…`` shared by several workers) and the per-client limit.
    ratelimit_storage_uri: str = "memory://"
    login_rate_limit: str = "30 per minute;300 per hour"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (the
    # client address is what sign-in throttling counts by).
    trusted_proxies: int = Field(0, ge=0)
    # OGC API collections readable without a token (comma-separated; unset: the default set).
    ogc_public: str | None = None
    # Seconds a client is told to wait while the database is unreachable (503).
    retry_after_seconds: int = Field(10, gt=0)
    # Not ours but SpatiaLite's conventional variable: where mod_spatialite lives.
    spatialite_library_path: str | None = Field(
        None, validation_alias=AliasChoices("SPATIALITE_LIBRARY_PATH", "spatialite_library_path"))

    @field_validator("database_url", "secret_key", "tile_url", "tile_attribution", "public_url",
                     "smtp_host", "smtp_user", "smtp_password", "sms_url", "sms_token",
                     "spatialite_library_path", "import_max_bytes", "data_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # ``export DISASTER_TILE_URL=`` means "not set", as shell users expect.
        return None if isinstance(value, str) and not value.strip() else value


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """The settings from ``env`` (default: the process environment, read now)."""
    if env is None:
        return Environment()
    # Only the DISASTER_ variables (and SpatiaLite's) of the given mapping, not os.environ.
    values = {k[len(PREFIX):].lower(): v for k, v in env.items() if k.upper().startswith(PREFIX)}
    if "SPATIALITE_LIBRARY_PATH" in env:
        values["spatialite_library_path"] = env["SPATIALITE_LIBRARY_PATH"]
    return _FromMapping(**values)


class _FromMapping(Environment):
    """Settings from an explicit mapping only (tests, one-off configurations)."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,  # type: ignore[no-untyped-def, override]
                                   dotenv_settings, file_secret_settings):
        return (init_settings,)
