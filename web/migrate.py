"""Run the Alembic migrations from code (``disaster init``) on either backend."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from gis.spatial import ensure_spatial_extension

# Found through the package, so an installed wheel finds its own copy (shipped as package data).
MIGRATIONS = Path(str(importlib.resources.files("web") / "migrations"))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at ``web/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the latest revision of every branch (idempotent)."""
    ensure_spatial_extension(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def current_heads(engine: Engine) -> set[str]:
    """Revisions the database is at."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
