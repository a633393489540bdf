"""叫应 over HTTP: a duty officer records a phoned acknowledgement for an officer covering the
alert (anyone else is a 422 naming officer_id, never a 500); who, when and by which channel
is listed; events are opened and closed with declared bodies."""

from __future__ import annotations

import datetime as dt

import pytest

from disaster.access import cli_actor
from disaster.accounts import add_user, issue_token
from disaster.warnings import alerts as alerts_mod
from disaster.warnings.levels import Hazard, WarningLevel
from tests.disaster.warnings import world
from web.app import create_app

A, B, FAR = "341302001200", "341302001201", "341321001205"


@pytest.fixture
def api(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    sessions = app.extensions["disaster_runtime"].sessions
    with sessions() as s:
        primaries = world.build(s)
        add_user(s, cli_actor(), "duty", "duty_officer")
        add_user(s, cli_actor(), "officer", "info_officer", scopes=[A])
        desired = alerts_mod.Desired({A: WarningLevel.YELLOW, B: WarningLevel.YELLOW})
        alerts_mod.apply_levels(s, {Hazard.RAINSTORM: desired},
                                dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30))
        tokens = {n: issue_token(s, cli_actor(), n) for n in ("duty", "officer")}
        s.commit()
    client = app.test_client()

    def call(method: str, url: str, who: str = "duty", **kwargs):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {tokens[who]}", "Accept-Language": "zh-CN"}
        return client.open(url, method=method, headers=headers, **kwargs)

    alert_id = call("GET", "/api/v1/alerts?status=active").json[0]["id"]
    call.sessions = sessions  # type: ignore[attr-defined]
    yield call, alert_id, primaries
    app.extensions["disaster_runtime"].engine.dispose()


def test_duty_officer_must_name_a_covering_officer(api):
    call, alert_id, primaries = api
    url = f"/api/v1/alerts/{alert_id}/ack"
    missing = call("POST", url, json={})
    assert missing.status_code == 422
    assert missing.json["error"]["message"] == "请选择要记录叫应的信息员"
    assert missing.json["error"]["field_codes"] == {"officer_id": ["required"]}
    for wrong in (primaries[FAR], 987_654):
        refused = call("POST", url, json={"officer_id": wrong})
        assert refused.status_code == 422, refused.json
        assert refused.json["error"]["fields"] == {"officer_id": ["不是此预警涉及村（社区）的信息员"]}
    bad = call("POST", url, json={"officer_id": "张伟"})
    assert bad.status_code == 422 and "officer_id" in bad.json["error"]["fields"]


def test_phoned_acknowledgement_is_listed_with_name_time_and_channel(api):
    call, alert_id, primaries = api
    offered = call("GET", f"/api/v1/alerts/{alert_id}/officers").json
    mine = next(o for o in offered if o["id"] == primaries[A])
    assert mine["name"] == "信息员200"
    assert mine["communities"] == [{"code": A, "name": "测试00村", "township": "埇桥区一镇",
                                    "role": "primary"}]
    assert call("GET", f"/api/v1/alerts/{alert_id}/officers", who="officer").status_code == 403
    done = call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"officer_id": primaries[A]})
    assert done.status_code == 200
    assert done.json == {"alert": alert_id, "acknowledged": [primaries[A]],
                         "officers": ["信息员200"], "via": "phone"}
    listed = call("GET", "/api/v1/alerts?status=active&acks=1").json[0]["acknowledgement"]
    row = next(c for c in listed["communities"] if c["community"] == A)
    assert row["acknowledged"] and (row["name"], row["township"]) == ("测试00村", "埇桥区一镇")
    by = row["acknowledged_by"][0]
    assert (by["officer"], by["via"], by["level"]) == ("信息员200", "phone", "yellow")
    assert dt.datetime.fromisoformat(by["at"]).tzinfo is not None
    assert listed["acknowledged"] == 1 and listed["pending"] == 1


def test_information_officer_acknowledges_as_before(api):
    call, alert_id, primaries = api
    done = call("POST", f"/api/v1/alerts/{alert_id}/ack", who="officer")
    assert done.status_code == 200 and done.json["acknowledged"] == [primaries[A]]
    assert done.json["via"] == "api"


def test_events_are_opened_and_closed_with_declared_bodies(api):
    call, _alert_id, _ = api
    garbled = call("POST", "/api/v1/events", json={"hazard": "rainstorm",
                                                    "started_at": "2026-07-10 早上"})
    assert garbled.status_code == 422 and "started_at" in garbled.json["error"]["fields"]
    future = call("POST", "/api/v1/events", json={"hazard": "rainstorm",
                                                   "started_at": "2999-01-01T00:00:00+08:00"})
    assert future.status_code == 422
    assert future.json["error"]["fields"] == {"started_at": ["不能晚于当前时间"]}
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    opened = call("POST", "/api/v1/events", json={"hazard": "rainstorm", "name": "7·10 暴雨",
                                                   "started_at": start})
    assert opened.status_code == 201 and opened.json["status"] == "open"
    url = f"/api/v1/events/{opened.json['id']}/close"
    early = call("POST", url, json={"ended_at": "2000-01-01T00:00:00+00:00"})
    assert early.status_code == 422 and early.json["error"]["fields"] == {
        "ended_at": ["早于事件开始时间"]}
    assert call("POST", url, who="officer").status_code == 403
    closed = call("POST", url)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    again = call("POST", url)
    assert again.status_code == 409 and again.json["error"]["message"] == "事件“7·10 暴雨”已经结束"


def test_the_chase_list_outlives_the_warnings_until_the_event_closes(api):
    call, _alert_id, _ = api
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    event = call("POST", "/api/v1/events", json={"hazard": "rainstorm", "started_at": start}).json

    def run(levels):  # type: ignore[no-untyped-def]
        with call.sessions() as s:
            alerts_mod.apply_levels(s, {Hazard.RAINSTORM: alerts_mod.Desired(levels)},
                                    dt.datetime.now(dt.UTC))
            s.commit()

    def chase():  # type: ignore[no-untyped-def]
        doc = call("GET", "/api/v1/assessment?only_affected=1").json
        return doc["silent"], {r["code"]: r["modelled"]["affected_people"]
                               for r in doc["communities"]}

    run({A: WarningLevel.ORANGE})
    silent, affected = chase()
    assert A in silent and affected[A] > 0
    run({A: None, B: None})  # the warnings lift; the event is still open
    assert call("GET", "/api/v1/alerts?status=active").json == []
    assert chase() == (silent, affected)
    call("POST", f"/api/v1/events/{event['id']}/close")
    assert chase() == ([], {})
