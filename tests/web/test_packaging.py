"""The wheel carries everything a running system reads (``.ci/run`` installs the built wheel
into a fresh environment and runs ``disaster init`` and ``disaster sample load`` from it)."""

from __future__ import annotations

import configparser
import importlib.resources
import sys
from pathlib import Path

from gis import datafiles
from web import migrate

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_FOLDERS = ("templates", "static", "translations", "migrations")


def _package_data(package: str) -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    raw = cfg["options.package_data"].get(package, "")
    return [p.strip() for chunk in raw.splitlines() for p in chunk.split(",") if p.strip()]


def test_package_data_ships_templates_static_translations_and_migrations():
    web = ROOT / "web"
    shipped = {path for pattern in _package_data("web") for path in web.glob(pattern)}
    needed = {path for folder in RUNTIME_FOLDERS for path in (web / folder).rglob("*")
              if path.is_file() and "__pycache__" not in path.parts}
    assert sorted(str(p.relative_to(web)) for p in needed - shipped) == []


def test_sample_data_ships_as_a_package():
    shipped = {path for pattern in _package_data("disaster_data")
               for path in (ROOT / "data").glob(pattern)}
    assert {p.name for p in shipped} >= {"items.csv", "suzhou_sample.json",
                                          "suzhou_townships.csv", "suzhou_dem.csv"}
    setup_py = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert '"disaster_data": "data"' in setup_py


def test_migrations_are_found_through_the_package():
    assert Path(str(importlib.resources.files("web") / "migrations")) == migrate.MIGRATIONS
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert (migrate.MIGRATIONS / "script.py.mako").is_file()


def test_installed_data_package_is_used_without_a_checkout(tmp_path, monkeypatch):
    package = tmp_path / "disaster_data"
    package.mkdir()
    (package / "items.csv").write_text("code\n", encoding="utf-8")
    monkeypatch.setattr(datafiles, "CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.delenv("DISASTER_DATA_DIR", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("disaster_data", None)
    try:
        assert datafiles.data_dir() == package
    finally:
        sys.modules.pop("disaster_data", None)
