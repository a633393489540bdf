"""``disaster users add|token|revoke``."""

from __future__ import annotations

import sys

import click

from disaster import accounts
from disaster.access import cli_actor
from disaster.errors import DisasterValidationError
from disaster.record_schemas import UserRecord
from gis.messages import msg
from gis.schema import validate
from web.commands.common import CliContext, command_options, emit


@click.group("users")
def users() -> None:
    """User accounts and API tokens."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["admin", "duty_officer", "info_officer", "depot_manager"]))
@click.option("--scope", "scopes", multiple=True,
              help="Community, township or county code (officers) or depot code (managers).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None, help="E-mail address for notifications.")
@click.option("--phone", default=None, help="Mobile number for SMS notifications.")
@click.option("--update", is_flag=True, help="Change an existing user instead of failing.")
@command_options
def add(obj: CliContext, username: str, role: str, scopes: tuple[str, ...],
        password_stdin: bool, display_name: str | None, email: str | None,
        phone: str | None, update: bool) -> None:
    """Create a user with a role and scope (and optional e-mail/phone for notifications)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    # The user record schema the admin page and imports use: every bad option named at once.
    validate(UserRecord, {"username": username, "role": role, "scopes": list(scopes),
                          "display_name": display_name, "email": email, "phone": phone},
             what=msg("user"), error=DisasterValidationError)
    with obj.session() as session:
        user = accounts.add_user(session, cli_actor(), username, role, password, scopes,
                                 display_name=display_name, email=email, phone=phone,
                                 update=update)
        data = accounts.snapshot(user) | {"id": user.id}
    emit(obj, data, lambda d: f"user {d['username']} ({d['role']}) saved")


@users.command("token")
@click.argument("username")
@command_options
def token(obj: CliContext, username: str) -> None:
    """Print a new API token for USERNAME (shown once; stored hashed)."""
    with obj.session() as session:
        value = accounts.issue_token(session, cli_actor(), username)
    emit(obj, {"username": username, "token": value}, value)


@users.command("revoke-tokens")
@click.argument("username")
@command_options
def revoke(obj: CliContext, username: str) -> None:
    """Revoke every API token of USERNAME."""
    with obj.session() as session:
        n = accounts.revoke_tokens(session, cli_actor(), username)
    emit(obj, {"username": username, "revoked": n}, f"{n} token(s) revoked")


def register(group: click.Group) -> None:
    group.add_command(users)
