"""Notification channels: a name → dotted-path registry, each with a working implementation.

- ``inbox``: the in-app inbox; the notification row itself is the message (always on).
- ``email``: SMTP (``DISASTER_SMTP_HOST``, ``DISASTER_SMTP_PORT``, ``DISASTER_SMTP_SENDER``,
  optional ``DISASTER_SMTP_USER``/``DISASTER_SMTP_PASSWORD``, ``DISASTER_SMTP_STARTTLS=1``).
- ``sms``: an HTTP gateway adapter posting JSON ``{"to", "text", "reference", "id"}`` to
  ``DISASTER_SMS_URL`` (optional bearer ``DISASTER_SMS_TOKEN``); most Chinese SMS
  providers sit behind such a relay.
Configuration is read when channels are built, never at import.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import requests

from gis.settings import environment


class ChannelError(Exception):
    """A delivery attempt failed; the message says why (stored on the delivery row)."""


@dataclass
class Message:
    to: str
    subject: str
    body: str
    reference: str | None
    link: str | None = None
    # What the link is for: officers acknowledge alerts, users open their inbox.
    link_text: str = "确认收到 / acknowledge"
    # The delivery's own reference, unique per delivery row (gateway de-duplication).
    key: str | None = None


class Channel(Protocol):
    name: str

    def address(self, recipient: Any) -> str | None: ...

    def send(self, message: Message) -> None: ...


def close(channel: Any) -> None:
    """Close a channel's kept connections, if it keeps any."""
    closer = getattr(channel, "close", None)
    if closer is not None:
        closer()


class InboxChannel:
    """The in-app inbox: stored with the notification, nothing to send."""

    name = "inbox"

    def address(self, recipient: Any) -> str | None:
        # Users (depot managers, duty officers) have a username; officers do not.
        who = "user" if hasattr(recipient, "username") else "officer"
        return f"{who}:{recipient.id}"

    def send(self, message: Message) -> None:
        return None


class _PerThread:
    """One open connection per sending thread, all closed by :meth:`close`."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Any] = []

    def get(self) -> Any:
        return getattr(self._local, "conn", None)

    def put(self, conn: Any) -> None:
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)

    def drop(self) -> Any:
        conn = self.get()
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        return conn

    def close_all(self, closer: Any) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            # a connection already gone is closed
            with contextlib.suppress(Exception):
                closer(conn)
        self._local = threading.local()


class SmtpChannel:
    """E-mail over SMTP with a timeout; one SMTP session per sending thread, kept open."""

    name = "email"

    def __init__(self, host: str, port: int = 25, sender: str = "warnings@localhost",
                 user: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout
        self._conns = _PerThread()

    def address(self, recipient: Any) -> str | None:
        return recipient.email or None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.starttls()
        if self.user:
            smtp.login(self.user, self.password or "")
        return smtp

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        if message.reference:
            mail["X-Alert-Reference"] = message.reference
        if message.key:
            mail["X-Delivery-Id"] = message.key
        body = message.body + (f"\n\n{message.link_text}: {message.link}" if message.link else "")
        mail.set_content(body)
        # A kept session may have been closed by the server since: reconnect once.
        for attempt in (1, 2):
            smtp = self._conns.get()
            try:
                if smtp is None:
                    smtp = self._connect()
                    self._conns.put(smtp)
                smtp.send_message(mail)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._conns.drop()
                if attempt == 2:
                    raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._drop_broken()
                raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc

    def _drop_broken(self) -> None:
        smtp = self._conns.drop()
        if smtp is not None:
            with contextlib.suppress(Exception):  # already broken
                smtp.close()

    def close(self) -> None:
        """End every kept SMTP session (QUIT)."""
        self._conns.close_all(lambda smtp: smtp.quit())


class HttpSmsChannel:
    """SMS through an HTTP gateway: POST JSON, any 2xx is accepted; HTTP keep-alive per thread.

    The body carries the delivery's own reference as ``id`` (and the ``Idempotency-Key``
    header), so a gateway can drop a message a taken-over worker sends a second time.
    """

    name = "sms"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout
        self._conns = _PerThread()

    def address(self, recipient: Any) -> str | None:
        return recipient.phone or None

    def send(self, message: Message) -> None:
        text = f"{message.subject} {message.link or ''}".strip()
        payload: dict[str, Any] = {"to": message.to, "text": text[:500],
                                   "reference": message.reference}
        headers = {"Content-Type": "application/json"}
        if message.key:
            payload["id"] = message.key
            headers["Idempotency-Key"] = message.key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        http = self._conns.get()
        if http is None:
            http = requests.Session()
            self._conns.put(http)
        try:
            resp = http.post(self.url, data=json.dumps(payload).encode(), headers=headers,
                             timeout=self.timeout)
        except requests.RequestException as exc:
            self._conns.drop()
            http.close()
            raise ChannelError(f"SMS gateway {self.url}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise ChannelError(f"SMS gateway {self.url} answered {resp.status_code}")

    def close(self) -> None:
        """Close every kept HTTP connection."""
        self._conns.close_all(lambda http: http.close())


REGISTRY = {
    "inbox": "disaster.notify.channels:InboxChannel",
    "email": "disaster.notify.channels:SmtpChannel",
    "sms": "disaster.notify.channels:HttpSmsChannel",
}


def load(name: str, **kwargs: Any) -> Channel:
    """Instantiate the channel registered under ``name``."""
    module, _, attr = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attr)(**kwargs)


def from_env(env: dict[str, str] | None = None) -> dict[str, Channel]:
    """The channels configured in the environment (the inbox always)."""
    settings = environment(env)
    out: dict[str, Channel] = {"inbox": load("inbox")}
    if settings.smtp_host:
        out["email"] = load("email", host=settings.smtp_host, port=settings.smtp_port,
                            sender=settings.smtp_sender, user=settings.smtp_user,
                            password=settings.smtp_password, starttls=settings.smtp_starttls)
    if settings.sms_url:
        out["sms"] = load("sms", url=settings.sms_url, token=settings.sms_token)
    return out


def link_base(env: dict[str, str] | None = None) -> str | None:
    """Public base URL for acknowledgement and inbox links (``DISASTER_PUBLIC_URL``)."""
    base = environment(env).public_url
    return base.rstrip("/") if base else None
