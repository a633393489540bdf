"""Notification channels: a name → dotted-path registry, each with a working implementation.

- ``inbox``: the in-app inbox; the notification row itself is the message (always on).
- ``email``: SMTP (``DISASTER_SMTP_HOST``, ``DISASTER_SMTP_PORT``, ``DISASTER_SMTP_SENDER``,
  optional ``DISASTER_SMTP_USER``/``DISASTER_SMTP_PASSWORD``, ``DISASTER_SMTP_STARTTLS=1``).
- ``sms``: an HTTP gateway adapter posting JSON ``{"to", "text", "reference"}`` to
  ``DISASTER_SMS_URL`` (optional bearer ``DISASTER_SMS_TOKEN``); most Chinese SMS
  providers sit behind such a relay.
Configuration is read when channels are built, never at import.
"""

from __future__ import annotations

import importlib
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

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


class Channel(Protocol):
    name: str

    def address(self, recipient: Any) -> str | None: ...

    def send(self, message: Message) -> None: ...


class InboxChannel:
    """The in-app inbox: stored with the notification, nothing to send."""

    name = "inbox"

    def address(self, recipient: Any) -> str | None:
        # Users (depot managers, duty officers) have a username; officers do not.
        who = "user" if hasattr(recipient, "username") else "officer"
        return f"{who}:{recipient.id}"

    def send(self, message: Message) -> None:
        return None


class SmtpChannel:
    """E-mail over SMTP with a timeout; one connection per message (volumes are small)."""

    name = "email"

    def __init__(self, host: str, port: int = 25, sender: str = "warnings@localhost",
                 user: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def address(self, recipient: Any) -> str | None:
        return recipient.email or None

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        if message.reference:
            mail["X-Alert-Reference"] = message.reference
        body = message.body + (f"\n\n{message.link_text}: {message.link}" if message.link else "")
        mail.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc}") from exc


class HttpSmsChannel:
    """SMS through an HTTP gateway: POST JSON, any 2xx is accepted."""

    name = "sms"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def address(self, recipient: Any) -> str | None:
        return recipient.phone or None

    def send(self, message: Message) -> None:
        text = f"{message.subject} {message.link or ''}".strip()
        data = json.dumps({"to": message.to, "text": text[:500],
                           "reference": message.reference}).encode()
        req = urllib.request.Request(self.url, data=data, method="POST",  # noqa: S310 - configured URL
                                     headers={"Content-Type": "application/json"})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                if not 200 <= resp.status < 300:
                    raise ChannelError(f"SMS gateway {self.url} answered {resp.status}")
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"SMS gateway {self.url} answered {exc.code}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise ChannelError(f"SMS gateway {self.url}: {exc}") from exc


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
