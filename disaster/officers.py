"""Disaster information officers (灾害信息员) and their community assignments."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis.db import Base
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class AssignmentRole(enum.StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    home_community_code: Mapped[str | None] = mapped_column(
        ForeignKey("communities.code"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)


class OfficerAssignment(Base):
    """An officer covering a community as primary or backup."""

    __tablename__ = "officer_assignments"
    __table_args__ = (UniqueConstraint("officer_id", "community_code"),)

    id: Mapped[intpk]
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"),
                                            index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(value_enum(AssignmentRole, "assignment_role"))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
