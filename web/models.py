"""Import every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from web.plugins import import_present

# Add a module here when it defines models. A module not yet present is skipped.
MODEL_MODULES = [
    "disaster.accounts",
    "disaster.audit",
    "disaster.areas",
    "disaster.communities",
    "disaster.hazards",
    "disaster.officers",
    "disaster.warnings.state",
    "disaster.events",
    "disaster.event_impact",
    "disaster.reports.models",
    "disaster.settings_models",
    "disaster.weather.models",
    "disaster.weather.grib.runs",
    "disaster.warnings.models",
    "disaster.warnings.certainty",
    "disaster.warnings.impact_matrix",
    "disaster.notify.models",
    "disaster.assessment.models",
    "shelters.models",
    "shelters.order_models",
    "stockpile.models",
    "stockpile.orders_models",
    "stockpile.dispatch_models",
    "stockpile.notice_models",
]


def import_all_models() -> None:
    """Import the model modules listed in :data:`MODEL_MODULES` that exist."""
    for _module in import_present(MODEL_MODULES):
        pass
