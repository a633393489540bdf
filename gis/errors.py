"""Exception hierarchy shared by every domain package.

Each error carries a safe message for users, an HTTP status and, for validation failures,
``{field: [messages]}``. ``web.errors`` maps :class:`AppError` once for HTML and JSON.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error a user may be shown."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def to_dict(self) -> dict:
        """The JSON error document of CONTRACT.md."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


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
