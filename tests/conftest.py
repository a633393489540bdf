"""Databases for both backends: every database test runs on SpatiaLite and on PostGIS.

- ``DISASTER_TEST_BACKENDS`` (``spatialite,postgis`` by default) picks the backends.
- ``DISASTER_TEST_POSTGIS_URL`` points at a server with PostGIS available (any database on it;
  the tests create their own). Without it a throwaway cluster is started
  (:mod:`tests.pg_cluster`). In CI (``CI=true``) a PostGIS that cannot be had fails the run
  instead of skipping.
- ``session``: a session in a transaction rolled back after the test.
- ``database_url``: a fresh, migrated database of its own for tests that need committed data
  seen by other connections (web server, threads, processes).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from gis.db import make_engine
from web.migrate import upgrade
from web.models import import_all_models

import_all_models()

BACKENDS = [b.strip() for b in os.environ.get("DISASTER_TEST_BACKENDS",
                                              "spatialite,postgis").split(",") if b.strip()]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Backend:
    """Creates migrated databases on one backend, cloned from a template for speed."""

    name: str

    def new_url(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class SpatialiteBackend(Backend):
    name = "spatialite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.sqlite"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file

    def new_url(self) -> str:
        path = self.root / f"db-{uuid.uuid4().hex[:8]}.sqlite"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


class PostgisBackend(Backend):
    name = "postgis"

    def __init__(self, server_url: str) -> None:
        self.server = make_url(server_url).set(drivername="postgresql+psycopg")
        self.admin = sa.create_engine(self.server.set(database="postgres"),
                                      isolation_level="AUTOCOMMIT")
        self.prefix = f"dt_{uuid.uuid4().hex[:8]}"
        self.template = f"{self.prefix}_tmpl"
        self.created: list[str] = []
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        engine = make_engine(self.server.set(database=self.template).render_as_string(False))
        upgrade(engine)
        engine.dispose()

    def new_url(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_server() -> Iterator[str | None]:
    url = os.environ.get("DISASTER_TEST_POSTGIS_URL")
    if url:
        yield url
        return
    from tests.pg_cluster import start_cluster

    cluster = None
    try:
        cluster = start_cluster()
    except Exception as exc:  # noqa: BLE001 - reported below
        if IN_CI:
            pytest.fail(f"could not start a PostgreSQL cluster for PostGIS tests: {exc}")
    if cluster is None:
        if IN_CI:
            pytest.fail("PostgreSQL is not installed; PostGIS tests cannot run in CI")
        yield None
        return
    try:
        yield cluster.url
    finally:
        cluster.stop()


_backends: dict[str, Backend] = {}


@pytest.fixture(scope="session")
def _backend_registry(tmp_path_factory: pytest.TempPathFactory,
                      _pg_server: str | None) -> Iterator[Callable[[str], Backend]]:
    def get(name: str) -> Backend:
        if name not in _backends:
            if name == "spatialite":
                _backends[name] = SpatialiteBackend(tmp_path_factory.mktemp("spatialite"))
            else:
                if _pg_server is None:
                    pytest.skip("no PostgreSQL available for the PostGIS backend")
                try:
                    _backends[name] = PostgisBackend(_pg_server)
                except Exception as exc:  # noqa: BLE001 - reported as skip or failure
                    if IN_CI:
                        pytest.fail(f"PostGIS backend unavailable: {exc}")
                    pytest.skip(f"PostGIS backend unavailable: {exc}")
        return _backends[name]

    yield get
    for backend in _backends.values():
        backend.close()
    _backends.clear()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, _backend_registry: Callable[[str], Backend]) -> Backend:
    """The backend under test (parametrised: each database test runs on both)."""
    return _backend_registry(request.param)


@pytest.fixture(scope="session")
def engine(backend: Backend) -> Iterator[Engine]:
    """One migrated database per backend, shared by the rolled-back ``session`` tests."""
    eng = make_engine(backend.new_url())
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    transaction = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint",
                   expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def database_url(backend: Backend) -> str:
    """A fresh migrated database of this test's own (committed data is visible to everyone)."""
    return backend.new_url()


@pytest.fixture
def backend_name(backend: Backend) -> str:
    return backend.name


@pytest.fixture
def cli_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """Every runtime a CLI command builds in this test; their engines are disposed after it.

    Each ``disaster`` command builds its own engine: without this, connections (and on
    PostGIS, server backends) would outlive the test.
    """
    from web.commands import common

    runtimes: list = []
    original = common.build_runtime

    def tracked(settings):  # type: ignore[no-untyped-def]
        runtimes.append(original(settings))
        return runtimes[-1]

    monkeypatch.setattr(common, "build_runtime", tracked)
    yield runtimes
    for runtime in runtimes:
        runtime.engine.dispose()
