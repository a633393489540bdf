"""Where a warning's e-mail and SMS stand: per channel, and who must be phoned instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from disaster.communities import Community
from disaster.notify.models import Delivery, Notification
from disaster.officers import Officer, OfficerAssignment
from disaster.warnings.models import Alert

STATES = {"sent": "sent", "delivered": "sent", "failed": "failed", "queued": "pending",
          "skipped": "skipped"}


def delivery_status(session: Session, alert: Alert) -> dict[str, Any]:
    """Counts per channel (sent, failed, pending, skipped) of the officers' notifications of
    ``alert`` and the officers whose e-mail or SMS failed, with phone and communities."""
    per: dict[str, dict[str, int]] = {}
    for channel, state, n in session.execute(
            select(Delivery.channel, Delivery.state, func.count(Delivery.id))
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Notification.reference == alert.identifier,
                   Notification.officer_id.is_not(None))
            .group_by(Delivery.channel, Delivery.state)):
        row = per.setdefault(channel, {"sent": 0, "failed": 0, "pending": 0, "skipped": 0})
        key = STATES.get(state)
        if key:
            row[key] += n
    order = {"inbox": 0, "sms": 1, "email": 2}
    channels = [{"channel": c, **counts}
                for c, counts in sorted(per.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))]
    failed: dict[int, dict[str, Any]] = {}
    for officer_id, name, phone, channel, error in session.execute(
            select(Officer.id, Officer.name, Officer.phone, Delivery.channel, Delivery.last_error)
            .join(Notification, Notification.officer_id == Officer.id)
            .join(Delivery, Delivery.notification_id == Notification.id)
            .where(Notification.reference == alert.identifier, Delivery.state == "failed")
            .order_by(Officer.name, Officer.id, Delivery.channel)):
        entry = failed.setdefault(officer_id, {"officer_id": officer_id, "name": name,
                                               "phone": phone, "communities": [],
                                               "channels": [], "error": error})
        entry["channels"].append(channel)
    if failed:
        codes = set(alert.communities or [])
        for officer_id, code, cname in session.execute(
                select(OfficerAssignment.officer_id, Community.code, Community.name)
                .join(Community, Community.code == OfficerAssignment.community_code)
                .where(OfficerAssignment.officer_id.in_(sorted(failed)))
                .order_by(Community.code)):
            if code in codes and cname not in failed[officer_id]["communities"]:
                failed[officer_id]["communities"].append(cname)
    return {"alert": alert.id, "identifier": alert.identifier, "channels": channels,
            "failed_officers": list(failed.values())}
