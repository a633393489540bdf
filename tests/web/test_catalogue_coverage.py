"""Every message a person can read has a zh_CN translation in a catalogue.

Scans the code for the calls that mark text for people (``msg(...)`` in the domain packages,
``_``/``_l``/``gettext``/``lazy_gettext`` in ``web``, ``_(...)`` in templates) and checks each
literal has a non-empty, non-fuzzy zh_CN entry in some ``web/translations`` catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gis", "disaster", "shelters", "stockpile", "web")
MARKERS = {"msg", "_", "_l", "gettext", "lazy_gettext"}
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?P<q>["'])(?P<text>(?:(?!(?P=q)).)+)(?P=q)\s*[,)]""", re.S)


def _catalogue() -> dict[str, str]:
    known: dict[str, str] = {}
    for po in (ROOT / "web" / "translations").glob("*/zh_CN/LC_MESSAGES/*.po"):
        with po.open("rb") as fh:
            for entry in read_po(fh, locale="zh_CN"):
                if entry.id and entry.string and not entry.fuzzy:
                    msgid = entry.id if isinstance(entry.id, str) else entry.id[0]
                    known[msgid] = entry.string if isinstance(entry.string, str) else entry.string[0]
    return known


def _marked_in_python() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else (
                    node.func.attr if isinstance(node.func, ast.Attribute) else None)
                first = node.args[0]
                if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", first.value))
    return found


def _marked_in_templates() -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / "web").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in TEMPLATE_CALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group("text")))
    return found


def test_every_marked_message_has_a_chinese_translation():
    known = _catalogue()
    missing = sorted({f"{where}: {text!r}" for where, text in
                      _marked_in_python() + _marked_in_templates() if text not in known})
    assert not missing, "untranslated messages:\n" + "\n".join(missing)
