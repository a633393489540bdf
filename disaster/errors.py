"""Errors of the ``disaster`` package (HTTP status and safe message on each)."""

from __future__ import annotations

from gis.errors import AppError, Conflict, NotFound, PermissionDenied, ValidationError


class DisasterError(AppError):
    """Base of the package's errors."""


class DisasterValidationError(DisasterError, ValidationError):
    pass


class DisasterNotFound(DisasterError, NotFound):
    pass


class DisasterPermissionDenied(DisasterError, PermissionDenied):
    pass


class DisasterConflict(DisasterError, Conflict):
    pass


class AuthenticationFailed(DisasterError):
    status = 401
    code = "unauthenticated"


class AccountLocked(AuthenticationFailed):
    code = "locked"
