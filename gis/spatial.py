"""Backend-specific SQL (SpatiaLite versus PostGIS): the only module that knows the difference."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from gis.db import is_sqlite


def ensure_spatial_extension(engine: Engine) -> None:
    """Make sure PostGIS is enabled (SpatiaLite is loaded on every connection instead)."""
    if is_sqlite(engine):
        return
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))


def backend_name(bind: Engine | Connection | Session) -> str:
    """``spatialite`` or ``postgis``."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    dialect = bind.dialect.name
    return "spatialite" if dialect == "sqlite" else "postgis"


def for_update(stmt: Any, bind: Session) -> Any:
    """Lock the selected rows until commit on PostGIS.

    SQLite needs no row lock: every transaction starts with ``BEGIN IMMEDIATE`` (see
    :func:`gis.db.make_engine`), so writers are serialised.
    """
    if backend_name(bind) == "postgis":
        return stmt.with_for_update()
    return stmt


def claim_rows(stmt: Any, bind: Session | Connection) -> Any:
    """Lock the selected rows, skipping those another transaction holds (work queues).

    PostGIS: ``FOR UPDATE SKIP LOCKED``, so several workers claim disjoint rows at once.
    SQLite: unchanged; ``BEGIN IMMEDIATE`` lets one claiming transaction run at a time.
    """
    if backend_name(bind) == "postgis":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def holds_row_locks(bind: Session | Connection) -> bool:
    """Whether a transaction may stay open during network I/O without blocking other writers.

    True on PostGIS (row locks); false on SQLite, whose one write lock would serialise all.
    """
    return backend_name(bind) == "postgis"


def reserve_ids(session: Session, table: str, n: int) -> list[int]:
    """``n`` new primary keys of ``table`` (its ``id`` column), for bulk inserts without RETURNING.

    PostGIS: from the column's sequence (safe with concurrent writers). SQLite: after the
    largest id, safe because every transaction holds the one write lock (``BEGIN IMMEDIATE``).
    """
    if n <= 0:
        return []
    if backend_name(session) == "postgis":
        return list(session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": n}))
    top = session.scalar(text(f'SELECT coalesce(max(id), 0) FROM "{table}"'))
    return list(range(int(top) + 1, int(top) + 1 + n))


def try_advisory_lock(conn: Connection, key: int) -> bool:
    """Take a session-level advisory lock on PostGIS (leader election); SQLite: always true."""
    if backend_name(conn) == "spatialite":
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def still_connected(conn: Connection) -> bool:
    """Whether a leader's connection (and so its session-level advisory lock) is alive.

    On PostGIS a round trip tells; SQLite has no server to lose.
    """
    if backend_name(conn) == "spatialite":
        return True
    try:
        conn.execute(text("SELECT 1"))
        conn.commit()
    except Exception:  # noqa: BLE001 - any failure means the lock may be gone
        return False
    return True


def communities_mvt(session: Session, z: int, x: int, y: int, levels: dict[str, str],
                    extent: int = 4096, buffer: int = 64) -> bytes | None:
    """One Mapbox Vector Tile (layer ``communities``) of WebMercatorQuad tile z/x/y by PostGIS
    ``ST_AsMVT``; ``None`` on SpatiaLite, which has no encoder (the caller encodes in Python).

    ``levels`` (community code → warning level) joins the current warning levels in, so that
    they come from the warnings area's own read path rather than from SQL of their own here.
    """
    if backend_name(session) != "postgis":
        return None
    import json

    sql = text("""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                               ST_TileEnvelope(:z, :x, :y, margin => :margin) AS wide),
        tile AS (
            SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), bounds.env, :extent, :buffer, true)
                       AS geom,
                   c.code, c.name, c.township_code, c.county_code, c.population,
                   l.value AS warning_level
            FROM communities c CROSS JOIN bounds
            LEFT JOIN json_each_text(CAST(:levels AS json)) l ON l.key = c.code
            WHERE c.geom && ST_Transform(bounds.wide, 4326))
        SELECT ST_AsMVT(tile.*, 'communities', :extent, 'geom') FROM tile WHERE geom IS NOT NULL
    """)
    data = session.execute(sql, {"z": z, "x": x, "y": y, "margin": buffer / extent,
                                 "extent": extent, "buffer": buffer,
                                 "levels": json.dumps(levels)}).scalar()
    return bytes(data or b"")
