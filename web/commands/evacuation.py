"""``disaster evacuation plan|show`` and ``disaster shelters status|arrive|depart|count|history|safety``."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from disaster.access import cli_actor
from shelters import evacuation, safety, services
from shelters.errors import ShelterNotFound
from shelters.models import Shelter
from web.commands.common import CliContext, command_options, emit


@click.group("evacuation")
def evacuation_group() -> None:
    """Evacuation plans: people at risk to safe shelters."""


@evacuation_group.command("plan")
@click.option("--penalty-km", type=float, default=None,
              help="Cost of one unplaced person in km of travel (default: the setting, 50).")
@click.option("--period", type=click.Choice(["day", "night"]), default=None,
              help="Plan with day or night capacity where it differs.")
@command_options
def plan(obj: CliContext, penalty_km: float | None, period: str | None) -> None:
    """Compute and store the optimal evacuation plan for the current warnings."""
    with obj.session() as session:
        document = evacuation.plan_evacuation(session, cli_actor(), penalty_km=penalty_km,
                                              period=period)
    emit(obj, document, _plan_text)


@evacuation_group.command("show")
@click.argument("plan_id", type=int, required=False)
@click.option("--community", default=None, help="Only where this community's people go.")
@command_options
def show(obj: CliContext, plan_id: int | None, community: str | None) -> None:
    """Print a stored plan (default: the latest)."""
    with obj.session() as session:
        if plan_id is None:
            plan_id = evacuation.latest_plan_id(session)
            if plan_id is None:
                raise ShelterNotFound("no evacuation plan has been computed yet",
                                      fields={"plan_id": ["no plan yet"]})
        document = evacuation.get_plan(session, plan_id)
    if community:
        emit(obj, evacuation.community_destinations(document, community), _community_text)
    else:
        emit(obj, document, _plan_text)


def _plan_text(d: dict[str, Any]) -> str:
    s = d["summary"]
    lines = [f"plan {d['id']}: {s['people']} people at risk in {s['communities']} communities, "
             f"{s['assigned']} placed in {s['shelters']} safe shelters, {s['unassigned']} "
             f"unplaced; objective {d['objective']:.3f} ({d['distance_mode']})"]
    lines += [f"  {a['community']} -> {a['shelter']}: {a['people']} ({a['distance_km']:.1f} km)"
              for a in d["assignments"]]
    lines += [f"  {u['community']}: {u['people']} unplaced" for u in d["unassigned"]]
    return "\n".join(lines)


def _community_text(d: dict[str, Any]) -> str:
    lines = [f"community {d['community']} (plan {d['plan']}):"]
    lines += [f"  -> {a['shelter']}: {a['people']} ({a['distance_km']:.1f} km)"
              for a in d["destinations"]]
    if d["unassigned"]:
        lines.append(f"  unplaced: {d['unassigned']}")
    return "\n".join(lines)


@click.group("shelters")
def shelters_group() -> None:
    """Shelter status, occupancy and safety."""


def _shelter_text(d: dict[str, Any]) -> str:
    return (f"{d['code']} {d['name']}: {d['status']}, {d['occupancy']}/{d['capacity']} "
            f"({d['free']} free)")


@shelters_group.command("status")
@click.argument("code")
@click.argument("status", type=click.Choice(["standby", "open", "full", "closed"]))
@click.option("--reason", default=None)
@command_options
def status(obj: CliContext, code: str, status: str, reason: str | None) -> None:
    """Set a shelter's status."""
    with obj.session() as session:
        data = services.snapshot(services.set_status(session, cli_actor(), code, status, reason))
    emit(obj, data, _shelter_text)


def _occupancy_command(name: str, kind: str, help_text: str) -> None:
    @shelters_group.command(name, help=help_text)
    @click.argument("code")
    @click.argument("people", type=int)
    @click.option("--override", is_flag=True, help="Allow occupancy beyond capacity (audited).")
    @click.option("--reason", default=None, help="Required with --override.")
    @command_options
    def _cmd(obj: CliContext, code: str, people: int, override: bool,
             reason: str | None) -> None:
        with obj.session() as session:
            services.record_occupancy(session, cli_actor(), code, kind, people,
                                      override=override, reason=reason)
            data = services.snapshot(services.get_shelter(session, code))
        emit(obj, data, _shelter_text)


_occupancy_command("arrive", "arrival", "Record PEOPLE arriving at shelter CODE.")
_occupancy_command("depart", "departure", "Record PEOPLE leaving shelter CODE.")
_occupancy_command("count", "count", "Record a head count of PEOPLE at shelter CODE.")


@shelters_group.command("history")
@click.argument("code")
@command_options
def history(obj: CliContext, code: str) -> None:
    """Occupancy history of a shelter."""
    with obj.session() as session:
        rows = services.occupancy_history(session, code)
    emit(obj, rows, lambda rs: "\n".join(
        f"{r['at']} {r['kind']} {r['people']}: {r['occupancy_before']} -> "
        f"{r['occupancy_after']}/{r['capacity']} by {r['actor']}"
        + (f" OVERRIDE ({r['reason']})" if r["override"] else "") for r in rs))


@shelters_group.command("safety")
@command_options
def safety_cmd(obj: CliContext) -> None:
    """Every shelter's safety under the current warnings."""
    with obj.session() as session:
        shelters = list(session.scalars(select(Shelter).order_by(Shelter.code)))
        verdicts = safety.assess(session, shelters)
    data = [{"shelter": code, "safe": v.safe, "reasons": v.reasons} for code, v in verdicts.items()]
    emit(obj, data, lambda rows: "\n".join(
        f"{r['shelter']}: " + ("safe" if r["safe"] else "UNSAFE " + "; ".join(
            f"{x['rule']} {x['hazard']} {x['level']} in {x['community']}" for x in r["reasons"]))
        for r in rows))


def register(group: click.Group) -> None:
    group.add_command(evacuation_group)
    group.add_command(shelters_group)
