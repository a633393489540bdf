"""Assessment parameters held as data: risk weights and impact curves an administrator edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow


class AssessmentParameter(Base):
    """One named parameter set (``risk_weights`` or ``impact_curves``) overriding the defaults.

    Only the keys present override :mod:`disaster.assessment.parameters` defaults, so a new
    default added in code reaches databases that stored an older set.
    """

    __tablename__ = "assessment_parameters"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(40), unique=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
