"""Delivery workers send concurrently over kept connections, at the set rate, retry with
backoff, give up with the reason, and take over a dead worker's rows without a second send.

Each test has a database of its own (committed rows, several connections), a local fake SMS
gateway (``http.server`` on 127.0.0.1) and the local aiosmtpd mailbox.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from disaster.notify import dispatch
from disaster.notify.channels import HttpSmsChannel, SmtpChannel
from disaster.notify.models import Delivery
from disaster.notify.worker import DeliveryWorker, WorkerConfig
from disaster.officers import Officer
from gis.db import make_engine, make_session_factory, unit_of_work
from tests.disaster.warnings import world
from tests.mailbox import smtp_server
from tests.sms_gateway import FakeGateway

T0 = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def gateway():
    gw = FakeGateway()
    yield gw
    gw.close()


@pytest.fixture
def mailbox():
    with smtp_server() as (box, port):
        yield box, port


@pytest.fixture
def queued(database_url):
    """Every officer of the small world notified by e-mail and SMS: 27 of each queued."""
    engine = make_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        world.build(session)
        notes = dispatch.send(session, officer_ids=session.scalars(select(Officer.id)).all(),
                              subject="暴雨红色预警", body="请立即组织转移", kind="alert",
                              reference="W-1", channels=["email", "sms"], now=T0)
        assert len(notes) == 27
    yield engine
    engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _states(engine) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.execute(select(Delivery.channel, Delivery.state)).all())


def _worker(engine, gateway, port=None, *, clock=None, name=None, **config) -> DeliveryWorker:
    channels = {"sms": HttpSmsChannel(gateway.url)}
    if port is not None:
        channels["email"] = SmtpChannel("127.0.0.1", port)
    return DeliveryWorker(engine, channels, config=WorkerConfig(**config), name=name,
                          clock=clock or Clock())


def test_worker_sends_concurrently_over_kept_connections(queued, gateway, mailbox):
    box, port = mailbox
    gateway.delay = 0.2
    worker = _worker(queued, gateway, port, threads=9)
    try:
        started = time.monotonic()
        counts = worker.run_until_idle()
        elapsed = time.monotonic() - started
    finally:
        worker.close()
    assert counts["sent"] == 54 and counts["failed"] == 0
    # one after another 27 SMS would take 27 × 0.2 s = 5.4 s; nine at a time about 0.6 s
    assert elapsed < 3.0
    assert len(gateway.connections) <= 9  # keep-alive: one connection per thread
    assert len({m.mail_from for m in box.messages}) == 1 and len(box.messages) == 27
    assert sorted(gateway.delivered.values()) == [1] * 27
    assert all(p["reference"] == "W-1" and p["id"].startswith("dlv-") for p in gateway.posts)
    assert _states(queued) == Counter({("inbox", "delivered"): 27, ("email", "sent"): 27,
                                       ("sms", "sent"): 27})


def test_worker_keeps_to_the_channel_rate_set_by_the_administrator(queued, gateway):
    worker = _worker(queued, gateway, threads=8, rates={"sms": 20.0})
    try:
        started = time.monotonic()
        worker.run_until_idle()
        elapsed = time.monotonic() - started
    finally:
        worker.close()
    assert len(gateway.posts) == 27
    assert elapsed >= 26 / 20.0 * 0.95  # 27 messages at 20 per second


def test_rate_and_threads_come_from_the_environment():
    config = WorkerConfig.from_env({"DISASTER_SMS_RATE": "50", "DISASTER_DELIVERY_THREADS": "4",
                                    "DISASTER_DELIVERY_MAX_ATTEMPTS": "3"})
    assert config.rates["sms"] == 50.0 and config.threads == 4 and config.max_attempts == 3


def test_failed_sends_back_off_exponentially_then_give_up_with_the_reason(queued, gateway):
    gateway.status = 503
    clock = Clock()
    worker = _worker(queued, gateway, clock=clock, max_attempts=3, backoff_seconds=10)
    try:
        assert worker.run_until_idle()["retry"] == 27
        assert worker.run_until_idle()["retry"] == 0  # not due before the backoff
        clock.now += dt.timedelta(seconds=10)
        assert worker.run_until_idle()["retry"] == 27
        clock.now += dt.timedelta(seconds=10)
        assert worker.run_until_idle()["retry"] == 0  # the second wait is twice as long
        clock.now += dt.timedelta(seconds=10)
        assert worker.run_until_idle()["failed"] == 27
    finally:
        worker.close()
    with queued.connect() as conn:
        rows = conn.execute(select(Delivery.state, Delivery.attempts, Delivery.last_error)
                            .where(Delivery.channel == "sms")).all()
    assert {(state, attempts) for state, attempts, _ in rows} == {("failed", 3)}
    assert all("503" in error for _, _, error in rows)
    assert len(gateway.posts) == 81


def test_two_workers_claim_disjoint_batches(queued, gateway):
    a = _worker(queued, gateway, name="a", batch=10)
    b = _worker(queued, gateway, name="b", batch=10)
    try:
        first, second = a.claim("sms"), b.claim("sms")
        third = a.claim("sms")
    finally:
        a.close()
        b.close()
    ids = [r.id for r in first + second + third]
    assert len(first) == len(second) == 10 and len(third) == 7
    assert len(set(ids)) == 27


def test_dead_workers_rows_are_taken_over_after_the_lease_and_sent_once(queued, gateway):
    clock = Clock()
    dead = _worker(queued, gateway, name="dead", clock=clock, lease_seconds=60)
    alive = _worker(queued, gateway, name="alive", clock=clock, lease_seconds=60)
    try:
        claimed = dead.claim("sms", 20)  # then the process is killed: nothing sent
        assert alive.run_until_idle()["sent"] == 7  # the rest; the leased rows wait
        clock.now += dt.timedelta(seconds=61)
        assert alive.run_until_idle()["sent"] == 20
        # the dead worker's leftovers cannot send what the other worker took over
        assert dead.deliver_one("sms", claimed[0]) == "lost"
    finally:
        dead.close()
        alive.close()
    assert len(gateway.posts) == 27 and sorted(gateway.delivered.values()) == [1] * 27
    assert _states(queued)[("sms", "sent")] == 27


class _DiesAfterGatewayAnswer:
    """A channel whose process dies after the gateway accepted, before the row is committed."""

    name = "sms"

    def __init__(self, inner: HttpSmsChannel) -> None:
        self.inner = inner

    def send(self, message) -> None:
        self.inner.send(message)
        raise SystemExit("killed")


def test_worker_killed_between_gateway_answer_and_commit_resends_with_the_same_reference(
        queued, gateway):
    clock = Clock()
    dying = DeliveryWorker(queued, {"sms": _DiesAfterGatewayAnswer(HttpSmsChannel(gateway.url))},
                           config=WorkerConfig(lease_seconds=30), name="dying", clock=clock)
    alive = _worker(queued, gateway, name="alive", clock=clock, lease_seconds=30)
    try:
        row = dying.claim("sms", 1)[0]
        with pytest.raises(SystemExit):
            dying.deliver_one("sms", row)
        with queued.connect() as conn:
            assert conn.scalar(select(Delivery.state).where(Delivery.id == row.id)) == "queued"
        clock.now += dt.timedelta(seconds=31)
        assert alive.run_until_idle()["sent"] == 27
    finally:
        dying.close()
        alive.close()
    ids = Counter(p["id"] for p in gateway.posts)
    assert ids[f"dlv-{row.id}"] == 2  # sent again with the same reference …
    assert sorted(gateway.delivered.values()) == [1] * 27  # … so the officer got it once


def test_deliver_run_command_sends_what_is_due(queued, gateway, mailbox, database_url,
                                               monkeypatch, cli_engines):
    from web.cli import main

    box, port = mailbox
    monkeypatch.setenv("DISASTER_SMS_URL", gateway.url)
    monkeypatch.setenv("DISASTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DISASTER_SMTP_PORT", str(port))
    result = CliRunner().invoke(main, ["deliver", "run", "--once", "--threads", "4",
                                       "--database", database_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sent"] == 54
    assert len(box.messages) == 27 and len(gateway.delivered) == 27


def test_scheduler_delivery_job_sends_with_the_same_worker(queued, gateway, mailbox, monkeypatch):
    from disaster import jobs

    box, port = mailbox
    monkeypatch.setenv("DISASTER_SMS_URL", gateway.url)
    monkeypatch.setenv("DISASTER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DISASTER_SMTP_PORT", str(port))
    jobs.configure(make_session_factory(queued))
    counts = jobs.deliver()
    assert counts is not None and counts["sent"] == 54
    assert len(box.messages) == 27 and sorted(gateway.delivered.values()) == [1] * 27
