"""``weather ingest``, ``alerts list|export|approve``, ``warnings rules``, ``scheduler run``."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from pathlib import Path

import click
from sqlalchemy import select

from disaster.errors import DisasterValidationError
from disaster.warnings import alerts as alerts_mod
from disaster.warnings import rules as rules_mod
from disaster.warnings.cap import alert_xml
from disaster.warnings.models import Alert
from disaster.warnings.service import ingest_and_evaluate
from web.commands.common import CliContext, command_options, emit


def _parse_now(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DisasterValidationError(f"--now {value!r} is not an ISO 8601 time",
                                      fields={"now": ["expected ISO 8601, e.g. 2020-08-01T06:00Z"]}) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


@click.group("weather")
def weather() -> None:
    """Weather ingestion (grid-files, grib2, open-meteo, cap-feed, scenario)."""


@weather.command("ingest")
@click.argument("provider")
@click.option("--source", required=True, help="Folder, file or URL.")
@click.option("--now", "now_text", default=None, help="Evaluation time (ISO 8601, default now).")
@click.option("--replay", is_flag=True, help="Evaluate at the end of each new hour, in order.")
@command_options
def ingest(obj: CliContext, provider: str, source: str, now_text: str | None, replay: bool) -> None:
    """One ingestion and warning evaluation; JSON: {"issued", "updated", "cancelled"}."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    now = _parse_now(now_text)
    with obj.session() as session:
        report, counts = ingest_and_evaluate(session, provider, source, now=now, replay=replay)
    if report.errors and not (report.stored or report.revised or report.alerts or report.unchanged):
        # Nothing could be read at all: a failed command, not a run with a bad file in it
        # (the scheduler logs and carries on; a person at the command line needs exit 1).
        raise DisasterValidationError(f"{provider} {source}: {report.errors[0]}",
                                      fields={"source": [str(e) for e in report.errors]})
    for err in report.errors + report.gaps:
        click.echo(f"warning: {err}", err=True)
    data = dict(counts)
    data["ingest"] = report.as_dict()
    emit(obj, data, lambda d: (f"issued {d['issued']}, updated {d['updated']}, cancelled "
                               f"{d['cancelled']} (stored {report.stored} grids, "
                               f"{report.unchanged} unchanged, {len(report.errors)} errors)"))


@weather.command("status")
@command_options
def status(obj: CliContext) -> None:
    """Per GRIB2 source: latest run, steps held and the run each valid hour comes from."""
    from disaster.weather.grib import runs

    with obj.session() as session:
        data = runs.status(session)

    def text(d: list[dict]) -> str:
        lines = []
        for s in d:
            lines.append(f"{s['source']}: latest run {s['latest_run'] or '-'}")
            for r in s["runs"]:
                lines.append(f"  run {r['run']}: {r['steps_held']} steps held "
                             f"({', '.join(f'{h:g}' for h in r['steps'])} h)")
            for h in s["hours"]:
                member = "" if h["member"] is None else f" member {h['member']}"
                lines.append(f"  {h['valid_time']} {h['variable']}{member} from {h['run']}")
        return "\n".join(lines) or "no GRIB2 data held"

    emit(obj, data, text)


@click.group("alerts")
def alerts() -> None:
    """CAP 1.2 alert messages."""


@alerts.command("list")
@click.option("--active", is_flag=True, help="Only current messages.")
@command_options
def list_alerts(obj: CliContext, active: bool) -> None:
    """Alerts with id, hazard, level, status, msg_type, communities, sent, expires, references."""
    with obj.session() as session:
        data = alerts_mod.alert_dicts(session, active_only=active)
    emit(obj, data, lambda d: "\n".join(
        f"{a['id']:>5} {a['identifier']} {a['msg_type']:<6} {a['hazard']:<10} {a['level']:<6} "
        f"{a['status']:<9} {len(a['communities'])} communities, sent {a['sent']}" for a in d)
        or "no alerts")


@alerts.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False),
              help="Folder for one CAP XML file per message.")
@click.option("--active", is_flag=True, help="Only current messages.")
@command_options
def export_alerts(obj: CliContext, output: str, active: bool) -> None:
    """Write one CAP 1.2 XML file per alert message (``--format cap``)."""
    if obj.fmt not in ("text", "cap", "json"):
        raise DisasterValidationError("alerts export supports --format cap",
                                      fields={"format": ["use cap"]})
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with obj.session() as session:
        stmt = select(Alert).order_by(Alert.id)
        if active:
            stmt = stmt.where(Alert.status == "active")
        for a in session.scalars(stmt):
            path = folder / f"{a.identifier}.xml"
            path.write_bytes(alert_xml(session, a))
            written.append(str(path))
    if obj.fmt == "json":
        emit(obj, {"files": written})
    else:
        click.echo(f"wrote {len(written)} CAP files to {folder}")


@alerts.command("approve")
@click.argument("alert_id", type=int)
@command_options
def approve_alert(obj: CliContext, alert_id: int) -> None:
    """Release a message waiting for a duty officer's approval."""
    from disaster.access import cli_actor

    with obj.session() as session:
        a = alerts_mod.approve(session, cli_actor(), alert_id)
        data = alerts_mod.alert_dict(a)
    emit(obj, data, lambda d: f"approved {d['identifier']}")


@click.group("warnings")
def warnings_group() -> None:
    """Warning thresholds and alert policy (CMA defaults, DESIGN.md §4.1)."""


@warnings_group.command("rules")
@command_options
def show_rules(obj: CliContext) -> None:
    """List the warning thresholds."""
    with obj.session() as session:
        data = rules_mod.rule_dicts(session)
    emit(obj, data, lambda d: "\n".join(
        f"{r['id']:>3} {r['hazard']:<10} {r['level']:<6} g{r['group']} {r['variable']:<12} "
        f"{r['kind']:<8} {r['window_hours']:>3} h {r['threshold']:>7g} {'' if r['enabled'] else '(off)'} "
        f"{r['note']}" for r in d))


@warnings_group.command("set-rule")
@click.argument("rule_id", type=int)
@click.option("--threshold", type=float, default=None)
@click.option("--window-hours", type=int, default=None)
@click.option("--enable/--disable", "enabled", default=None)
@command_options
def set_rule(obj: CliContext, rule_id: int, threshold: float | None, window_hours: int | None,
             enabled: bool | None) -> None:
    """Change a threshold, window or enabled flag."""
    from disaster.access import cli_actor

    with obj.session() as session:
        row = rules_mod.update_rule(session, cli_actor(), rule_id, threshold=threshold,
                                    window_hours=window_hours, enabled=enabled)
        data = {"id": row.id, "threshold": row.threshold, "window_hours": row.window_hours,
                "enabled": row.enabled}
    emit(obj, data, lambda d: f"rule {d['id']}: {d}")


@warnings_group.command("impact-matrix")
@click.argument("hazard", required=False)
@click.option("--enable/--disable", "enabled", default=None,
              help="Switch the hazard to its likelihood × impact matrix, or back to the rules.")
@click.option("--set", "changes", default=None,
              help='JSON of the keys to change, e.g. '
                   '\'{"matrix": {"high": [null, "yellow", "orange", "red"]}}\'.')
@command_options
def impact_matrix_cmd(obj: CliContext, hazard: str | None, enabled: bool | None,
                      changes: str | None) -> None:
    """Show impact matrices, or change one hazard's (impact-based warnings, WMO MHIBFWS)."""
    import json

    from disaster.access import cli_actor
    from disaster.warnings import impact_matrix

    with obj.session() as session:
        if hazard is None:
            data = impact_matrix.all_matrices(session)
        else:
            body = {}
            if changes:
                try:
                    body = json.loads(changes)
                except ValueError as exc:
                    raise DisasterValidationError(f"--set is not JSON ({exc})",
                                                  fields={"set": ["expected a JSON object"]}) from None
                if not isinstance(body, dict):
                    raise DisasterValidationError("--set must be a JSON object",
                                                  fields={"set": ["expected a JSON object"]})
            if enabled is not None:
                body["enabled"] = enabled
            data = [impact_matrix.set_matrix(session, cli_actor(), hazard, body) if body
                    else impact_matrix.effective(session, _hazard(hazard))]

    def text(d: list[dict]) -> str:
        lines = []
        for m in d:
            lines.append(f"{m['hazard']}: {'matrix in use' if m['enabled'] else 'threshold rules'}"
                         f" (trigger {m['trigger']})")
            lines.append("  impact \\ likelihood: " + " ".join(m["likelihoods"]))
            for imp in m["impacts"]:
                lines.append(f"  {imp:<8} " + " ".join(f"{c or '-':<8}" for c in m["matrix"][imp]))
        return "\n".join(lines)

    emit(obj, data, text)


def _hazard(value: str):  # type: ignore[no-untyped-def]
    from disaster.warnings.levels import Hazard

    try:
        return Hazard(value)
    except ValueError:
        names = ", ".join(h.value for h in Hazard)
        raise DisasterValidationError(f"unknown hazard {value!r}",
                                      fields={"hazard": [f"one of {names}"]}) from None


@click.group("scheduler")
def scheduler_group() -> None:
    """The scheduler process."""


@scheduler_group.command("run")
@click.option("--poll", type=float, default=2.0, help="Seconds between leader checks.")
@click.option("--speed", type=float, default=1.0, help="Divide every interval (exercises).")
@command_options
def scheduler_run(obj: CliContext, poll: float, speed: float) -> None:
    """Run the scheduler; with several processes on PostGIS exactly one is active."""
    from web import scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo("scheduler waiting for leadership", err=True)
    scheduler.run(obj.runtime, stop=stop, poll=poll, speed=speed,
                  on_leader=lambda: click.echo("scheduler: active", err=True))


@scheduler_group.command("add-source")
@click.argument("name")
@click.option("--provider", required=True)
@click.option("--source", required=True)
@click.option("--interval-minutes", type=float, default=10.0)
@click.option("--stale-after-minutes", type=float, default=90.0)
@click.option("--option", "option_items", multiple=True, metavar="KEY=VALUE",
              help="Provider option, repeatable (grib2: cycle_hours=12, steps=0-144/3, ...).")
@command_options
def add_source(obj: CliContext, name: str, provider: str, source: str, interval_minutes: float,
               stale_after_minutes: float, option_items: tuple[str, ...]) -> None:
    """Register a weather source for scheduled ingestion."""
    import json

    from disaster import jobs
    from disaster.access import cli_actor

    options = {}
    for item in option_items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DisasterValidationError(f"--option {item!r} is not KEY=VALUE",
                                          fields={"option": ["expected KEY=VALUE"]})
        try:
            options[key.strip()] = json.loads(value)  # numbers and true/false as such
        except ValueError:
            options[key.strip()] = value
    with obj.session() as session:
        row = jobs.add_source(session, cli_actor(), name=name, provider=provider, source=source,
                              interval_minutes=interval_minutes,
                              stale_after_minutes=stale_after_minutes, options=options or None)
        data = {"id": row.id, "name": row.name, "provider": row.provider, "source": row.source,
                "options": row.options}
    emit(obj, data, lambda d: f"source {d['name']} ({d['provider']}) registered")


def register(group: click.Group) -> None:
    for cmd in (weather, alerts, warnings_group, scheduler_group):
        group.add_command(cmd)
