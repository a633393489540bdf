"""Roles, scopes and the acting user passed to every service function.

Domain services check permissions themselves (not only the views): a write from the web, the
API, the CLI or a job goes through the same check.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from disaster.errors import DisasterPermissionDenied
from gis.messages import Message, msg


class Role(enum.StrEnum):
    ADMIN = "admin"
    DUTY_OFFICER = "duty_officer"
    INFO_OFFICER = "info_officer"
    DEPOT_MANAGER = "depot_manager"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (CLI as administrator, jobs).

    ``scopes`` holds community, township or county codes for officers and depot codes for
    depot managers.
    """

    user_id: int | None
    username: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    source: str = "web"

    @property
    def is_system(self) -> bool:
        return self.user_id is None


# How people name the roles in messages (the enum values are machine codes).
ROLE_WORDS = {Role.ADMIN: msg("administrator"), Role.DUTY_OFFICER: msg("duty officer"),
              Role.INFO_OFFICER: msg("information officer"),
              Role.DEPOT_MANAGER: msg("depot manager")}

SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN, source="system")


def cli_actor() -> Actor:
    """The administrator acting from the command line on the server itself."""
    return Actor(user_id=None, username="cli", role=Role.ADMIN, source="cli")


def role_word(role: Role | str) -> Message:
    """The role as people name it (管理员, 值班员…), translatable."""
    return ROLE_WORDS.get(Role(role), msg("this role"))


def require_role(actor: Actor, *roles: Role | str, action: str = "this action") -> None:
    """Raise :class:`DisasterPermissionDenied` unless ``actor`` has one of ``roles``.

    ``action`` is an English phrase ("editing needs profiles") or a :func:`msg`; a plain
    phrase is a catalogue key, so the message reads in the request's language either way.
    """
    allowed = {Role(r) for r in roles}
    if actor.role not in allowed:
        raise DisasterPermissionDenied(
            msg("the %(role)s role may not perform %(action)s", role=role_word(actor.role),
                action=action if isinstance(action, Message) else msg(action)),
        )


def covers_community(actor: Actor, community_code: str, township_code: str | None = None,
                     county_code: str | None = None) -> bool:
    """True when ``actor``'s scope includes the community (directly, by township or county)."""
    if actor.role in (Role.ADMIN, Role.DUTY_OFFICER):
        return True
    codes = {community_code, township_code, county_code}
    codes.discard(None)
    # A scope code given as a prefix of the 12-digit community code also covers it.
    return bool(actor.scopes & codes) or any(
        community_code.startswith(s) for s in actor.scopes if len(s) in (6, 9)
    )


def require_community(actor: Actor, community_code: str, township_code: str | None = None,
                      county_code: str | None = None, *, name: str | None = None) -> None:
    """Raise unless ``actor`` may act for the community (``name`` names it in the message)."""
    if not covers_community(actor, community_code, township_code, county_code):
        raise DisasterPermissionDenied(
            msg("%(community)s is outside your scope", community=name or community_code),
        )


def covers_depot(actor: Actor, depot_code: str) -> bool:
    """True when ``actor`` may move stock of ``depot_code``."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.DEPOT_MANAGER and depot_code in actor.scopes
