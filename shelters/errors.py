"""Errors of the ``shelters`` package."""

from gis.errors import AppError, Conflict, NotFound, PermissionDenied, ValidationError


class ShelterError(AppError):
    pass


class ShelterValidationError(ShelterError, ValidationError):
    pass


class ShelterNotFound(ShelterError, NotFound):
    pass


class ShelterPermissionDenied(ShelterError, PermissionDenied):
    pass


class ShelterConflict(ShelterError, Conflict):
    pass
