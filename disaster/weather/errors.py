"""Errors of weather ingestion: each names the file or source it concerns."""

from __future__ import annotations

from disaster.errors import DisasterValidationError


class IngestError(DisasterValidationError):
    """A file, response or feed that could not be ingested; ``source`` names it."""

    def __init__(self, message: str, *, source: str,
                 fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, fields=fields or {"source": [message]})
        self.source = source
