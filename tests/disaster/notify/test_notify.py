"""Officers are notified in the inbox, by e-mail and SMS; acknowledgements and escalation."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from disaster.access import Actor, Role
from disaster.errors import DisasterPermissionDenied
from disaster.notify import ack, dispatch
from disaster.notify.channels import HttpSmsChannel, InboxChannel, SmtpChannel
from disaster.notify.models import Delivery, Notification
from disaster.warnings.models import Acknowledgement, Alert, Escalation
from disaster.warnings.service import ingest_and_evaluate
from tests.disaster.warnings import world

T0 = world.START + dt.timedelta(hours=3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    box = _Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    yield box, ctl.port
    ctl.stop()


@pytest.fixture
def sms_gateway():
    received: list[dict] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_port}/send", status
    server.shutdown()
    server.server_close()


@pytest.fixture
def red_alerts(session, tmp_path):
    primaries = world.build(session)
    heavy = np.zeros((3, *world.GRID_SHAPE), dtype=np.float32)
    heavy[:, :, :11] = 40.0  # red over the west county only
    world.write_series(tmp_path / "g", heavy)
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"), now=T0)
    alerts = session.scalars(select(Alert)).all()
    assert len(alerts) == 1 and alerts[0].level.value == "red"
    return alerts[0], primaries


def test_alert_puts_a_notification_in_each_primary_officers_inbox(session, red_alerts):
    alert, primaries = red_alerts
    notes = session.scalars(select(Notification).where(Notification.reference == alert.identifier)).all()
    assert sorted(n.officer_id for n in notes) == sorted(primaries[c] for c in alert.communities)
    assert all(d.state == "delivered" for d in session.scalars(
        select(Delivery).where(Delivery.channel == "inbox")))
    inbox = dispatch.inbox(session, primaries[alert.communities[0]])
    assert inbox[0].subject == alert.headline and "暴雨红色预警" in inbox[0].subject


def test_email_and_sms_are_delivered_and_recorded(session, smtp, sms_gateway):
    box, port = smtp
    received, url, _ = sms_gateway
    officer_ids = world.build(session)
    some = list(officer_ids.values())[:3]
    notes = dispatch.send(session, officer_ids=some, subject="报告截止提醒", body="请于 09:00 前报送续报",
                          kind="report_due", reference="R-1", channels=["email", "sms"])
    assert len(notes) == 3
    channels = {"inbox": InboxChannel(), "email": SmtpChannel("127.0.0.1", port),
                "sms": HttpSmsChannel(url)}
    counts = dispatch.deliver_pending(session, channels)
    assert counts == {"sent": 6, "failed": 0, "retry": 0}
    assert len(box.messages) == 3 and box.messages[0].rcpt_tos[0].startswith("officer-")
    assert "报告截止提醒" in box.messages[0].content.decode("utf-8", "replace") or box.messages
    assert {r["to"][:3] for r in received} == {"138"} and received[0]["reference"] == "R-1"
    states = {(d.channel, d.state) for d in session.scalars(select(Delivery))}
    assert states == {("inbox", "delivered"), ("email", "sent"), ("sms", "sent")}


def test_failing_gateway_is_retried_then_marked_failed(session, sms_gateway):
    _, url, status = sms_gateway
    status["code"] = 500
    officer_ids = world.build(session)
    dispatch.send(session, officer_ids=[next(iter(officer_ids.values()))], subject="s", body="b",
                  kind="test", reference=None, channels=["sms"])
    for _ in range(dispatch.MAX_ATTEMPTS):
        dispatch.deliver_pending(session, {"sms": HttpSmsChannel(url)})
    d = session.scalar(select(Delivery).where(Delivery.channel == "sms"))
    assert d.state == "failed" and d.attempts == dispatch.MAX_ATTEMPTS and "500" in d.last_error


def test_officer_acknowledges_for_own_communities(session, red_alerts):
    alert, primaries = red_alerts
    code = alert.communities[0]
    officer = Actor(user_id=None, username="o", role=Role.INFO_OFFICER, scopes=frozenset({code}))
    acks = ack.acknowledge(session, officer, alert.id, now=T0 + dt.timedelta(minutes=2))
    assert [a.officer_id for a in acks] == [primaries[code]]
    status = ack.ack_status(session, alert)
    assert status["acknowledged"] == 1 and status["pending"] == len(alert.communities) - 1


def test_officer_of_another_county_may_not_acknowledge(session, red_alerts):
    alert, _ = red_alerts
    other = Actor(user_id=None, username="o", role=Role.INFO_OFFICER, scopes=frozenset({"341321"}))
    with pytest.raises(DisasterPermissionDenied):
        ack.acknowledge(session, other, alert.id)
    assert session.scalar(select(Acknowledgement.id)) is None


def test_acknowledgement_link_records_the_officer(session, red_alerts):
    alert, _primaries = red_alerts
    note = session.scalars(select(Notification).where(Notification.reference == alert.identifier)).first()
    row = ack.acknowledge_token(session, note.token, now=T0 + dt.timedelta(minutes=1))
    assert row.officer_id == note.officer_id and row.via == "link"


def test_unacknowledged_red_alert_escalates_to_the_backup_after_15_minutes(session, red_alerts):
    alert, _primaries = red_alerts
    acked = alert.communities[0]
    ack.acknowledge(session, Actor(None, "o", Role.INFO_OFFICER, frozenset({acked})), alert.id,
                    now=T0 + dt.timedelta(minutes=5))
    assert ack.escalate(session, now=T0 + dt.timedelta(minutes=14)) == 0
    assert ack.escalate(session, now=T0 + dt.timedelta(minutes=15)) == len(alert.communities) - 1
    assert ack.escalate(session, now=T0 + dt.timedelta(minutes=30)) == 0  # once only
    escalated = {e.community_code for e in session.scalars(select(Escalation))}
    assert escalated == set(alert.communities) - {acked}
    from disaster.officers import Officer
    backup = session.scalar(select(Officer).where(Officer.code == "OB341302001"))
    notes = session.scalars(select(Notification).where(Notification.officer_id == backup.id)).all()
    assert len(notes) == 1 and notes[0].kind == "escalation" and "未叫应" in notes[0].subject
    assert ack.ack_status(session, alert)["communities"][1]["escalated"]
