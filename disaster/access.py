"""Roles, scopes and the acting user passed to every service function.

Domain services check permissions themselves (not only the views): a write from the web, the
API, the CLI or a job goes through the same check.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from disaster.errors import DisasterPermissionDenied


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


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN, source="system")


def cli_actor() -> Actor:
    """The administrator acting from the command line on the server itself."""
    return Actor(user_id=None, username="cli", role=Role.ADMIN, source="cli")


def require_role(actor: Actor, *roles: Role | str, action: str = "this action") -> None:
    """Raise :class:`DisasterPermissionDenied` unless ``actor`` has one of ``roles``."""
    allowed = {Role(r) for r in roles}
    if actor.role not in allowed:
        raise DisasterPermissionDenied(
            f"role {actor.role.value} may not perform {action}",
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
                      county_code: str | None = None) -> None:
    """Raise unless ``actor`` may act for the community."""
    if not covers_community(actor, community_code, township_code, county_code):
        raise DisasterPermissionDenied(
            f"community {community_code} is outside your scope",
        )


def covers_depot(actor: Actor, depot_code: str) -> bool:
    """True when ``actor`` may move stock of ``depot_code``."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.DEPOT_MANAGER and depot_code in actor.scopes
