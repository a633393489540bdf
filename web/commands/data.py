"""``disaster import KIND FILE`` and ``disaster export KIND`` (CONTRACT.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from disaster.access import cli_actor
from gis.errors import ValidationError
from gis.messages import msg
from web.commands.common import CliContext, command_options, emit
from web.data_io import EXPORT_KINDS, IMPORT_KINDS, default_format, export_kind, import_file


@click.command("import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--encoding", type=click.Choice(["auto", "utf-8", "gbk"]), default="auto",
              show_default=True, help="Text encoding of the file (auto: UTF-8 or GBK).")
@click.option("--crs", default=None,
              help="CRS of the coordinates when the file declares none (e.g. EPSG:4490).")
@click.option("--from-gcj02", is_flag=True,
              help="Coordinates are GCJ-02 (Chinese web maps): convert them to WGS 84.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None,
              help="Refuse files larger than this (default: DISASTER_IMPORT_MAX_BYTES or 512 MiB).")
@command_options
def import_command(obj: CliContext, kind: str, file: Path, encoding: str, crs: str | None,
                   from_gcj02: bool, max_bytes: int | None) -> None:
    """Import FILE (GeoJSON, GeoPackage, Shapefile or CSV) as KIND, all-or-nothing."""
    with obj.session() as session:
        summary = import_file(session, cli_actor(), kind, file, encoding=encoding, crs=crs,
                              from_gcj02=from_gcj02, max_bytes=max_bytes)
    emit(obj, summary.as_dict(), lambda _d: summary.text())


@click.command("export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: standard output).")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8",
              show_default=True, help="Text encoding of CSV/JSON/GeoJSON output.")
@command_options
def export_command(obj: CliContext, kind: str, output: Path | None, encoding: str) -> None:
    """Export KIND as GeoJSON, CSV, GeoPackage or JSON (--format; default GeoJSON)."""
    fmt = obj.fmt if obj.fmt in ("geojson", "csv", "gpkg", "json") else default_format(kind)
    if fmt not in ("geojson", "csv", "gpkg", "json"):
        raise ValidationError(msg("format %(format)s is not an export format", format=fmt),
                              fields={"format": [msg("must be one of %(expected)s",
                                                     expected="geojson, csv, gpkg, json")]},
                              field_codes={"format": ["choice"]})
    with obj.session() as session:
        if output is None:
            export_kind(session, kind, fmt, sys.stdout.buffer, encoding=encoding)
            sys.stdout.buffer.flush()
            return
        count = export_kind(session, kind, fmt, output, encoding=encoding)
    click.echo(f"{count} {kind} written to {output} ({fmt})", err=True)


def register(group: click.Group) -> None:
    group.add_command(import_command)
    group.add_command(export_command)
