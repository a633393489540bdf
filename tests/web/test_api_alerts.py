"""Alert endpoints: JSON list, CAP XML, Atom feed, acknowledgement by the officer in scope."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from lxml import etree

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from disaster.warnings.service import ingest_and_evaluate
from tests.disaster.warnings import world
from tests.disaster.warnings.test_cap import SCHEMA
from web.app import create_app


@pytest.fixture
def api(database_url, tmp_path):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    heavy = np.zeros((3, *world.GRID_SHAPE), dtype=np.float32)
    heavy[:, :, :11] = 40.0  # red over 埇桥区 (341302) only
    world.write_series(tmp_path / "g", heavy)
    with sessions() as s:
        world.build(s)
        add_user(s, cli_actor(), "duty", "duty_officer")
        add_user(s, cli_actor(), "officer", "info_officer", scopes=["341302001"])
        add_user(s, cli_actor(), "faraway", "info_officer", scopes=["341321"])
        ingest_and_evaluate(s, "grid-files", str(tmp_path / "g"),
                            now=world.START + dt.timedelta(hours=3))
        tokens = {n: issue_token(s, cli_actor(), n) for n in ("duty", "officer", "faraway")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "duty", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return client.open(url, method=method, headers=headers, **kwargs)

    yield call, client
    app.extensions["disaster_runtime"].engine.dispose()


def test_alert_endpoints_need_a_signed_in_user(api):
    _, client = api
    for url in ("/api/v1/alerts", "/api/v1/alerts/1.xml", "/api/v1/alerts/feed.atom"):
        assert client.get(url).status_code == 401
    assert client.post("/api/v1/alerts/1/ack").status_code == 401


def test_active_alerts_are_listed_in_the_contract_shape(api):
    call, _ = api
    data = call("GET", "/api/v1/alerts?status=active").json
    assert len(data) == 1
    a = data[0]
    assert {"id", "identifier", "hazard", "level", "status", "msg_type", "communities", "sent",
            "expires", "references"} <= set(a)
    assert (a["hazard"], a["level"], a["status"], a["msg_type"]) == ("rainstorm", "red", "active", "Alert")
    assert len(a["communities"]) == 12
    assert call("GET", "/api/v1/alerts?status=bogus").status_code == 422


def test_cap_document_and_feed_are_served(api):
    call, _ = api
    alert_id = call("GET", "/api/v1/alerts").json[0]["id"]
    xml = call("GET", f"/api/v1/alerts/{alert_id}.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/cap+xml"
    assert SCHEMA.validate(etree.fromstring(xml.data))
    feed = call("GET", "/api/v1/alerts/feed.atom")
    assert feed.mimetype == "application/atom+xml" and f"/api/v1/alerts/{alert_id}.xml".encode() in feed.data
    assert call("GET", "/api/v1/alerts/999.xml").status_code == 404


def test_officer_acknowledges_own_communities_and_the_console_sees_it(api):
    call, _ = api
    alert_id = call("GET", "/api/v1/alerts").json[0]["id"]
    assert call("POST", f"/api/v1/alerts/{alert_id}/ack", who="faraway").status_code == 403
    response = call("POST", f"/api/v1/alerts/{alert_id}/ack", who="officer")
    assert response.status_code == 200, response.json
    assert len(response.json["acknowledged"]) == 12  # all of 341302001's communities
    status = call("GET", f"/api/v1/alerts/{alert_id}/acks").json
    assert status["acknowledged"] == 12 and status["pending"] == 0


def test_acknowledgement_link_shows_the_alert_and_acknowledges_only_on_post(api, database_url):
    import re

    from sqlalchemy import select

    from disaster.notify.models import Notification
    from disaster.warnings.models import Acknowledgement
    from gis.db import make_engine, make_session_factory

    _call, client = api
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        token = s.scalars(select(Notification.token)).first()
    page = client.get(f"/alerts/ack/{token}")
    assert page.status_code == 200 and "暴雨红色预警" in page.get_data(as_text=True)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(Acknowledgement.id)) is None  # a GET (link preview) records nothing
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    done = client.post(f"/alerts/ack/{token}", data={"csrf_token": csrf.group(1) if csrf else ""})
    assert done.status_code == 200
    with make_session_factory(engine)() as s:
        row = s.scalars(select(Acknowledgement)).one()
        assert row.via == "link"
    assert client.get("/alerts/ack/not-a-token").status_code == 404
    engine.dispose()


def test_duty_officer_reads_an_officers_inbox_and_officers_only_their_own(api, database_url):
    from sqlalchemy import select

    from disaster.officers import Officer
    from gis.db import make_engine, make_session_factory

    call, _ = api
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        officer_id = s.scalar(select(Officer.id).where(Officer.code == "OF341302001200"))
    engine.dispose()
    notes = call("GET", f"/api/v1/notifications?officer_id={officer_id}").json
    assert len(notes) == 1 and notes[0]["kind"] == "alert"
    assert {"channel": "inbox", "state": "delivered", "attempts": 0} in notes[0]["deliveries"]
    assert call("GET", f"/api/v1/notifications?officer_id={officer_id}", who="faraway").status_code == 403
    assert call("GET", "/api/v1/notifications", who="officer").json == []  # no officer linked
