"""User accounts, scopes, password hashing, lock-out and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.errors import (
    AccountLocked,
    AuthenticationFailed,
    DisasterConflict,
    DisasterNotFound,
    DisasterValidationError,
)
from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
_hasher = PasswordHasher()  # argon2id, a deliberately slow, memory-hard hash
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")
# Loose on purpose: the mail server and the SMS gateway are the judges; this catches typos.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,30}$")


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(value_enum(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    scopes: Mapped[list[UserScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    def actor(self, source: str = "web") -> Actor:
        """The :class:`Actor` this user acts as."""
        return Actor(self.id, self.username, self.role,
                     frozenset(s.code for s in self.scopes), source)


class UserScope(Base):
    """A code the user's role applies to: community/township/county code, or depot code."""

    __tablename__ = "user_scopes"
    __table_args__ = (UniqueConstraint("user_id", "code"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    user: Mapped[User] = relationship(back_populates="scopes")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked database leaks no token."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def check_password_policy(password: str) -> None:
    """At least 10 characters with letters and digits (a bureau's usual minimum)."""
    problems = []
    if len(password) < 10:
        problems.append("at least 10 characters")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("letters and digits")
    if problems:
        raise DisasterValidationError("password too weak: needs " + " and ".join(problems),
                                      fields={"password": ["needs " + " and ".join(problems)]})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DisasterNotFound(f"no user {username!r}")
    return user


def snapshot(user: User) -> dict:
    return {"username": user.username, "role": user.role.value, "active": user.active,
            "scopes": sorted(s.code for s in user.scopes), "email": user.email,
            "phone": user.phone}


def add_user(session: Session, actor: Actor, username: str, role: Role | str,
             password: str | None = None, scopes: Iterable[str] = (),
             display_name: str | None = None, email: str | None = None,
             phone: str | None = None, update: bool = False) -> User:
    """Create (or with ``update``, change) a user; administrators only.

    ``email`` and ``phone`` are optional; notifications to the user (stock warnings…) go
    there by e-mail and SMS besides the in-app inbox.

    Raises
    ------
    DisasterValidationError
        Bad username, unknown role, malformed e-mail or phone, or weak password.
    DisasterConflict
        The username exists and ``update`` is false.
    """
    require_role(actor, Role.ADMIN, action="user management")
    fields: dict[str, list[str]] = {}
    if not _USERNAME.match(username or ""):
        fields["username"] = ["3–80 letters, digits or _.@-"]
    try:
        role = Role(role)
    except ValueError:
        fields["role"] = [f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}"]
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if email is not None and (len(email) > 200 or not _EMAIL.match(email)):
        fields["email"] = ["not an e-mail address"]
    if phone is not None and not _PHONE.match(phone):
        fields["phone"] = ["digits, optionally with a leading + and spaces or dashes"]
    if fields:
        raise DisasterValidationError("invalid user", fields=fields)
    if password is not None:
        check_password_policy(password)
    user = session.scalar(select(User).where(User.username == username))
    before = None
    if user is not None:
        if not update:
            raise DisasterConflict(f"user {username!r} exists")
        before = snapshot(user)
    else:
        user = User(username=username, role=role)
        session.add(user)
    user.role = role
    user.display_name = display_name or user.display_name
    user.email = email or user.email
    user.phone = phone or user.phone
    if password is not None:
        user.password_hash = hash_password(password)
    wanted = set(scopes)
    if wanted or before is None:
        user.scopes = [s for s in user.scopes if s.code in wanted]
        have = {s.code for s in user.scopes}
        user.scopes.extend(UserScope(code=c) for c in sorted(wanted - have))
    session.flush()
    audit.record(session, actor, "user.update" if before else "user.create", "user",
                 user.username, before, snapshot(user))
    return user


def authenticate(session: Session, username: str, password: str,
                 now: dt.datetime | None = None) -> User:
    """Check a password, counting failures and locking the account after too many.

    Every attempt is audited. Raises :class:`AuthenticationFailed` or :class:`AccountLocked`.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    anon = Actor(None, username or "?", Role.INFO_OFFICER, source="login")
    if user is None or not user.active or not user.password_hash:
        audit.record(session, anon, "auth.login_failed", "user", username)
        raise AuthenticationFailed("wrong username or password")
    actor = user.actor("login")
    if user.locked_until and user.locked_until > now:
        audit.record(session, actor, "auth.login_locked", "user", username)
        raise AccountLocked("account locked after repeated failures; try again later")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        audit.record(session, actor, "auth.login_failed", "user", username)
        raise AuthenticationFailed("wrong username or password") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor, "auth.login", "user", username)
    return user


def issue_token(session: Session, actor: Actor, username: str) -> str:
    """Create an API token for ``username`` and return it; it is never shown again."""
    user = get_user(session, username)
    if actor.user_id != user.id:
        require_role(actor, Role.ADMIN, action="issuing tokens for others")
    token = "dt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), prefix=token[:10]))
    session.flush()
    audit.record(session, actor, "token.issue", "user", username, None, {"prefix": token[:10]})
    return token


def revoke_tokens(session: Session, actor: Actor, username: str) -> int:
    """Revoke every live token of ``username``; returns how many were revoked."""
    user = get_user(session, username)
    if actor.user_id != user.id:
        require_role(actor, Role.ADMIN, action="revoking tokens of others")
    now = utcnow()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                    ApiToken.revoked_at.is_(None))).all()
    for t in tokens:
        t.revoked_at = now
    audit.record(session, actor, "token.revoke", "user", username, None, {"count": len(tokens)})
    return len(tokens)


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """Deactivate (or re-activate) a user; administrators only, never oneself.

    A deactivated user can neither sign in nor use a session or token issued before.
    """
    require_role(actor, Role.ADMIN, action="user management")
    user = get_user(session, username)
    if not active and actor.user_id == user.id:
        raise DisasterValidationError("you cannot deactivate your own account",
                                      fields={"username": ["is your own account"]})
    before = snapshot(user)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user",
                 username, before, snapshot(user))
    return user


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning a live ``token``, or ``None``."""
    return session.scalars(_USER_FOR_TOKEN, {"token_hash": _token_hash(token)}
                           ).unique().one_or_none()


# Every API request runs this lookup: one query with the scopes joined in, built once.
_USER_FOR_TOKEN = (
    select(User).join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
           User.active.is_(True))
    .options(joinedload(User.scopes)))


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random: a fast hash suffices (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()
