"""Declared request and response bodies of acknowledgement (叫应)."""

from __future__ import annotations

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from gis.schema import Int64, Schema

# OpenAPI 3.0 says "nullable" where JSON Schema would add a null type (which 3.0 refuses).
NULLABLE = {"nullable": True}


class AckBody(Schema):
    """``POST /alerts/ID/ack``: an information officer sends nothing (their own communities);
    a duty officer names the officer whose phoned acknowledgement they record."""

    # Not a union with None: the field is optional and its errors are named plainly.
    officer_id: Int64 = Field(  # type: ignore[assignment]
        default=None, json_schema_extra=NULLABLE,
        description="officer covering a community of the warning (duty officers recording a "
                    "phone call)")


class AckResult(Schema):
    alert: int
    acknowledged: list[int] = Field(description="officer ids recorded")
    officers: list[str] = Field(default_factory=list, description="their names")
    via: str


class CoveredCommunity(Schema):
    code: str
    name: str | SkipJsonSchema[None] = Field(json_schema_extra=NULLABLE)
    township: str | SkipJsonSchema[None] = Field(json_schema_extra=NULLABLE)
    role: str = Field(description="primary or backup")


class CoveringOfficer(Schema):
    id: int
    name: str
    phone: str | SkipJsonSchema[None] = Field(json_schema_extra=NULLABLE)
    communities: list[CoveredCommunity]


class ChannelDeliveries(Schema):
    """How one channel's deliveries of an alert stand."""

    channel: str = Field(description="inbox, email or sms")
    sent: int = Field(description="accepted by the gateway or mail relay (inbox: stored)")
    failed: int = Field(description="given up after the last try")
    pending: int = Field(description="queued: not yet sent, or waiting for a retry")
    skipped: int = Field(description="the officer has no address for this channel")


class FailedOfficer(Schema):
    """An officer a warning did not reach by e-mail or SMS: to be phoned."""

    officer_id: int
    name: str
    phone: str | SkipJsonSchema[None] = Field(json_schema_extra=NULLABLE)
    communities: list[str] = Field(description="names of the alert's communities they cover")
    channels: list[str] = Field(description="channels that failed")
    error: str | SkipJsonSchema[None] = Field(json_schema_extra=NULLABLE,
                                              description="the last failure's reason")


class DeliveryStatus(Schema):
    """``GET /alerts/ID/deliveries``."""

    alert: int
    identifier: str
    channels: list[ChannelDeliveries]
    failed_officers: list[FailedOfficer]
