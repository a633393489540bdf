"""Translation catalogs: every ``web/translations/<area>/`` directory, compiled at app start.

Each engineer keeps an own catalog ``web/translations/<area>/zh_CN/LC_MESSAGES/messages.po``;
Flask-Babel merges the catalogs of all directories listed in ``BABEL_TRANSLATION_DIRECTORIES``.
Only ``.po`` files are kept in the repository: each is compiled to ``.mo`` in the instance
folder (``instance/translations/<area>/``) when missing or older than its ``.po``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

log = logging.getLogger(__name__)

TRANSLATIONS_ROOT = Path(__file__).resolve().parent / "translations"


def catalog_areas(root: Path = TRANSLATIONS_ROOT) -> list[Path]:
    """The area directories under ``root`` that hold at least one ``messages.po``."""
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and any(d.glob("*/LC_MESSAGES/*.po")))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_po(po: Path, mo: Path) -> None:
    """Compile one ``.po`` catalog to ``.mo`` (fuzzy entries are left out, as msgfmt does)."""
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        write_mo(fh, catalog)
    tmp.replace(mo)  # atomic: a concurrent worker never reads half a file


def locale_folder(name: str) -> str:
    """The folder name Flask-Babel looks up for catalog folder ``name``.

    Flask-Babel asks gettext for ``str(Locale.parse(...))``, and Babel spells zh_CN as
    ``zh_Hans_CN``: a catalog kept as ``zh_CN`` is compiled under that name.
    """
    return str(Locale.parse(name))


def compiled_directories(target_root: Path, root: Path = TRANSLATIONS_ROOT) -> list[str]:
    """Compile stale catalogs of every area under ``target_root``; return its directories."""
    directories: list[str] = []
    for area in catalog_areas(root):
        target = target_root / area.name
        for po in sorted(area.glob("*/LC_MESSAGES/*.po")):
            mo = target / locale_folder(po.parent.parent.name) / "LC_MESSAGES" / (po.stem + ".mo")
            if _stale(po, mo):
                compile_po(po, mo)
        directories.append(str(target))
    return directories


def init_app(app: Flask) -> None:
    """Set ``BABEL_TRANSLATION_DIRECTORIES`` (call before Flask-Babel's ``init_app``)."""
    try:
        try:
            directories = compiled_directories(Path(app.instance_path) / "translations")
        except OSError:  # a read-only instance folder: compile into the temporary folder
            fallback = Path(tempfile.gettempdir()) / f"disaster-translations-{os.getuid()}"
            directories = compiled_directories(fallback)
    except Exception:  # a broken catalog must not stop the console
        log.exception("could not compile translation catalogs; UI falls back to msgids")
        directories = []
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories) or "translations"
