"""The console's geometry cache: fresh on added rows, never blocking on a stale layer, warm at
server start."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select

from disaster.areas import Area
from disaster.communities import Community
from tests.web.browser.dataset import Dataset, make_app
from web.api import geojson


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Dataset]]:
    app, data = make_app(database_url, tmp_path)
    yield app, data
    app.extensions["disaster_runtime"].engine.dispose()


def wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_added_rows_show_at_once(web):
    app, data = web
    sessions = app.extensions["disaster_runtime"].sessions
    cache = geojson.GeometryCache(sessions)
    with sessions() as session:
        before = cache.layer(session, Community)
        session.add(Community(code="341302001299", name="新村", township_code="341302001",
                              county_code="341302", population=10, households=4,
                              geom=from_shape(MultiPolygon([box(116.8, 33.5, 116.81, 33.51)]),
                                              srid=4326)))
        session.commit()
        after = cache.layer(session, Community)
    assert len(after.ids) == len(before.ids) + 1 == len(data.community_codes) + 1


def test_a_layer_past_its_ttl_is_served_while_it_is_reread_in_the_background(web):
    app, data = web
    sessions = app.extensions["disaster_runtime"].sessions
    cache = geojson.GeometryCache(sessions)
    with sessions() as session:
        stale = cache.layer(session, Community)
        # An in-place edit keeps the signature (row count, highest id): only the TTL shows it.
        row = session.scalar(select(Community).where(Community.code == data.xss_code))
        row.geom = from_shape(MultiPolygon([box(116.0, 33.0, 116.1, 33.1)]), srid=4326)
        session.commit()
        edited = int(row.id)
        stale.loaded_at -= geojson.TTL + 1
        served = cache.layer(session, Community)
        assert served is stale  # the request did not wait for the re-read
        session.rollback()  # a request ends (SQLite: the re-read waits for its write lock)

    def refreshed() -> bool:
        with sessions() as session:
            return cache.layer(session, Community) is not stale

    assert wait_for(refreshed)
    with sessions() as session:
        fresh = cache.layer(session, Community)
    position = list(fresh.ids).index(edited)
    assert fresh.bounds[position].tolist() == pytest.approx([116.0, 33.0, 116.1, 33.1])
    assert fresh.geoms[position].bounds == pytest.approx((116.0, 33.0, 116.1, 33.1))


def test_without_a_session_factory_a_stale_layer_is_reread_in_the_request(web):
    app, _data = web
    cache = geojson.GeometryCache()
    with app.extensions["disaster_runtime"].sessions() as session:
        stale = cache.layer(session, Area)
        stale.loaded_at -= geojson.TTL + 1
        assert cache.layer(session, Area) is not stale


def test_server_start_warms_outlines_and_communities_for_the_usual_zooms(web):
    app, data = web
    geojson.warm_in_background(app).join(timeout=60)
    with app.app_context():
        cache = geojson.cache()
        with app.extensions["disaster_runtime"].sessions() as session:
            layer = cache.layer(session, Community)
            assert cache.layer(session, Area).by_tolerance
    assert len(layer.ids) == len(data.community_codes)
    wanted = {round(geojson.zoom_tolerance(z), 9) for z in geojson.WARM_ZOOMS}
    assert wanted <= set(layer.by_tolerance)
    assert all(text is not None for key in wanted for text in layer.by_tolerance[key])


def _count_in_child(app: Flask, out) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), app.extensions["disaster_runtime"].sessions() as session:
        out.put(len(geojson.cache().layer(session, Community).ids))


# Forking a threaded process is what gunicorn --preload does; Python 3.12+ warns about it.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_worker_forked_after_warming_uses_the_cache_and_its_own_connections(web):
    # gunicorn --preload builds the app (and warms it) before forking the workers.
    app, data = web
    geojson.warm_in_background(app).join(timeout=60)
    with app.app_context():
        geojson.cache()._lock.acquire()  # as if a refresh were running at the fork
        try:
            context = multiprocessing.get_context("fork")
            out = context.Queue()
            child = context.Process(target=_count_in_child, args=(app, out), daemon=True)
            child.start()
            try:
                counted = out.get(timeout=60)
                child.join(timeout=60)
            finally:
                if child.is_alive():
                    child.kill()
        finally:
            geojson.cache()._lock.release()
    assert child.exitcode == 0
    assert counted == len(data.community_codes)
    with app.extensions["disaster_runtime"].sessions() as session:  # the parent's pool works
        assert len(geojson.GeometryCache().layer(session, Community).ids) == counted
