"""Import modules listed by name, skipping those not present in this build."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator
from types import ModuleType


def module_exists(name: str) -> bool:
    """True when ``name`` can be imported (its parent packages exist and it does)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def import_present(names: Iterable[str]) -> Iterator[ModuleType]:
    """Import each listed module that exists; import errors inside a module propagate."""
    for name in names:
        if module_exists(name):
            yield importlib.import_module(name)
