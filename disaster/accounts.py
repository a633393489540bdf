"""User accounts, scopes, password hashing, sessions and API tokens.

Sign-in throttling (by client and by account) lives in the web layer (``web.auth.throttle``);
here a password check costs the same whether or not the username exists, so neither the
answer nor its timing tells an attacker which accounts there are.
"""

from __future__ import annotations

import datetime as dt
import functools
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
    column,
    select,
    table,
)
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from disaster.errors import (
    AuthenticationFailed,
    DisasterConflict,
    DisasterNotFound,
    DisasterValidationError,
)
from gis.db import Base
from gis.messages import msg
from gis.types import UTCDateTime, intpk, utcnow, value_enum

_hasher = PasswordHasher()  # argon2id, a deliberately slow, memory-hard hash
# Depots belong to stockpile, which disaster must not import: the code column suffices.
_DEPOTS = table("depots", column("code"), column("name"))
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
    # Raised at a password change and at sign-out: sessions signed in under an older
    # version end (web.extensions compares it with the version kept in the session).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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
        problems.append(msg("needs at least 10 characters"))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append(msg("needs letters and digits"))
    if problems:
        raise DisasterValidationError(msg("The password is too weak."),
                                      fields={"password": problems}, code="weak_password")


def check_scopes(session: Session, role: Role, codes: Iterable[str]) -> list[str]:
    """Problems with ``codes`` as the scope of ``role`` (empty when they are fine).

    Information officers take existing community, township or county codes; depot managers
    existing depot codes; administrators and duty officers act everywhere and take none.
    """
    codes = sorted(set(codes))
    if not codes:
        return []
    if role in (Role.ADMIN, Role.DUTY_OFFICER):
        return [msg("this role acts everywhere and takes no scope codes")]
    if role == Role.DEPOT_MANAGER:
        known = set(session.scalars(select(_DEPOTS.c.code).where(_DEPOTS.c.code.in_(codes))))
        return [msg("%(code)s is not a depot code", code=c) for c in codes if c not in known]
    known = set(session.scalars(select(Area.code).where(
        Area.code.in_(codes), Area.level.in_((AreaLevel.COUNTY, AreaLevel.TOWNSHIP)))))
    known |= set(session.scalars(select(Community.code).where(Community.code.in_(codes))))
    return [msg("%(code)s is not a community, township or county code", code=c)
            for c in codes if c not in known]


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so that answer takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DisasterNotFound(msg("There is no user %(username)s.", username=username))
    return user


def snapshot(user: User) -> dict:
    return {"username": user.username, "role": user.role.value, "active": user.active,
            "scopes": sorted(s.code for s in user.scopes), "email": user.email,
            "phone": user.phone}


def scope_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Code → name for scope codes: counties, townships, communities (with township), depots."""
    codes = set(codes)
    if not codes:
        return {}
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())
    townships = dict(session.execute(select(Area.code, Area.name)).all()) if codes - names.keys() else {}
    for code, name, township in session.execute(
            select(Community.code, Community.name, Community.township_code)
            .where(Community.code.in_(codes))):
        names[code] = f"{name}（{townships.get(township, township)}）"
    names.update(session.execute(select(_DEPOTS.c.code, _DEPOTS.c.name)
                                 .where(_DEPOTS.c.code.in_(codes))).all())
    return names


def add_user(session: Session, actor: Actor, username: str, role: Role | str,
             password: str | None = None, scopes: Iterable[str] = (),
             display_name: str | None = None, email: str | None = None,
             phone: str | None = None, update: bool = False,
             replace_scopes: bool = False) -> User:
    """Create (or with ``update``, change) a user; administrators only.

    On an update, no ``scopes`` keeps the user's codes unless ``replace_scopes`` (then the
    given codes, even none, replace them). ``email`` and ``phone`` are optional;
    notifications to the user (stock warnings…) go there by e-mail and SMS besides the inbox.

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
        fields["username"] = [msg("3–80 letters, digits or _.@-")]
    try:
        role = Role(role)
    except ValueError:
        fields["role"] = [msg("unknown role %(role)s; one of %(roles)s", role=role,
                              roles=", ".join(r.value for r in Role))]
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if email is not None and (len(email) > 200 or not _EMAIL.match(email)):
        fields["email"] = [msg("not an e-mail address")]
    if phone is not None and not _PHONE.match(phone):
        fields["phone"] = [msg("digits, optionally with a leading + and spaces or dashes")]
    wanted = {c.strip() for c in scopes if c and c.strip()}
    user = session.scalar(select(User).where(User.username == username))
    if "role" not in fields:
        # On an update without scopes the user keeps the current ones: check those.
        keeping = not wanted and not replace_scopes and user is not None and update
        keep = {s.code for s in user.scopes} if keeping else wanted
        problems = check_scopes(session, role, keep)
        if problems:
            fields["scopes"] = problems
    if fields:
        raise DisasterValidationError(msg("Some of the user's details are not valid."),
                                      fields=fields)
    if password is not None:
        check_password_policy(password)
    before = None
    if user is not None:
        if not update:
            raise DisasterConflict(msg("user %(username)s exists", username=username),
                                   fields={"username": [msg("is taken")]})
        before = snapshot(user)
    else:
        user = User(username=username, role=role)
        session.add(user)
    user.role = role
    user.display_name = display_name or user.display_name
    user.email = email or user.email
    user.phone = phone or user.phone
    if password is not None:
        if before is not None and user.password_hash:
            _password_changed(session, user)
        user.password_hash = hash_password(password)
    if wanted or before is None or replace_scopes:
        user.scopes = [s for s in user.scopes if s.code in wanted]
        have = {s.code for s in user.scopes}
        user.scopes.extend(UserScope(code=c) for c in sorted(wanted - have))
    session.flush()
    audit.record(session, actor, "user.update" if before else "user.create", "user",
                 user.username, before, snapshot(user))
    return user


def authenticate(session: Session, username: str, password: str,
                 now: dt.datetime | None = None) -> User:
    """Check a password; every attempt is audited.

    No account is ever locked (that would let anyone lock anyone out): the web layer slows
    repeated failures down instead. An unknown, inactive or password-less account costs one
    argon2 verification like any other, so timing does not reveal which usernames exist.
    Raises :class:`AuthenticationFailed`.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username))
    usable = user is not None and user.active and bool(user.password_hash)
    try:
        _hasher.verify(user.password_hash if usable else _dummy_hash(), password)
        ok = usable
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
        who = user.actor("login") if user is not None else Actor(
            None, (username or "?")[:80], Role.INFO_OFFICER, source="login")
        audit.record(session, who, "auth.login_failed", "user", (username or "")[:80])
        raise AuthenticationFailed(msg("Wrong username or password."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, user.actor("login"), "auth.login", "user", username)
    return user


def _password_changed(session: Session, user: User) -> None:
    """End every session and API token of ``user`` (their password changed)."""
    user.session_version = (user.session_version or 0) + 1
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                        ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


def change_password(session: Session, actor: Actor, username: str, new_password: str,
                    current_password: str | None = None) -> User:
    """Set a new password: the owner gives the current one, an administrator need not.

    Every session of the user (on any device) and every API token end with the old password.
    """
    user = get_user(session, username)
    own = actor.user_id == user.id
    if not own:
        require_role(actor, Role.ADMIN, action="changing another user's password")
    if own and current_password is not None:
        try:
            _hasher.verify(user.password_hash or _dummy_hash(), current_password)
        except (VerificationError, InvalidHashError):
            raise DisasterValidationError(
                msg("The current password is wrong."),
                fields={"current_password": [msg("is wrong")]}) from None
    elif own:
        raise DisasterValidationError(msg("Enter your current password."),
                                      fields={"current_password": [msg("is required")]})
    check_password_policy(new_password)
    _password_changed(session, user)
    user.password_hash = hash_password(new_password)
    session.flush()
    audit.record(session, actor, "user.password_change", "user", username)
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every browser session of the user (sign-out: a copied cookie dies with it)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version = (user.session_version or 0) + 1
        audit.record(session, user.actor("web"), "auth.logout", "user", user.username)
        session.flush()


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
        raise DisasterValidationError(msg("You cannot deactivate your own account."),
                                      fields={"username": [msg("is your own account")]})
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
