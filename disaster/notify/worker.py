"""Delivery workers: queued e-mail and SMS sent concurrently by several processes.

A worker claims a batch of queued deliveries of one channel (``FOR UPDATE SKIP LOCKED`` on
PostGIS through :func:`gis.spatial.claim_rows`, so several workers take disjoint rows; on
SQLite one claiming transaction runs at a time) and writes its name and a lease on them. A
bounded thread pool per channel sends them, each thread keeping one SMTP session or HTTP
keep-alive connection (the channels do), at most at the administrator's rate per channel.

Each send runs inside the transaction that marks the row sent: on PostGIS the rows of a
small chunk (``chunk``, sent one after another by one thread) are locked and their claim
checked before the gateway is called, and committed right after it answered,
so a worker whose lease ran out can no longer send a row another worker has taken over. A
worker killed between the gateway's answer and the commit leaves the row queued: after the
lease another worker sends it again with the same delivery reference (``Message.key``), which
the gateway uses to drop the repeat. Failures are retried with exponential backoff and given
up after ``max_attempts`` tries with the reason stored. ``disaster deliver run`` and the
scheduler's delivery job both run :meth:`DeliveryWorker.run_until_idle`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, Engine

from disaster.notify import channels as channels_mod
from disaster.notify.dispatch import delivery_key
from disaster.notify.models import Delivery, Notification
from gis.db import make_engine
from gis.settings import environment
from gis.spatial import claim_rows, holds_row_locks
from gis.types import utcnow

log = logging.getLogger("disaster.deliver")
RATE_SETTING = {"sms": "sms_rate", "email": "smtp_rate"}


@dataclass
class WorkerConfig:
    """How one worker sends (defaults: the delivery settings of :mod:`gis.settings`)."""

    threads: int = 16
    batch: int = 200
    lease_seconds: float = 120.0
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    # messages per second per channel; absent or 0: unlimited
    rates: dict[str, float] = field(default_factory=dict)
    # deliveries one thread sends in one transaction (one lock, one commit); a worker
    # killed meanwhile has them sent again after the lease, with the same references
    chunk: int = 8
    # concurrent sends of a channel when not ``threads`` (e.g. a slow gateway gets more)
    channel_threads: dict[str, int] = field(default_factory=dict)

    def threads_for(self, channel: str) -> int:
        """Concurrent sends of ``channel``."""
        return self.channel_threads.get(channel, self.threads)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WorkerConfig:
        """The configuration the administrator set in the environment."""
        s = environment(env)
        return cls(threads=s.delivery_threads, batch=s.delivery_batch,
                   lease_seconds=s.delivery_lease_seconds, max_attempts=s.delivery_max_attempts,
                   backoff_seconds=s.delivery_backoff_seconds,
                   rates={"sms": s.sms_rate, "email": s.smtp_rate})


class RateLimiter:
    """At most ``rate`` acquisitions per second, evenly spaced, shared by threads."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def acquire(self) -> None:
        """Wait for the next free slot (immediately when unlimited)."""
        if self.rate <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + 1.0 / self.rate
        if slot > now:
            time.sleep(slot - now)


@dataclass
class _Claimed:
    id: int
    address: str | None
    attempts: int
    subject: str
    body: str
    reference: str | None
    token: str
    officer_id: int | None


def backoff(config: WorkerConfig, attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed ones: doubling, at most a day."""
    return dt.timedelta(seconds=min(config.backoff_seconds * 2 ** max(attempts - 1, 0), 86400))


class DeliveryWorker:
    """Claims and sends queued deliveries; several may run against one PostGIS.

    Parameters
    ----------
    engine
        The application's engine; the worker opens its own, with a connection per thread.
    channels
        Channel name → channel (default: those configured in the environment).
    clock
        The time source (tests move it to expire leases and backoffs).
    """

    def __init__(self, engine: Engine, channels: dict[str, channels_mod.Channel] | None = None,
                 *, config: WorkerConfig | None = None, name: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.config = config or WorkerConfig.from_env()
        self.channels = {k: v for k, v in (channels if channels is not None
                                            else channels_mod.from_env()).items()
                         if k != "inbox"}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.base = channels_mod.link_base()
        self.limiters = {c: RateLimiter(self.config.rates.get(c, 0.0)) for c in self.channels}
        # on PostGIS each send in flight holds its transaction (and connection)
        size = sum(self.config.threads_for(c) for c in self.channels) + 2
        self.engine = make_engine(engine.url.render_as_string(hide_password=False),
                                  pool_size=size, max_overflow=0)
        self.counts = {"sent": 0, "failed": 0, "retry": 0, "lost": 0}
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._pools: dict[str, ThreadPoolExecutor] = {}

    # -- claiming -----------------------------------------------------------------------

    def claim(self, channel: str, limit: int | None = None) -> list[_Claimed]:
        """Take up to ``limit`` due, unclaimed (or lease-expired) deliveries of ``channel``."""
        d, n = Delivery.__table__.c, Notification.__table__.c
        with self.engine.begin() as conn:
            now = self.clock()
            ids = list(conn.scalars(claim_rows(
                select(d.id).where(d.state == "queued", d.channel == channel,
                                   or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now),
                                   or_(d.lease_until.is_(None), d.lease_until < now))
                .order_by(d.id).limit(limit or self.config.batch), conn)))
            if not ids:
                return []
            conn.execute(update(Delivery.__table__).where(d.id.in_(ids)).values(
                claimed_by=self.name,
                lease_until=now + dt.timedelta(seconds=self.config.lease_seconds)))
            rows = conn.execute(
                select(d.id, d.address, d.attempts, n.subject, n.body, n.reference, n.token,
                       n.officer_id).join(Notification.__table__, n.id == d.notification_id)
                .where(d.id.in_(ids)).order_by(d.id)).all()
        return [_Claimed(*row) for row in rows]

    # -- sending ------------------------------------------------------------------------

    def _message(self, row: _Claimed) -> channels_mod.Message:
        base = self.base
        if row.officer_id is not None:
            link = f"{base}/alerts/ack/{row.token}" if base else None
            return channels_mod.Message(row.address or "", row.subject, row.body, row.reference,
                                        link, key=delivery_key(row.id))
        return channels_mod.Message(row.address or "", row.subject, row.body, row.reference,
                                    f"{base}/inbox/" if base else None,
                                    link_text="查看通知 / open inbox", key=delivery_key(row.id))

    def _mine(self, conn: Connection, ids: list[int]) -> set[int]:
        """Which of ``ids`` this worker still holds (locked until commit on PostGIS)."""
        d = Delivery.__table__.c
        stmt = select(d.id).where(d.id.in_(ids), d.claimed_by == self.name, d.state == "queued")
        if holds_row_locks(conn):
            stmt = stmt.with_for_update()
        return set(conn.scalars(stmt))

    def deliver_one(self, channel_name: str, row: _Claimed) -> str:
        """Send one claimed delivery and record the outcome: ``sent``, ``retry``, ``failed``
        or ``lost`` (another worker took it over)."""
        return self.deliver_chunk(channel_name, [row])[0]

    def _connection(self) -> Connection:
        # each sending thread keeps its database connection (no checkout and ping per send)
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = self.engine.connect()
            with self._count_lock:
                self._connections.append(conn)
        return conn

    def deliver_chunk(self, channel_name: str, rows: list[_Claimed]) -> list[str]:
        """Send a few claimed deliveries one after another in one transaction and record
        their outcomes (see :meth:`deliver_one`); one lock and one commit for all of them."""
        channel = self.channels[channel_name]
        d = Delivery.__table__.c
        conn = self._connection()
        outcomes: dict[int, str] = {}
        try:
            trans = conn.begin()
            try:
                mine = self._mine(conn, [r.id for r in rows])
                if not holds_row_locks(conn):
                    # SQLite's one write lock must not be held while the gateway answers;
                    # the lease keeps the rows ours meanwhile.
                    trans.commit()
                errors: dict[int, str] = {}
                for row in rows:
                    if row.id not in mine:
                        continue
                    self.limiters[channel_name].acquire()
                    try:
                        channel.send(self._message(row))
                    except channels_mod.ChannelError as exc:
                        errors[row.id] = str(exc)[:2000]
                        log.warning("delivery %s via %s failed: %s", row.id, channel_name, exc)
                if not trans.is_active:
                    trans = conn.begin()
                now = self.clock()
                mine_now = [r for r in rows if r.id in mine]
                sent = [r.id for r in mine_now if r.id not in errors]
                done: set[int] = set()
                if sent:
                    done |= set(conn.scalars(update(Delivery.__table__).where(
                        d.id.in_(sent), d.claimed_by == self.name, d.state == "queued").values(
                        state="sent", sent_at=now, last_error=None, attempts=d.attempts + 1,
                        updated_at=now, claimed_by=None, lease_until=None).returning(d.id)))
                    outcomes.update(dict.fromkeys(sent, "sent"))
                for row in mine_now:
                    if row.id not in errors:
                        continue
                    attempts = row.attempts + 1
                    if attempts >= self.config.max_attempts:
                        values: dict[str, object] = {"state": "failed"}
                        outcomes[row.id] = "failed"
                    else:
                        values = {"next_attempt_at": now + backoff(self.config, attempts)}
                        outcomes[row.id] = "retry"
                    done |= set(conn.scalars(update(Delivery.__table__).where(
                        d.id == row.id, d.claimed_by == self.name, d.state == "queued").values(
                        attempts=attempts, updated_at=now, claimed_by=None, lease_until=None,
                        last_error=errors[row.id], **values).returning(d.id)))
                trans.commit()
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
        except BaseException:
            self._local.conn = None
            conn.close()
            raise
        return [self._count(outcomes[r.id] if r.id in done else "lost") for r in rows]

    def _count(self, outcome: str) -> str:
        with self._count_lock:
            self.counts[outcome] += 1
        return outcome

    def _pool(self, channel_name: str) -> ThreadPoolExecutor:
        with self._count_lock:
            if channel_name not in self._pools:
                self._pools[channel_name] = ThreadPoolExecutor(
                    self.config.threads_for(channel_name),
                    thread_name_prefix=f"deliver-{channel_name}")
            return self._pools[channel_name]

    def _drain_channel(self, channel_name: str, stop: threading.Event) -> None:
        """Claim and send batches of one channel until none is due."""
        pool = self._pool(channel_name)
        while not stop.is_set():
            batch = self.claim(channel_name)
            if not batch:
                return
            size = self.config.chunk
            for future in [pool.submit(self.deliver_chunk, channel_name, batch[k:k + size])
                           for k in range(0, len(batch), size)]:
                try:
                    future.result()
                except Exception:
                    # the row stays claimed and is retried after its lease
                    log.exception("delivery worker %s: a send failed", self.name)

    def run_until_idle(self, stop: threading.Event | None = None) -> dict[str, int]:
        """Send everything due now, every channel at once; returns this run's counts."""
        stop = stop or threading.Event()
        before = dict(self.counts)
        threads = [threading.Thread(target=self._drain_channel, args=(name, stop),
                                    name=f"deliver-{name}") for name in self.channels]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {k: self.counts[k] - before[k] for k in self.counts}

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Run until ``stop`` is set, looking for due deliveries every ``poll`` seconds."""
        while not stop.is_set():
            try:
                self.run_until_idle(stop)
            except Exception:
                log.exception("delivery worker %s: cannot reach the database", self.name)
            stop.wait(poll)

    def close(self) -> None:
        """Close the channels' kept connections and this worker's database connections."""
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()
        for channel in self.channels.values():
            channels_mod.close(channel)
        for conn in self._connections:
            conn.close()
        self._connections.clear()
        self.engine.dispose()
