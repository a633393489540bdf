"""One typed settings object reads every environment variable; the README lists them all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from gis.settings import Environment, environment

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gis", "disaster", "shelters", "stockpile", "web")
READS_ENV = re.compile(r"os\.environ|os\.getenv|getenv\(")


def _variables() -> set[str]:
    names = set()
    for name, info in Environment.model_fields.items():
        alias = info.validation_alias
        names.add(alias.choices[0] if alias is not None else f"DISASTER_{name.upper()}")
    return names


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| variable | default | meaning |")
    return text[start:text.index("\n\n", start)]


def test_only_the_settings_module_reads_the_environment():
    offenders = [str(path.relative_to(ROOT)) for package in PACKAGES
                 for path in (ROOT / package).rglob("*.py")
                 if path != ROOT / "gis" / "settings.py"
                 and READS_ENV.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_variable_the_code_names_is_a_setting():
    named = {m for package in PACKAGES for path in (ROOT / package).rglob("*.py")
             for m in re.findall(r"\bDISASTER_[A-Z0-9_]+", path.read_text(encoding="utf-8"))}
    flask_config = {"DISASTER_SETTINGS", "DISASTER_RUNTIME"}  # app.config keys, not variables
    assert named - flask_config <= _variables()


def test_the_readme_configuration_table_lists_every_setting_and_nothing_else():
    listed = set(re.findall(r"`((?:DISASTER|SPATIALITE)_[A-Z0-9_]+)`", _readme_table()))
    assert listed == _variables()


def test_domain_values_come_from_the_environment_when_read(monkeypatch):
    from disaster.warnings import alerts
    from gis import vector_io

    monkeypatch.setenv("DISASTER_CAP_SENDER", "yjj.341321@warning.example.cn")
    monkeypatch.setenv("DISASTER_CAP_ORG", "123")
    monkeypatch.setenv("DISASTER_IMPORT_MAX_BYTES", "1024")
    assert alerts.sender() == "yjj.341321@warning.example.cn"
    assert alerts.issuer_codes()[0] == "123"
    assert vector_io.max_import_bytes() == 1024


def test_a_bad_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("DISASTER_SMTP_PORT", "twenty-five")
    with pytest.raises(ValidationError, match="smtp_port"):
        environment()


def test_an_explicit_mapping_ignores_the_process_environment(monkeypatch):
    monkeypatch.setenv("DISASTER_SMTP_HOST", "mail.example.cn")
    settings = environment({"DISASTER_SMS_URL": "http://sms.example.cn/send"})
    assert settings.smtp_host is None and settings.sms_url == "http://sms.example.cn/send"
