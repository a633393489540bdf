"""``disaster officers …``, ``disaster reports …`` and ``disaster events …`` (CONTRACT.md)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from disaster import events as events_svc
from disaster import officers as officers_svc
from disaster.access import cli_actor
from disaster.reports import deadlines, rollup
from disaster.reports.validation import parse_time
from web.commands.common import CliContext, command_options, emit


@click.group("officers")
def officers() -> None:
    """Disaster information officers (灾害信息员) and their coverage."""


@officers.command("coverage")
@command_options
def coverage(obj: CliContext) -> None:
    """Primary and backup officer of every community; lists communities without one."""
    with obj.session() as session:
        data = officers_svc.coverage(session)

    def text(d: dict[str, Any]) -> str:
        lines = [f"{len(d['communities'])} communities, {len(d['uncovered'])} without a primary "
                 f"officer, {len(d['without_backup'])} without a backup"]
        if d["uncovered"]:
            lines.append("uncovered: " + " ".join(d["uncovered"]))
        return "\n".join(lines)

    emit(obj, data, text)


@officers.command("propose")
@click.option("--max-load", type=int, default=officers_svc.DEFAULT_MAX_LOAD, show_default=True,
              help="Most communities one officer may be primary for.")
@command_options
def propose(obj: CliContext, max_load: int) -> None:
    """Propose officers for uncovered communities (optimal assignment, nearest from home)."""
    with obj.session() as session:
        data = officers_svc.proposal_dict(
            officers_svc.propose_assignments(session, cli_actor(), max_load=max_load))
    emit(obj, data, lambda d: "\n".join(
        [f"proposal {d['id']}: {len(d['items'])} assignments, {len(d['unassigned'])} left"]
        + [f"  {i['community']} ← {i['officer_code']} ({i['distance_km']} km)"
           for i in d["items"]]))


@officers.command("approve")
@click.argument("proposal_id", type=int)
@command_options
def approve(obj: CliContext, proposal_id: int) -> None:
    """Approve proposal PROPOSAL_ID (as administrator)."""
    with obj.session() as session:
        data = officers_svc.approve_proposal(session, cli_actor(), proposal_id)
    emit(obj, data, lambda d: f"proposal {d['id']} approved: {len(d['applied'])} applied, "
                              f"{len(d['skipped'])} skipped")


@officers.command("reject")
@click.argument("proposal_id", type=int)
@command_options
def reject(obj: CliContext, proposal_id: int) -> None:
    """Reject proposal PROPOSAL_ID."""
    with obj.session() as session:
        data = officers_svc.proposal_dict(
            officers_svc.reject_proposal(session, cli_actor(), proposal_id))
    emit(obj, data, lambda d: f"proposal {d['id']} rejected")


@officers.command("handover")
@click.argument("from_code")
@click.argument("to_code")
@click.option("--community", "communities", multiple=True,
              help="Only these communities (default: all of FROM_CODE's).")
@click.option("--deactivate", is_flag=True, help="Retire FROM_CODE afterwards.")
@command_options
def handover(obj: CliContext, from_code: str, to_code: str, communities: tuple[str, ...],
             deactivate: bool) -> None:
    """Hand FROM_CODE's communities over to TO_CODE without leaving a gap."""
    with obj.session() as session:
        data = officers_svc.handover(session, cli_actor(), from_code, to_code,
                                     list(communities) or None, deactivate)
    emit(obj, data, lambda d: f"{len(d['moved'])} assignment(s) moved {d['from']} → {d['to']}")


@click.group("reports")
def reports() -> None:
    """Field reports: roll-ups, CSV export, overdue reports and reminders, thresholds."""


@reports.command("rollup")
@click.option("--event", default=None, help="Event id or code (default: all events).")
@click.option("--profile", type=click.Choice(rollup.PROFILES), default="city",
              show_default=True, help="Thresholds for the suggested response level.")
@command_options
def rollup_cmd(obj: CliContext, event: str | None, profile: str) -> None:
    """Totals by township, county and city and the suggested response level."""
    with obj.session() as session:
        data = rollup.rollup(session, event, profile)

    def text(d: dict[str, Any]) -> str:
        cols = ("affected_people", "dead", "missing", "evacuated", "needing_aid",
                "collapsed_rooms", "crop_affected_ha", "direct_loss_10k_yuan")
        lines = ["area".ljust(22) + "".join(f"{c[:12]:>13}" for c in cols)]
        for row in [*d["counties"], d["totals"]]:
            label = row.get("name") or row.get("code") or "total"
            lines.append(f"{label[:20]:<22}" + "".join(f"{row[c]!s:>13}" for c in cols))
        level = d["response"]["level"]
        lines.append(f"suggested response level ({d['response']['profile']}): "
                     f"{level or 'none'}")
        return "\n".join(lines)

    emit(obj, data, text)


@reports.command("export")
@click.option("--event", default=None, help="Event id or code (default: all events).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file (UTF-8 with BOM for spreadsheet programs); default stdout.")
@command_options
def export_cmd(obj: CliContext, event: str | None, output: Path | None) -> None:
    """The standard indicators by township as CSV."""
    with obj.session() as session:
        text = rollup.export_csv(session, event)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8-sig")
        click.echo(f"wrote {output}", err=True)


@reports.command("overdue")
@command_options
def overdue(obj: CliContext) -> None:
    """Communities whose 初报 or daily 续报 is overdue."""
    with obj.session() as session:
        data = deadlines.overdue_reports(session)
    emit(obj, data, lambda d: "\n".join(
        [f"{len(d)} overdue"] + [f"  {i['community']} {i['name']} {i['kind']} due "
                                 f"{i['due_at']} ({i['event_code']})" for i in d]))


@reports.command("remind")
@click.option("--now", default=None, help="Evaluate at this ISO time (default: the clock).")
@command_options
def remind(obj: CliContext, now: str | None) -> None:
    """Record new report obligations and remind the officers of overdue reports."""
    at = parse_time(now) if now else None
    with obj.session() as session:
        data = deadlines.run_deadline_job(session, at)
    emit(obj, data, lambda d: f"{d['obligations']} new obligation(s), "
                              f"{d['reminders']} reminder(s) sent")


@reports.command("thresholds")
@click.option("--profile", type=click.Choice(rollup.PROFILES), default=None)
@click.option("--set", "change", nargs=4, default=None,
              metavar="PROFILE LEVEL INDICATOR VALUE", help="Change one threshold.")
@command_options
def thresholds(obj: CliContext, profile: str | None,
               change: tuple[str, str, str, str] | None) -> None:
    """Show (or with --set change) the response-level thresholds."""
    with obj.session() as session:
        if change:
            rollup.set_threshold(session, cli_actor(), change[0], change[1], change[2],
                                 change[3])  # type: ignore[arg-type]
        profiles = [profile] if profile else list(rollup.PROFILES)
        data = {p: rollup.thresholds(session, p) for p in profiles}

    def text(d: dict[str, Any]) -> str:
        lines = []
        for p, table in d.items():
            lines.append(f"[{p}]")
            for level, values in table.items():
                lines.append(f"  {level:<4}" + "  ".join(f"{k}={v:g}" for k, v in values.items()))
        return "\n".join(lines)

    emit(obj, data, text)


@click.group("events")
def events() -> None:
    """Disaster events that reports belong to."""


@events.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), default=None)
@command_options
def events_list(obj: CliContext, status: str | None) -> None:
    """Events, newest first."""
    with obj.session() as session:
        data = [events_svc.event_dict(e) for e in events_svc.list_events(session, status)]
    emit(obj, data, lambda d: "\n".join(
        f"{e['id']:>4} {e['code']} {e['status']} {e['hazard']} {e['name']}" for e in d)
        or "no events")


@events.command("create")
@click.option("--hazard", required=True)
@click.option("--name", default=None)
@click.option("--started-at", default=None, help="ISO time (default now).")
@click.option("--area", "area_codes", multiple=True, help="County/township/community code.")
@command_options
def events_create(obj: CliContext, hazard: str, name: str | None, started_at: str | None,
                  area_codes: tuple[str, ...]) -> None:
    """Open a disaster event."""
    start: dt.datetime | None = parse_time(started_at) if started_at else None
    with obj.session() as session:
        data = events_svc.event_dict(events_svc.create_event(
            session, cli_actor(), hazard=hazard, name=name, started_at=start,
            area_codes=list(area_codes)))
    emit(obj, data, lambda d: f"event {d['id']} {d['code']} opened")


@events.command("close")
@click.argument("event_id")
@command_options
def events_close(obj: CliContext, event_id: str) -> None:
    """Close an event (no more reports due or accepted)."""
    with obj.session() as session:
        data = events_svc.event_dict(events_svc.close_event(session, cli_actor(), event_id))
    emit(obj, data, lambda d: f"event {d['code']} closed")


def register(group: click.Group) -> None:
    group.add_command(officers)
    group.add_command(reports)
    group.add_command(events)

