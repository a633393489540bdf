"""Benchmark: a red warning over 20,000 communities delivered by SMS and e-mail, on PostGIS.

Every community has a primary and a backup officer; both are told (40,000 officers: 40,000
SMS + 40,000 e-mails). A fake SMS gateway (its own process, http.server on 127.0.0.1,
answering each message after 50 ms, de-duplicating by the delivery reference) and a local
aiosmtpd (its own process) receive them. Timed from the grid's arrival (ingest, evaluation,
notification rows: the alert path) until no e-mail or SMS is queued, with delivery workers
(``disaster deliver run`` processes, 2 by default) polling the database. Beside it, the old
serial loop (``dispatch.deliver_pending`` with one connection per message, as before the
workers) timed on a sample and extrapolated to the same 80,000 messages (it would take
hours). Prints figures; nothing is asserted; every wait is bounded.

    .venv/bin/python bench/delivery.py [--communities 20000] [--workers 2]
        [--sms-threads 20] [--email-threads 6] [--serial-sample 200]
        [--postgis-server postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import storm  # noqa: E402

from disaster.notify import dispatch  # noqa: E402
from disaster.notify.channels import HttpSmsChannel, SmtpChannel  # noqa: E402
from disaster.notify.models import Delivery  # noqa: E402
from disaster.officers import Officer  # noqa: E402
from disaster.warnings.service import ingest_and_evaluate  # noqa: E402
from gis.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from web.models import import_all_models  # noqa: E402

TIMEOUT = 600.0  # seconds: the delivered-by deadline of the whole run


def _gateway(ready: mp.Queue, done: mp.Event, out: mp.Queue) -> None:
    from tests.sms_gateway import FakeGateway

    gw = FakeGateway(delay=0.05)
    ready.put(gw.url)
    done.wait(TIMEOUT + 300)
    out.put((len(gw.posts), len(gw.delivered), len(gw.connections)))
    gw.close()


def _mailbox(ready: mp.Queue, done: mp.Event, out: mp.Queue) -> None:
    from tests.mailbox import smtp_server

    with smtp_server() as (box, port):
        ready.put(port)
        done.wait(TIMEOUT + 300)
        out.put(len(box.messages))


class _OldSms(HttpSmsChannel):
    """Today's serial loop sent each SMS on a new connection."""

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        super().send(message)
        self.close()


class _OldSmtp(SmtpChannel):
    """… and each e-mail in an SMTP session of its own."""

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        super().send(message)
        self.close()


def _queued(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count(Delivery.id)).where(Delivery.state == "queued"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sms-threads", type=int, default=20)
    parser.add_argument("--email-threads", type=int, default=6)
    parser.add_argument("--serial-sample", type=int, default=200)
    parser.add_argument("--postgis-server",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    import_all_models()
    ctx = mp.get_context("spawn")
    done, ready_g, ready_m, out_g, out_m = ctx.Event(), ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_gateway, args=(ready_g, done, out_g), daemon=True),
             ctx.Process(target=_mailbox, args=(ready_m, done, out_m), daemon=True)]
    for p in procs:
        p.start()
    sms_url, smtp_port = ready_g.get(timeout=60), ready_m.get(timeout=60)
    os.environ.update({"DISASTER_SMS_URL": sms_url, "DISASTER_SMTP_HOST": "127.0.0.1",
                       "DISASTER_SMTP_PORT": str(smtp_port)})
    url, admin = storm.fresh_postgis(args.postgis_server)
    workers: list[subprocess.Popen] = []
    try:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        storm.build(engine, args.communities)
        env = dict(os.environ, PYTHONPATH=str(ROOT), DISASTER_DATABASE_URL=url)
        for k in range(args.workers):
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "web.cli", "deliver", "run", "--poll", "0.5",
                 "--channel-threads", f"sms={args.sms_threads}",
                 "--channel-threads", f"email={args.email_threads}", "--name", f"bench-{k}"],
                env=env, cwd=ROOT, stderr=subprocess.DEVNULL))
        time.sleep(3)  # the workers are up and polling before the grid arrives
        with tempfile.TemporaryDirectory() as tmp:
            now = storm.storm(Path(tmp) / "grids", args.communities, args.communities)
            t0 = time.perf_counter()
            with unit_of_work(sessions) as s:
                _, counts = ingest_and_evaluate(s, "grid-files", str(Path(tmp) / "grids"),
                                                now=now)
                # a red warning tells the backup officers too
                backups = s.scalars(select(Officer.id).where(Officer.code.like("B%"))).all()
                dispatch.send(s, officer_ids=backups, subject="暴雨红色预警（备岗）",
                              body="请协助组织转移", kind="alert", reference="bench-backup",
                              now=now, load=False)
            rows_at = time.perf_counter() - t0
            with sessions() as s:
                total = s.scalar(select(func.count(Delivery.id)).where(
                    Delivery.channel.in_(["sms", "email"])))
            while _queued(sessions) and time.perf_counter() - t0 < TIMEOUT:
                time.sleep(0.5)
            took = time.perf_counter() - t0
            left = _queued(sessions)
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=60)
        with sessions() as s:
            states = dict(s.execute(select(Delivery.state, func.count(Delivery.id)).where(
                Delivery.channel.in_(["sms", "email"])).group_by(Delivery.state)).all())
        print(f"[workers] {args.communities:,} communities red ({counts['issued']} messages), "
              f"{total:,} e-mail + SMS; {args.workers} delivery workers "
              f"(sms {args.sms_threads} / e-mail {args.email_threads} threads each), PostGIS")
        print(f"  grid arrival → all rows written: {rows_at:.1f} s; → all delivered: "
              f"{took:.1f} s{'' if not left else f' (TIMED OUT, {left:,} still queued)'}; "
              f"states {states}")
        # The old serial loop on a sample of fresh deliveries, extrapolated.
        with unit_of_work(sessions) as s:
            sample = s.scalars(select(Officer.id).order_by(Officer.id)
                               .limit(args.serial_sample)).all()
            dispatch.send(s, officer_ids=sample, subject="演练", body="串行发送对照",
                          kind="alert", reference="bench-serial", load=False)
        channels = {"sms": _OldSms(sms_url), "email": _OldSmtp("127.0.0.1", smtp_port)}
        t1 = time.perf_counter()
        with unit_of_work(sessions) as s:
            serial = dispatch.deliver_pending(s, channels, limit=2 * len(sample))
        per_message = (time.perf_counter() - t1) / max(serial["sent"], 1)
        print(f"[serial] old loop (deliver_pending, one connection per message): "
              f"{serial['sent']} messages in {per_message * serial['sent']:.1f} s = "
              f"{per_message * 1000:.1f} ms each → {total:,} would take about "
              f"{per_message * total / 60:.0f} min (extrapolated from the sample, plus the "
              f"{rows_at:.0f} s alert path)")
        done.set()
        posts, distinct, conns = out_g.get(timeout=60)
        mails = out_m.get(timeout=60)
        print(f"[gateway] {posts:,} SMS requests, {distinct:,} distinct delivery references, "
              f"{conns} connections; [smtp] {mails:,} e-mails")
        engine.dispose()
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        done.set()
        for p in procs:
            p.join(timeout=10)
        storm.drop_postgis(admin, url)


if __name__ == "__main__":
    main()
