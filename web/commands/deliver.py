"""``deliver run``: a delivery worker process (several may run against one PostGIS)."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading

import click

from web.commands.common import CliContext, command_options, emit


@click.group("deliver")
def deliver_group() -> None:
    """Sending queued e-mail and SMS notifications."""


@deliver_group.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--poll", type=float, default=1.0, help="Seconds between looks for new deliveries.")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Concurrent sends per channel (default DISASTER_DELIVERY_THREADS).")
@click.option("--batch", type=click.IntRange(1), default=None,
              help="Deliveries claimed at a time (default DISASTER_DELIVERY_BATCH).")
@click.option("--channel-threads", multiple=True, metavar="CHANNEL=N",
              help="Concurrent sends of one channel, e.g. sms=20 (repeatable).")
@click.option("--name", default=None, help="Worker name recorded on claimed rows.")
@command_options
def deliver_run(obj: CliContext, once: bool, poll: float, threads: int | None,
                batch: int | None, channel_threads: tuple[str, ...], name: str | None) -> None:
    """Run a delivery worker until stopped (SIGTERM/SIGINT), or once with ``--once``."""
    from disaster.notify.worker import DeliveryWorker, WorkerConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    config = WorkerConfig.from_env()
    if threads:
        config = dataclasses.replace(config, threads=threads)
    if batch:
        config = dataclasses.replace(config, batch=batch)
    per: dict[str, int] = {}
    for item in channel_threads:
        channel, _, n = item.partition("=")
        if not n.isdigit() or int(n) < 1:
            raise click.BadParameter(f"{item!r}: expected CHANNEL=N", param_hint="--channel-threads")
        per[channel.strip()] = int(n)
    if per:
        config = dataclasses.replace(config, channel_threads=per)
    worker = DeliveryWorker(obj.runtime.engine, config=config, name=name)
    try:
        if once:
            counts = worker.run_until_idle()
            emit(obj, counts, lambda d: f"sent {d['sent']}, failed {d['failed']}, "
                                        f"to retry {d['retry']}, taken over {d['lost']}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(f"delivery worker {worker.name} running", err=True)
        worker.run(stop, poll=poll)
    finally:
        worker.close()


def register(group: click.Group) -> None:
    group.add_command(deliver_group)
