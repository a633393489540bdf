"""Sign-in throttling by client and by account, on the ``limits`` library (Flask-Limiter's core).

- By client: failed sign-ins per client address are limited (``DISASTER_LOGIN_RATE_LIMIT``,
  moving windows); beyond it the client waits, whatever usernames it tries.
- By account: after a few failures for one username, each further attempt must wait a delay
  that doubles with every failure, up to a minute. It is keyed by the username as typed,
  whether or not the account exists, so throttling does not reveal which accounts exist.
  Nobody is locked out: the owner waits at most a minute, and a browser the owner signed in
  from before (a signed device cookie) skips the account delay altogether.

The storage is ``DISASTER_RATELIMIT_STORAGE_URI``: ``memory://`` keeps counts per process;
several workers share ``redis://…`` or ``memcached://…``.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

FREE_FAILURES = 5
MAX_DELAY = 60.0
FAILURE_WINDOW = 3600
DEVICE_COOKIE = "dc_device"
DEVICE_DAYS = 180


@dataclass
class LoginThrottle:
    """The limiter state of one application."""

    storage: Storage
    limits: list
    limiter: MovingWindowRateLimiter

    @classmethod
    def create(cls, storage_uri: str, client_limit: str) -> LoginThrottle:
        storage = storage_from_string(storage_uri)
        return cls(storage, parse_many(client_limit), MovingWindowRateLimiter(storage))


def init_app(app: Flask) -> None:
    settings = app.config["DISASTER_SETTINGS"]
    app.extensions["login_throttle"] = LoginThrottle.create(
        app.config.get("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri),
        app.config.get("LOGIN_RATE_LIMIT", settings.login_rate_limit))


def _throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


def client_address() -> str:
    """The client's address (behind a proxy, configure ProxyFix so this is the real one)."""
    return request.remote_addr or "unknown"


def _account_key(username: str) -> str:
    # Hashed: the storage (perhaps a shared Redis) need not hold typed usernames.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def trusted_device(username: str) -> bool:
    """True when this browser has signed in as ``username`` before (signed device cookie)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return False
    try:
        value = _device_serializer().loads(raw)
    except BadSignature:
        return False
    return isinstance(value, str) and value == _account_key(username)


def remember_device(response: Response, username: str) -> None:
    """Mark this browser as one ``username`` signs in from (no secret: a signed account key)."""
    response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(_account_key(username)),
                        max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        path="/login")


def wait_seconds(username: str) -> int:
    """Seconds this client must wait before trying ``username`` again (0: go ahead)."""
    throttle = _throttle()
    address = client_address()
    wait = 0.0
    now = time.time()
    for item in throttle.limits:
        if not throttle.limiter.test(item, "login-client", address):
            reset = throttle.limiter.get_window_stats(item, "login-client", address).reset_time
            wait = max(wait, reset - now)
    if not trusted_device(username):
        key = "login-delay/" + _account_key(username)
        if throttle.storage.get(key) > 0:
            wait = max(wait, throttle.storage.get_expiry(key) - now)
    return max(0, math.ceil(wait)) if wait > 0 else 0


def failed(username: str) -> None:
    """Count a failed sign-in against the client and the account."""
    throttle = _throttle()
    for item in throttle.limits:
        throttle.limiter.hit(item, "login-client", client_address())
    account = _account_key(username)
    failures = throttle.storage.incr("login-failures/" + account, FAILURE_WINDOW)
    if failures > FREE_FAILURES:
        delay = min(MAX_DELAY, 2.0 ** (failures - FREE_FAILURES))
        # Attempts during a delay are refused before the password is checked, so the delay
        # key has always expired by the time the next failure sets it again.
        throttle.storage.clear("login-delay/" + account)
        throttle.storage.incr("login-delay/" + account, delay)


def succeeded(username: str) -> None:
    """Forget the account's failures (the client's stay: they may have tried others)."""
    throttle = _throttle()
    account = _account_key(username)
    throttle.storage.clear("login-failures/" + account)
    throttle.storage.clear("login-delay/" + account)
