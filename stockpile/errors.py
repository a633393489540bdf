"""Errors of the ``stockpile`` package."""

from gis.errors import AppError, Conflict, NotFound, PermissionDenied, ValidationError


class StockError(AppError):
    pass


class StockValidationError(StockError, ValidationError):
    pass


class StockNotFound(StockError, NotFound):
    pass


class StockPermissionDenied(StockError, PermissionDenied):
    pass


class InsufficientStock(StockError, Conflict):
    """An issue or reservation beyond stock on hand; nothing was changed."""

    code = "insufficient_stock"
