"""Where the project's data files (sample inputs, item catalogue) are found.

In a checkout they are the repository's ``data/``; an installed wheel carries the same files
as the package ``disaster_data`` (found through the import system);
``DISASTER_DATA_DIR`` overrides both.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gis.settings import environment

CHECKOUT = Path(__file__).resolve().parents[1] / "data"


def _installed() -> Path | None:
    """The folder of the installed package ``disaster_data`` (a namespace package: data only)."""
    spec = importlib.util.find_spec("disaster_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    # A wheel installs real files, so the package's location is a filesystem folder.
    return Path(next(iter(spec.submodule_search_locations)))


def data_dir() -> Path:
    """The data folder: ``DISASTER_DATA_DIR``, the checkout's ``data/`` or the installed copy."""
    configured = environment().data_dir
    if configured is not None:
        return configured
    for path in (CHECKOUT, _installed()):
        if path is not None and (path / "items.csv").is_file():
            return path
    return CHECKOUT


def data_file(name: str) -> Path:
    """A file of the data folder."""
    return data_dir() / name
