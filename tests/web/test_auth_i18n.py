"""The translation loader: every area's catalog compiled at start and merged into one."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from babel.support import Translations

from web.i18n import TRANSLATIONS_ROOT, catalog_areas, compiled_directories, locale_folder


def write_catalog(root: Path, area: str, messages: dict[str, str]) -> Path:
    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    po = root / area / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as fh:
        write_po(fh, catalog)
    return po


def merged(directories: list[str]) -> Translations:
    out = Translations()
    for d in directories:
        out.merge(Translations.load(d, [locale_folder("zh_CN")], "messages"))
    return out


def test_every_area_catalog_is_compiled_and_merged(tmp_path):
    source = tmp_path / "translations"
    write_catalog(source, "alerts", {"Alerts": "预警"})
    write_catalog(source, "stock", {"Stock": "库存"})
    directories = compiled_directories(tmp_path / "instance", source)
    assert [Path(d).name for d in directories] == ["alerts", "stock"]
    translations = merged(directories)
    assert translations.gettext("Alerts") == "预警"
    assert translations.gettext("Stock") == "库存"


def test_a_catalog_is_recompiled_only_when_its_po_is_newer(tmp_path):
    source = tmp_path / "translations"
    po = write_catalog(source, "web", {"Map": "地图"})
    target = tmp_path / "instance"
    compiled_directories(target, source)
    mo = target / "web" / locale_folder("zh_CN") / "LC_MESSAGES" / "messages.mo"
    first = mo.stat().st_mtime_ns
    compiled_directories(target, source)
    assert mo.stat().st_mtime_ns == first
    po.unlink()
    write_catalog(source.parent / "again", "web", {"Map": "底图"}).replace(po)
    os.utime(po, ns=(first + 10**9, first + 10**9))
    assert merged(compiled_directories(target, source)).gettext("Map") == "底图"


def test_the_repository_catalogs_compile(tmp_path):
    areas = catalog_areas(TRANSLATIONS_ROOT)
    assert "web" in [a.name for a in areas]
    translations = merged(compiled_directories(tmp_path, TRANSLATIONS_ROOT))
    assert translations.gettext("Map console") == "地图指挥台"
