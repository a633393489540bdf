"""``disaster init`` (and, from the sample-data work, ``sample load`` and ``demo``)."""

from __future__ import annotations

import click

from web.commands.common import CliContext, command_options, emit
from web.migrate import current_heads, upgrade


@click.command("init")
@command_options
def init(obj: CliContext) -> None:
    """Create or upgrade the schema to the latest migration (idempotent)."""
    engine = obj.runtime.engine
    upgrade(engine)
    heads = sorted(current_heads(engine))
    emit(obj, {"database": engine.url.render_as_string(hide_password=True), "revisions": heads},
         lambda d: f"schema at {', '.join(d['revisions'])} on {d['database']}")


def register(group: click.Group) -> None:
    group.add_command(init)
