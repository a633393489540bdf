"""Domain refusals read in the person's language and name things by their names."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from disaster.access import Actor, Role, require_community, require_role
from disaster.errors import DisasterPermissionDenied
from gis.messages import translate
from tests.web.test_catalogue_coverage import ROOT, _catalogue


def _zh(text: str) -> str:
    known = _catalogue()
    return translate(text, lambda s: known.get(s, s))


def _action_literals() -> list[tuple[str, str]]:
    """``action="…"`` of every ``require_role`` and the action of every ``require_writer``."""
    found = []
    for package in ("disaster", "shelters", "stockpile", "web"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                    node.func, "id", "")
                values = []
                if name == "require_role":
                    values = [k.value for k in node.keywords if k.arg == "action"]
                elif name == "require_writer" and len(node.args) > 1:
                    values = [node.args[1]]
                for value in values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.append((f"{Path(path).relative_to(ROOT)}:{node.lineno}", value.value))
    return found


def test_every_action_named_in_a_permission_refusal_has_a_chinese_translation():
    # require_role takes plain phrases as catalogue keys, which the coverage scan cannot see.
    known = _catalogue()
    missing = sorted({f"{where}: {text!r}" for where, text in _action_literals()
                      if text not in known} | ({"this action"} - set(known)))
    assert not missing, "untranslated actions:\n" + "\n".join(missing)


def test_a_refused_role_reads_as_people_name_it_in_chinese():
    officer = Actor(user_id=1, username="wang", role=Role.INFO_OFFICER)
    with pytest.raises(DisasterPermissionDenied) as caught:
        require_role(officer, Role.ADMIN, action="editing needs profiles")
    assert caught.value.message == ("the information officer role may not perform editing "
                                    "needs profiles")
    assert _zh(caught.value.message) == "信息员无权进行编辑需求标准"


def test_a_community_outside_the_scope_is_named_not_coded():
    officer = Actor(user_id=1, username="wang", role=Role.INFO_OFFICER,
                    scopes=frozenset({"341302001"}))
    with pytest.raises(DisasterPermissionDenied) as caught:
        require_community(officer, "341324100200", name="大庄村")
    assert "341324100200" not in caught.value.message
    assert _zh(caught.value.message) == "大庄村不在您的管辖范围内"


def test_the_domain_catalogue_compiles_and_fills_in_the_names():
    # The catalogue is compiled at app start; a broken entry would fail every page.
    po = ROOT / "web" / "translations" / "domain" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    write_mo(io.BytesIO(), catalog)
    placeholders = re.compile(r"%\((\w+)\)s")
    # A translation that drops or renames a placeholder would show the English text instead.
    assert not [m.id for m in catalog if m.id and m.string and
                sorted(placeholders.findall(m.id)) != sorted(placeholders.findall(m.string))]
    assert _zh("only %(available)s %(unit)s of %(item)s available at %(depot)s, "
               "%(requested)s requested") == ("%(depot)s的%(item)s只有 %(available)s %(unit)s，"
                                               "需要 %(requested)s")
