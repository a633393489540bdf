"""Where the project's data files (sample inputs, item catalogue) are found.

In a checkout or an editable install they are the repository's ``data/``; a plain
``pip install .`` copies them to ``<prefix>/share/disaster-relief/data``;
``DISASTER_DATA_DIR`` overrides both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parents[1] / "data",
    Path(sys.prefix) / "share" / "disaster-relief" / "data",
)


def data_dir() -> Path:
    """The data folder: ``DISASTER_DATA_DIR``, the checkout's ``data/`` or the installed copy."""
    env = os.environ.get("DISASTER_DATA_DIR")
    if env:
        return Path(env)
    for path in _CANDIDATES:
        if (path / "items.csv").is_file():
            return path
    return _CANDIDATES[0]


def data_file(name: str) -> Path:
    """A file of the data folder."""
    return data_dir() / name
