"""Translatable messages for the domain packages, which know nothing of Flask or Babel.

A domain error names its message as an English template with ``%(name)s`` placeholders and
the values apart: ``msg("only %(available)s %(unit)s of %(item)s available", available=30,
unit="台", item="发电机")``. ``str()`` of it is the English text (logs, the CLI); ``web``
looks the template up in the request language's catalogue and fills the values in
(:func:`web.errors.translate`). Every template used with :func:`msg` must have a zh_CN entry
in a catalogue under ``web/translations`` (``tests/web/test_catalogue_coverage.py`` checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Message(str):
    """An English message that remembers its template and values for translation."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any] | None = None) -> Message:
        params = dict(params or {})
        try:
            text = template % params if params else template
        except (KeyError, TypeError, ValueError):
            text = template
        self = super().__new__(cls, text)
        self.template = template
        self.params = params
        return self

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The message in the language ``gettext`` translates to, values filled in."""
        params = {k: (v.translate(gettext) if isinstance(v, Message) else v)
                  for k, v in self.params.items()}
        translated = gettext(self.template)
        try:
            return translated % params if params else translated
        except (KeyError, TypeError, ValueError):
            return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.template, self.params))


class Choices(Message):
    """Allowed values, each translated as a catalogue key (``initial`` → 初报) and listed."""

    def __new__(cls, values: list[str]) -> Choices:
        self = str.__new__(cls, ", ".join(values))
        self.template, self.params, self.values = ", ".join(values), {}, list(values)
        return self

    def translate(self, gettext: Callable[[str], str]) -> str:
        words = [gettext(v) for v in self.values]
        separator = ", " if all(w.isascii() for w in words) else "、"
        return separator.join(words)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Choices, (self.values,))


def msg(template: str, /, **params: Any) -> Message:
    """A translatable message: English ``template`` with ``%(name)s`` placeholders."""
    return Message(template, params)


def translate(text: str, gettext: Callable[[str], str]) -> str:
    """``text`` translated by ``gettext``: a :class:`Message` with its values, a plain string
    as a catalogue key (unchanged when the catalogue does not know it)."""
    if isinstance(text, Message):
        return text.translate(gettext)
    return gettext(text) if text else text
