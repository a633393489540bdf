"""Where the project's data files (sample inputs, item catalogue) are found.

In a checkout they are the repository's ``data/``; an installed wheel carries the same files
as the package ``disaster_data`` (found through :mod:`importlib.resources`);
``DISASTER_DATA_DIR`` overrides both.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from gis.settings import environment

CHECKOUT = Path(__file__).resolve().parents[1] / "data"


def _installed() -> Path | None:
    try:
        root = importlib.resources.files("disaster_data")
    except ModuleNotFoundError:
        return None
    # A wheel installs real files, so the traversable is a filesystem path.
    return Path(str(root))


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
