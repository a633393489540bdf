"""Declarative base, engines and sessions for SpatiaLite (embedded) and PostGIS (production).

Nothing here runs at import: callers build engines with :func:`make_engine`.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from gis.errors import SpatialiteMissing
from gis.settings import environment

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model; one metadata with a stable naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url_or_engine: Any) -> bool:
    """True when the URL or engine points at SQLite/SpatiaLite."""
    url = getattr(url_or_engine, "url", url_or_engine)
    return str(url).startswith("sqlite")


def _sqlite_module() -> Any:
    """The DB-API module that can load extensions.

    CPython builds such as python.org's and pyenv's often lack ``enable_load_extension``;
    ``pysqlite3-binary`` ships an SQLite that has it.
    """
    probe = sqlite3.connect(":memory:")
    try:
        if hasattr(probe, "enable_load_extension"):
            return sqlite3
    finally:
        probe.close()
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise SpatialiteMissing(
            "This Python's sqlite3 cannot load extensions; install pysqlite3-binary"
        ) from exc


def _load_spatialite(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.enable_load_extension(True)
    last: Exception | None = None
    candidates = [environment().spatialite_library_path, "mod_spatialite",
                  "/usr/lib/x86_64-linux-gnu/mod_spatialite.so",
                  "/usr/lib/aarch64-linux-gnu/mod_spatialite.so"]
    for path in filter(None, candidates):
        try:
            dbapi_conn.load_extension(path)
            break
        except Exception as exc:  # noqa: BLE001 - try the next location
            last = exc
    else:
        raise SpatialiteMissing(
            "SpatiaLite (mod_spatialite) could not be loaded; install the Debian package "
            f"libsqlite3-mod-spatialite ({last})"
        )
    dbapi_conn.enable_load_extension(False)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # WAL lets readers proceed while one writer holds the lock (no-op for :memory:).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("SELECT count(*) FROM sqlite_master WHERE name='spatial_ref_sys'")
    if cur.fetchone()[0] == 0:
        # InitSpatialMetaData(1) builds the metadata tables in one transaction (seconds, once).
        cur.execute("SELECT InitSpatialMetaData(1)")
    cur.close()


def _preload_geo_libraries() -> None:
    """Load the wheels' own GEOS/PROJ/GDAL before SpatiaLite brings the system ones.

    SQLite opens extensions with ``RTLD_GLOBAL``: once ``mod_spatialite`` is in, its GEOS and
    PROJ symbols are global, and a shapely or rasterio imported afterwards binds to them
    instead of to its own copies and crashes (segmentation fault in ``contains_xy`` or in
    GeoTIFF writing). Imported first, each keeps the copies it was built with.
    """
    for name in ("shapely", "pyproj", "rasterio", "rasterio.features", "rasterio.warp",
                 "pyogrio"):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library that is not installed cannot conflict
            continue


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create the folder ``path`` readable by its owner only (0700); an existing one is kept.

    The instance folder holds the database, the secret key and uploads: no other local
    account has any business reading them.
    """
    folder = Path(path)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask
    return folder


def _private_sqlite_file(url: str) -> None:
    """Create a missing SQLite database file as 0600 before SQLite creates it as 0644.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        private_dir(path.parent)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


def default_sqlite_url(home: str | os.PathLike[str]) -> str:
    """URL of the embedded database file ``disaster.sqlite`` in the instance folder."""
    path = Path(home).resolve() / "disaster.sqlite"
    private_dir(path.parent)
    return f"sqlite:///{path}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a SpatiaLite file or a PostGIS database.

    Parameters
    ----------
    url
        ``sqlite:///path`` for SpatiaLite, ``postgresql+psycopg://…`` for PostGIS.
    kwargs
        Passed to :func:`sqlalchemy.create_engine`.
    """
    if is_sqlite(url):
        _private_sqlite_file(url)
        _preload_geo_libraries()
        module = _sqlite_module()
        engine = create_engine(
            url,
            module=module,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        event.listen(engine, "connect", _load_spatialite)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_txn(dbapi_conn: Any, _rec: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself so that writes can take the lock up front.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # SQLite has one writer: BEGIN IMMEDIATE serialises writers instead of failing
            # them with "database is locked" half-way through a transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return _forget_connections_in_forked_children(engine)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.setdefault("pool_pre_ping", True)
    return _forget_connections_in_forked_children(create_engine(url, **kwargs))


def _forget_connections_in_forked_children(engine: Engine) -> Engine:
    # A process forked after the engine was used (gunicorn --preload, multiprocessing)
    # inherits its pooled connections; two processes talking over one connection corrupt
    # it. The child starts with an empty pool instead, leaving the parent's untouched.
    ref = weakref.ref(engine)

    def in_child() -> None:
        alive = ref()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=in_child)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; sessions do not expire objects on commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
