"""Which GRIB2 parameters feed which engine variables, and how their units convert.

The table is data: ``params.csv`` beside this module covers ECMWF open data (``tp`` in
metres, accumulated since the run started) and WMO-standard APCP as CMA and NCEP send it
(kg m⁻² = mm). An administrator extends or overrides it without code with a CSV of the same
columns at ``$DISASTER_HOME/grib_params.csv`` or named by a source's ``params`` option;
rows from those files are tried first.

A row matches a message when every non-blank key equals the message's: ``centre`` (GRIB
originating centre), ``discipline``, ``category``, ``number`` (parameter), ``element``
(GDAL's element name without its trailing hours, e.g. ``APCP`` for ``APCP06``) and
``level`` (GDAL's level, e.g. ``2-HTGL``). The engine value is ``raw × factor + offset``.
``kind`` is ``sum`` for accumulated quantities (de-accumulated to hourly amounts) or
``instant`` for values valid at a time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from disaster.warnings.rules import VARIABLES
from disaster.weather.errors import IngestError
from gis.settings import environment

BUNDLED = Path(__file__).with_name("params.csv")
KEYS = ("centre", "discipline", "category", "number", "element", "level")
KINDS = ("sum", "instant")


@dataclass(frozen=True)
class ParamRow:
    """One mapping row; ``None`` keys match anything."""

    centre: int | None
    discipline: int | None
    category: int | None
    number: int | None
    element: str | None
    level: str | None
    variable: str
    factor: float
    offset: float
    kind: str

    def matches(self, msg: dict[str, object]) -> bool:
        return all(getattr(self, k) is None or getattr(self, k) == msg.get(k) for k in KEYS)


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


def read_table(path: Path) -> list[ParamRow]:
    """Rows of one mapping CSV; a bad row raises :class:`IngestError` naming file and row."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                variable = row["variable"].strip()
                kind = (row.get("kind") or "instant").strip()
                if variable not in VARIABLES:
                    raise ValueError(f"unknown variable {variable!r}")
                if kind not in KINDS:
                    raise ValueError(f"kind must be one of {', '.join(KINDS)}")
                out.append(ParamRow(
                    _int(row.get("centre") or ""), _int(row.get("discipline") or ""),
                    _int(row.get("category") or ""), _int(row.get("number") or ""),
                    (row.get("element") or "").strip().upper() or None,
                    (row.get("level") or "").strip().upper() or None,
                    variable, float(row.get("factor") or 1), float(row.get("offset") or 0), kind))
            except (KeyError, ValueError) as exc:
                raise IngestError(f"{path.name} row {n}: {exc}", source=str(path)) from None
    return out


def load_table(extra: str | Path | None = None) -> list[ParamRow]:
    """The administrator's rows (source option, then the instance file) before the bundled ones."""
    paths = []
    if extra:
        paths.append(Path(extra))
    local = environment().home / "grib_params.csv"
    if local.is_file():
        paths.append(local)
    rows: list[ParamRow] = []
    for p in paths:
        if not p.is_file():
            raise IngestError(f"{p}: GRIB parameter table not found", source=str(p))
        rows += read_table(p)
    return rows + read_table(BUNDLED)


_NUM = re.compile(r"^\s*(-?\d+)")


def message_keys(tags: dict[str, str]) -> dict[str, object]:
    """Centre, discipline, category, number, element and level of a GDAL GRIB band."""
    def num(text: str | None) -> int | None:
        m = _NUM.match(text or "")
        return int(m.group(1)) if m else None

    ids = dict(p.split("=", 1) for p in (tags.get("GRIB_IDS") or "").split() if "=" in p)
    values = (tags.get("GRIB_PDS_TEMPLATE_ASSEMBLED_VALUES") or "").split()
    return {
        "centre": num(ids.get("CENTER")),
        "discipline": num(tags.get("GRIB_DISCIPLINE")),
        "category": int(values[0]) if len(values) > 1 else None,
        "number": int(values[1]) if len(values) > 1 else None,
        "element": re.sub(r"\d+$", "", (tags.get("GRIB_ELEMENT") or "").upper()) or None,
        "level": (tags.get("GRIB_SHORT_NAME") or "").upper() or None,
    }


def match(table: list[ParamRow], msg: dict[str, object]) -> ParamRow | None:
    """The first row matching the message, or None (the message is not used)."""
    return next((r for r in table if r.matches(msg)), None)
