"""The engine and session factory of one process, built from :class:`web.config.Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gis.db import make_engine, make_session_factory
from web.config import Settings
from web.models import import_all_models


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def build_runtime(settings: Settings) -> Runtime:
    """Create the engine (SpatiaLite or PostGIS by URL) and its session factory."""
    import_all_models()
    engine = make_engine(settings.database_url)
    return Runtime(settings, engine, make_session_factory(engine))
