"""Exception hierarchy shared by every domain package.

Each error carries a safe message for users, an HTTP status and, for validation failures,
``{field: [messages]}``. ``web.errors`` maps :class:`AppError` once for HTML and JSON.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error a user may be shown."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None,
                 field_codes: dict[str, list[str]] | None = None, code: str | None = None) -> None:
        """``message`` and field messages may be :func:`gis.messages.msg` (translatable).

        ``field_codes`` gives each field's stable machine codes (``required``, ``too_long``…)
        beside its messages; ``code`` overrides the class's code for this instance.
        """
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.field_codes = field_codes or {}
        if code is not None:
            self.code = code

    def to_dict(self) -> dict:
        """The JSON error document of CONTRACT.md (untranslated; ``web`` translates)."""
        body = {"code": self.code, "message": str(self.message),
                "fields": {k: [str(m) for m in v] for k, v in self.fields.items()}}
        if self.field_codes:
            body["field_codes"] = self.field_codes
        return {"error": body}


class ValidationError(AppError):
    """Input that breaks a rule; ``fields`` names each offending field, file or row."""

    status = 422
    code = "invalid"


class NotFound(AppError):
    status = 404
    code = "not_found"


class PermissionDenied(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class GisError(AppError):
    """Base of spatial errors (geometry, CRS, files)."""


class InvalidGeometry(GisError, ValidationError):
    """A geometry that is malformed, empty, self-intersecting beyond repair or of the wrong type."""


class CRSError(GisError, ValidationError):
    """A coordinate reference system that is unknown, missing or not accepted (GCJ-02)."""


class SpatialiteMissing(GisError):
    """``mod_spatialite`` could not be loaded."""

    status = 500
    code = "spatialite_missing"
