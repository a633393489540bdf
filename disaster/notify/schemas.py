"""Declared request and response bodies of acknowledgement (叫应)."""

from __future__ import annotations

from pydantic import Field

from gis.schema import Int64, Schema


class AckBody(Schema):
    """``POST /alerts/ID/ack``: an information officer sends nothing (their own communities);
    a duty officer names the officer whose phoned acknowledgement they record."""

    officer_id: Int64 | None = Field(default=None, description="officer covering a community "
                                     "of the warning (duty officers recording a phone call)")


class AckResult(Schema):
    alert: int
    acknowledged: list[int] = Field(description="officer ids recorded")
    officers: list[str] = Field(default_factory=list, description="their names")
    via: str


class CoveredCommunity(Schema):
    code: str
    name: str | None
    township: str | None
    role: str = Field(description="primary or backup")


class CoveringOfficer(Schema):
    id: int
    name: str
    phone: str | None
    communities: list[CoveredCommunity]
