"""The ``disaster`` command line (CONTRACT.md). Each command group lives in ``web/commands``."""

from __future__ import annotations

import sys

import click

from web.commands.common import CliContext
from web.plugins import import_present

# Command modules; each exposes ``register(group)``. A module not yet present is skipped.
COMMAND_MODULES = [
    "web.commands.setup",      # init, sample load, demo
    "web.commands.users",      # users add / token / revoke
    "web.commands.data",       # import, export
    "web.commands.sample",     # sample load
    "web.commands.serve",      # serve
    "web.commands.weather",    # weather ingest, alerts list/export, scheduler run
    "web.commands.demo",       # demo: init, sample, scenario replay, serve
    "web.commands.officers",   # officers coverage, reports
    "web.commands.plans",      # dispatch plan, evacuation plan, stock
    "web.commands.evacuation",  # evacuation plan/show, shelters status/arrive/depart/safety
    "web.commands.assess",     # assess
    "web.commands.deliver",    # deliver run (delivery workers)
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database", "database", envvar="DISASTER_DATABASE_URL", default=None,
              help="Database URL (default: SpatiaLite file in the instance folder).")
@click.pass_context
def main(ctx: click.Context, database: str | None) -> None:
    """Disaster early-warning and relief coordination (灾害预警与救灾协调系统)."""
    ctx.obj = CliContext(database=database)


def _register_commands() -> None:
    for module in import_present(COMMAND_MODULES):
        module.register(main)


_register_commands()


def run() -> None:  # pragma: no cover - console entry point
    main(prog_name="disaster")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
