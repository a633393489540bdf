"""``disaster sample load``: the 宿州 sample data set, idempotent."""

from __future__ import annotations

import click

from disaster.access import cli_actor
from web.commands.common import CliContext, command_options, emit
from web.sample_loader import load_sample, summary_text


@click.group("sample")
def sample() -> None:
    """The generated 宿州 sample data."""


@sample.command("load")
@click.option("--seed", type=int, default=None, help="Generator seed (default: the standard one).")
@command_options
def load(obj: CliContext, seed: int | None) -> None:
    """Load areas, communities, hazard zones, shelters, depots, stock, officers and users.

    Loading again changes nothing; demo passwords are printed only when users are created.
    """
    with obj.session() as session:
        result = load_sample(session, cli_actor(), seed=seed)
    emit(obj, result, summary_text)


def register(group: click.Group) -> None:
    group.add_command(sample)
