"""open-meteo over HTTP (recorded format, errors, time-outs), cap-feed and stale sources."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from sqlalchemy import func, select

from disaster import jobs
from disaster.access import SYSTEM
from disaster.audit import AuditEntry
from disaster.warnings.cap import alert_xml
from disaster.warnings.models import Alert
from disaster.warnings.service import ingest_and_evaluate
from disaster.warnings.state import current_levels
from disaster.weather.ingest import ingest
from disaster.weather.models import UpstreamAlert, WeatherGrid, WeatherSource
from tests.disaster.warnings import world

NOW = dt.datetime(2020, 8, 1, 6, tzinfo=dt.UTC)


@pytest.fixture
def server():
    state = {"mode": "ok", "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["requests"] += 1
            if state["mode"] == "500":
                self.send_response(500)
                self.end_headers()
                return
            if state["mode"] == "slow":
                time.sleep(1.0)
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            lats = [float(v) for v in q["latitude"][0].split(",")]
            lons = [float(v) for v in q["longitude"][0].split(",")]
            docs = [_forecast(lat, lon) for lat, lon in zip(lats, lons, strict=True)]
            body = json.dumps(docs if len(docs) > 1 else docs[0]).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (time-out test)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", state
    srv.shutdown()
    srv.server_close()


def _forecast(lat: float, lon: float) -> dict:
    """Open-Meteo's recorded response format; heavy rain east of 117.09°E in hours 4–6."""
    times = [(dt.datetime(2020, 8, 1) + dt.timedelta(hours=k)).strftime("%Y-%m-%dT%H:%M")
             for k in range(12)]
    rain = [0.0] * 12
    if lon > 117.09:
        rain[4:7] = [20.0, 25.0, 15.5]
    return {"latitude": lat, "longitude": lon, "generationtime_ms": 0.5, "utc_offset_seconds": 0,
            "timezone": "GMT", "hourly_units": {"time": "iso8601", "precipitation": "mm"},
            "hourly": {"time": times, "precipitation": rain, "temperature_2m": [26.0] * 12,
                       "wind_speed_10m": [3.0] * 11 + [None]}}


def test_open_meteo_forecast_warns_the_communities_it_covers(session, server):
    url, _ = server
    world.build(session)
    report, counts = ingest_and_evaluate(session, "open-meteo", url, now=NOW)
    assert not report.errors and report.stored > 0
    levels = {c: by_h["rainstorm"].value for c, by_h in current_levels(session).items()}
    east = {r["code"] for r in world.community_records() if r["county_code"] == "341321"}
    assert set(levels) == east and set(levels.values()) == {"orange"}  # 60.5 mm in 3 h
    assert counts["issued"] == 1


def test_http_500_is_retried_then_logged_and_nothing_is_ingested(session, server, caplog):
    url, state = server
    state["mode"] = "500"
    world.build(session)
    with caplog.at_level(logging.ERROR, logger="disaster.weather"):
        report = ingest(session, "open-meteo", url, now=NOW, options={"retries": 3})
    assert state["requests"] == 3
    assert report.stored == 0 and "HTTP 500" in report.errors[0] and url in report.errors[0]
    assert url in caplog.text
    assert session.scalar(select(func.count(WeatherGrid.id))) == 0


def test_time_out_is_an_error_naming_the_source(session, server):
    url, state = server
    state["mode"] = "slow"
    world.build(session)
    report = ingest(session, "open-meteo", url, now=NOW, options={"timeout": 0.2, "retries": 2})
    assert report.stored == 0 and url in report.errors[0] and "timed out" in report.errors[0].lower()


def _cap(identifier: str, area: str, msg_type: str = "Alert", event: str = "暴雨橙色预警",
         refs: str = "") -> str:
    references = f"<references>{refs}</references>" if refs else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>cma@example.cn</sender>
  <sent>2020-08-01T10:00:00+08:00</sent><status>Actual</status><msgType>{msg_type}</msgType>
  <scope>Public</scope>{references}
  <info><category>Met</category><event>{event}</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Likely</certainty>
    <expires>2020-08-02T10:00:00+08:00</expires>
    <area><areaDesc>test</areaDesc>{area}</area></info>
</alert>"""


def test_cap_feed_maps_polygon_circle_and_geocode_and_names_invalid_files(session, tmp_path):
    world.build(session)
    (tmp_path / "a.xml").write_text(_cap("A1", "<polygon>33.60,117.00 33.63,117.00 33.63,117.03 "
                                               "33.60,117.03 33.60,117.00</polygon>"))
    (tmp_path / "b.xml").write_text(_cap("B1", "<circle>33.705,117.165 2.0</circle>",
                                         event="大风黄色预警"))
    (tmp_path / "c.xml").write_text(_cap("C1", "<geocode><valueName>GB/T 2260</valueName>"
                                               "<value>341321</value></geocode>", event="大雾蓝色预警"))
    (tmp_path / "bad.xml").write_text("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>"
                                      "<identifier>X</identifier></alert>")
    (tmp_path / "broken.xml").write_text("<alert><unclosed></alert>")
    report, counts = ingest_and_evaluate(session, "cap-feed", str(tmp_path), now=NOW)
    assert report.alerts == 3
    assert any("bad.xml" in e and "missing" in e for e in report.errors)
    assert any("broken.xml" in e for e in report.errors)
    levels = current_levels(session)
    assert {c for c, h in levels.items() if "rainstorm" in h} == {"341302001200"}
    assert {c for c, h in levels.items() if "gale" in h} == {"341321001223"}
    fog = {c for c, h in levels.items() if "fog" in h}
    assert fog == {r["code"] for r in world.community_records() if r["county_code"] == "341321"}
    assert counts["issued"] == 3
    # the upstream Cancel ends our warning on the next evaluation
    (tmp_path / "d.xml").write_text(_cap("A2", "", msg_type="Cancel",
                                         refs="cma@example.cn,A1,2020-08-01T10:00:00+08:00"))
    _, counts = ingest_and_evaluate(session, "cap-feed", str(tmp_path), now=NOW + dt.timedelta(hours=1))
    assert counts["cancelled"] == 1
    assert not any("rainstorm" in h for h in current_levels(session).values())
    assert session.scalar(select(UpstreamAlert.status).where(UpstreamAlert.identifier == "A1")) == "cancelled"


def test_our_own_cap_export_reads_back_through_cap_feed(session, tmp_path):
    world.build(session)
    world.write_series(tmp_path / "g", np.full((3, *world.GRID_SHAPE), 20.0, np.float32))
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"), now=world.START + dt.timedelta(hours=3))
    for a in session.scalars(select(Alert)):
        (tmp_path / "cap" ).mkdir(exist_ok=True)
        (tmp_path / "cap" / f"{a.identifier}.xml").write_bytes(alert_xml(session, a))
    report = ingest(session, "cap-feed", str(tmp_path / "cap"), now=NOW)
    assert not report.errors and report.alerts == 2
    up = session.scalars(select(UpstreamAlert)).all()
    assert {u.level for u in up} == {"orange"} and {u.hazard for u in up} == {"rainstorm"}
    assert sum(len(u.communities) for u in up) == 25


def test_a_silent_feed_goes_stale_and_says_so(session, caplog):
    src = jobs.add_source(session, SYSTEM, name="cma", provider="cap-feed", source="/nowhere",
                          stale_after_minutes=30)
    src.last_success_at = src.last_data_at = NOW
    with caplog.at_level(logging.WARNING, logger="disaster.jobs"):
        assert jobs.mark_stale(session, NOW + dt.timedelta(minutes=20)) == []
        assert jobs.mark_stale(session, NOW + dt.timedelta(minutes=31)) == ["cma"]
    assert "cma" in caplog.text and "no new data" in caplog.text
    assert session.get(WeatherSource, src.id).status == "stale"
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "weather.stale"))
