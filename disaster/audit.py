"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class AuditEntry(Base):
    """One change or sign-in; written in the same transaction as the change it records."""

    __tablename__ = "audit_log"

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(80), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(40))


def record(session: Session, actor: Any, action: str, entity_type: str,
           entity_id: Any = None, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    """Add an audit entry for ``actor`` (an :class:`disaster.access.Actor`) to the session.

    Parameters
    ----------
    action
        Dotted verb such as ``community.update`` or ``auth.login``.
    before, after
        JSON-serialisable snapshots; ``None`` for creation or deletion.
    """
    entry = AuditEntry(
        actor_id=getattr(actor, "user_id", None),
        actor_name=getattr(actor, "username", "system"),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        source=getattr(actor, "source", None),
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "value"):
        return _jsonable(value.value)
    return str(value)
