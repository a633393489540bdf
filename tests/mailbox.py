"""A local SMTP server (aiosmtpd) that keeps what it receives, for notification tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class Mailbox:
    """Collects the envelopes the server accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope)
        return "250 OK"

    def texts(self) -> list[str]:
        return [m.content.decode("utf-8", "replace") for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A running server on 127.0.0.1: yields its mailbox and port."""
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        yield box, ctl.port
    finally:
        ctl.stop()
