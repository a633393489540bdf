"""The demo storm replayed fast up to its peak on the 宿州 sample, for the browser tests that
look at the system as it is during a real rainstorm (peak screenshot, translation sweep)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from disaster import jobs
from disaster.events import DisasterEvent
from disaster.reports import deadlines
from disaster.warnings.models import Alert, AlertStatus
from disaster.weather.models import WeatherSource
from tests.web.browser.dataset import csrf_from
from web.app import create_app
from web.commands import demo
from web.config import Settings
from web.runtime import build_runtime
from web.server import ServerThread

PEAK_RUNS = 8  # the first run evaluates the start hour; red is in force from about run 6 to 10


@contextmanager
def storm_server(url: str, home: Path, plans: bool = True) -> Iterator[dict[str, Any]]:
    """Serve the 宿州 sample with the storm replayed to its peak (and, with ``plans``, the
    duty officer's evacuation and dispatch plans and one field report filed).

    Yields ``{"url", "users": {username: password}, "levels", "event", "community"}``.
    """
    settings = Settings(home=home, database_url=url, secret_key="storm-test")
    runtime = build_runtime(settings)
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - \
        dt.timedelta(hours=PEAK_RUNS + 2)
    info = demo.prepare_demo(runtime, hour_seconds=1, start=start)
    jobs.configure(runtime.sessions)
    with runtime.sessions() as s:
        source_id = s.scalar(select(WeatherSource.id).where(WeatherSource.name == demo.SOURCE))
    for _ in range(PEAK_RUNS):
        assert jobs.run_source(source_id) is not None
        with runtime.sessions() as s:
            deadlines.run_deadline_job(s, jobs.clock(s), send=lambda *a, **k: None)
            s.commit()
    with runtime.sessions() as s:
        levels = {getattr(v, "value", v) for v in s.scalars(
            select(Alert.level).where(Alert.status == AlertStatus.ACTIVE))}
        event = s.scalar(select(DisasterEvent.code).order_by(DisasterEvent.id))
    users = {u["username"]: u["password"] for u in info["users"]}
    app = create_app(settings)
    community = None
    if plans:
        community = _plans_and_report(app, users)
    try:
        with ServerThread(app) as running:
            yield {"url": running.url, "users": users, "levels": levels, "event": event,
                   "community": community}
    finally:
        runtime.engine.dispose()
        app.extensions["disaster_runtime"].engine.dispose()


def _signed_in(app: Any, username: str, password: str) -> tuple[Any, str]:
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client, csrf_from(client.get("/inbox/").get_data(as_text=True))


def _plans_and_report(app: Any, users: dict[str, str]) -> str:
    duty, token = _signed_in(app, "duty", users["duty"])
    for path in ("/api/v1/evacuation/plans", "/api/v1/dispatch/plans"):
        response = duty.post(path, json={}, headers={"X-CSRFToken": token})
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
    officer, token = _signed_in(app, "officer", users["officer"])
    own = officer.get("/api/v1/communities").get_json()
    codes = sorted(f["properties"]["code"] for f in own["features"]
                   if f["properties"]["code"].startswith("341302001"))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    response = officer.post("/api/v1/reports", headers={"X-CSRFToken": token,
                                                        "Idempotency-Key": "sweep-1"},
                            json={"community": codes[0], "kind": "initial", "hazard": "rainstorm",
                                  "occurred_at": now.isoformat(), "affected_people": 120,
                                  "evacuated": 30})
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    return codes[0]
