"""What every command shares: ``--database``/``--format`` options, the runtime, errors."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy.orm import Session

from gis.errors import AppError
from web.config import load_settings
from web.runtime import Runtime, build_runtime


@dataclass
class CliContext:
    database: str | None = None
    fmt: str = "text"
    _runtime: Runtime | None = field(default=None, repr=False)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = build_runtime(load_settings(self.database))
        return self._runtime

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the command succeeds, rolled back otherwise."""
        session = self.runtime.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def command_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--database`` and ``--format`` to a command and turn errors into one line on stderr.

    Exit status: 0 success, 1 refused input or state (an :class:`AppError`), 2 unexpected.
    """

    @click.option("--database", "database_opt", default=None, help="Database URL.")
    @click.option("--format", "fmt", type=click.Choice(["text", "json", "geojson", "csv", "gpkg",
                                                         "cap"]), default=None,
                  help="Output format.")
    @click.pass_context
    @functools.wraps(fn)
    def wrapper(ctx: click.Context, *args: Any, database_opt: str | None = None,
                fmt: str | None = None, **kwargs: Any) -> Any:
        obj: CliContext = ctx.ensure_object(CliContext)
        if database_opt:
            obj.database = database_opt
            obj._runtime = None
        if fmt:
            obj.fmt = fmt
        try:
            return ctx.invoke(fn, obj, *args, **kwargs)
        except AppError as exc:
            detail = _fields_line(exc.fields)
            click.echo(f"error: {exc.message}{detail}", err=True)
            sys.exit(1)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - one line for users, the trace when asked
            if ctx.obj and getattr(ctx.obj, "debug", False):
                traceback.print_exc()
            click.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
            sys.exit(2)

    return wrapper


def _fields_line(fields: dict[str, list[str]]) -> str:
    if not fields:
        return ""
    parts = [f"{k}: {'; '.join(v)}" for k, v in list(fields.items())[:50]]
    more = "" if len(fields) <= 50 else f" (+{len(fields) - 50} more)"
    return " — " + " | ".join(parts) + more


def emit(obj: CliContext, data: Any, text: Callable[[Any], str] | str | None = None) -> None:
    """Print ``data`` as one JSON document (``--format json``) or as text."""
    if obj.fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    if callable(text):
        click.echo(text(data))
    elif text is not None:
        click.echo(text)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
