"""``disaster assess`` (CONTRACT.md) and ``disaster assessment params show|set|reset``."""

from __future__ import annotations

import json
from typing import Any

import click

from disaster.access import cli_actor
from disaster.assessment.parameters import DEFAULTS, load_parameters, reset_parameters, set_parameters
from disaster.assessment.risk import risk_document
from disaster.assessment.service import assessment_document
from disaster.errors import DisasterValidationError
from disaster.events import get_event
from web import assessment_inputs as gather
from web.commands.common import CliContext, command_options, emit

_SUMMARY = ("affected_people", "evacuated", "needing_aid", "collapsed_rooms",
            "severely_damaged_rooms", "crop_affected_ha", "direct_loss_10k_yuan")


def _assessment_text(doc: dict[str, Any]) -> str:
    lines = ["area            " + " ".join(f"{k[:14]:>15}" for k in _SUMMARY)]

    def row(label: str, r: dict[str, Any]) -> None:
        lines.append(f"{label[:15]:<15} " + " ".join(
            f"{r['modelled'].get(k, 0)!s:>7}/{r['reported'].get(k, 0)!s:<7}" for k in _SUMMARY))

    for county in doc["by_county"]:
        row(county.get("name") or county["code"], county)
    row("total", doc["totals"])
    share = doc["totals"]["loss_share_of_gdp"]
    lines.append(f"(modelled/reported)  loss share of GDP: modelled {share['modelled_percent']} %, "
                 f"reported {share['reported_percent']} % (target ≤ {share['target_percent']} %)")
    if doc["silent"]:
        lines.append(f"silent communities ({len(doc['silent'])}): " + " ".join(doc["silent"][:30])
                     + (" …" if len(doc["silent"]) > 30 else ""))
    if doc["far_from_model"]:
        lines.append(f"reports far from the model ({len(doc['far_from_model'])}): "
                     + " ".join(doc["far_from_model"][:30]))
    return "\n".join(lines)


def _risk_text(doc: dict[str, Any]) -> str:
    lines = ["rank code          risk    H      E      V      C      name"]
    for r in doc["communities"]:
        lines.append(f"{r['rank']:>4} {r['code']:<13} {r['risk']:<7} {r['hazard']:<6} "
                     f"{r['exposure']:<6} {r['vulnerability']:<6} {r['coping']:<6} {r['name']}")
    return "\n".join(lines)


@click.command("assess")
@click.option("--event", "event", default=None, help="Compare with this event's reports (id or code).")
@click.option("--only-affected", is_flag=True,
              help="List only communities with modelled impact or a report.")
@click.option("--risk", "show_risk", is_flag=True,
              help="Print the pre-event risk index (ranked) instead of the damage assessment.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="With --risk: only the N highest-risk communities.")
@click.option("--indicators", "show_indicators", is_flag=True, help="Print the plan indicators.")
@command_options
def assess(obj: CliContext, event: str | None, only_affected: bool, show_risk: bool,
           limit: int | None, show_indicators: bool) -> None:
    """Modelled versus reported damage per community and roll-ups."""
    with obj.session() as session:
        if show_risk:
            doc = risk_document(gather.risk(session), limit)
            emit(obj, doc, _risk_text)
            return
        event_id = get_event(session, event).id if event else None
        a = gather.assessment(session, event_id)
        if show_indicators:
            rows = gather.indicators(session, a)
            emit(obj, {"indicators": rows}, lambda d: "\n".join(
                f"{r['key']:<20} {r['value']!s:>8} {r['comparison']} {r['target']!s:<6} "
                f"{'met' if r['met'] else ('no data' if r['met'] is None else 'NOT met')}"
                for r in d["indicators"]))
            return
        doc = assessment_document(a, only_affected=only_affected)
    emit(obj, doc, _assessment_text)


@click.group("assessment")
def assessment() -> None:
    """Assessment parameters: risk weights and impact curves."""


@assessment.group("params")
def params() -> None:
    """Show, change or reset the risk weights and impact curves."""


@params.command("show")
@click.argument("name", required=False, type=click.Choice(sorted(DEFAULTS)))
@command_options
def show(obj: CliContext, name: str | None) -> None:
    """Print the effective parameters (defaults with stored overrides)."""
    with obj.session() as session:
        weights, curves = load_parameters(session)
    doc = {"risk_weights": weights, "impact_curves": curves}
    if name:
        doc = {name: doc[name]}
    click.echo(json.dumps(doc, ensure_ascii=False, indent=None if obj.fmt == "json" else 2))


@params.command("set")
@click.argument("name", type=click.Choice(sorted(DEFAULTS)))
@click.argument("file", type=click.File("r", encoding="utf-8"))
@command_options
def set_(obj: CliContext, name: str, file: Any) -> None:
    """Override keys of NAME from a JSON FILE (``-`` for standard input)."""
    try:
        value = json.load(file)
    except json.JSONDecodeError as exc:
        label = getattr(file, "name", "input")
        raise DisasterValidationError(f"{label}: not JSON ({exc})",
                                      fields={label: [str(exc)]}) from exc
    with obj.session() as session:
        effective = set_parameters(session, cli_actor(), name, value)
    emit(obj, {name: effective}, f"{name} updated")


@params.command("reset")
@click.argument("name", type=click.Choice(sorted(DEFAULTS)))
@command_options
def reset(obj: CliContext, name: str) -> None:
    """Drop the stored overrides of NAME (defaults apply again)."""
    with obj.session() as session:
        reset_parameters(session, cli_actor(), name)
    emit(obj, {"reset": name}, f"{name} reset to defaults")


def register(group: click.Group) -> None:
    group.add_command(assess)
    group.add_command(assessment)

