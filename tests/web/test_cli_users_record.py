"""``disaster users add`` checks its input with the user record schema: every bad option named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.accounts import User
from gis.db import make_engine
from web.cli import main


@pytest.fixture(autouse=True)
def _dispose_cli_engines(cli_engines: list) -> None:
    """Each in-process CLI run builds an engine; close their pooled connections afterwards."""


def _users(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(User))
    engine.dispose()
    return n


def test_bad_username_email_and_phone_are_all_named(database_url: str) -> None:
    before = _users(database_url)
    result = CliRunner().invoke(main, ["users", "add", "a b", "--role", "admin", "--email",
                                       "not-mail", "--phone", "call me", "--database",
                                       database_url])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "username:" in line and "email:" in line and "phone:" in line
    assert _users(database_url) == before


def test_nul_bytes_in_a_display_name_are_refused(database_url: str) -> None:
    result = CliRunner().invoke(main, ["users", "add", "duty1", "--role", "duty_officer",
                                       "--name", "值班\x00员", "--database", database_url])
    assert result.exit_code == 1 and "display_name" in result.stderr
