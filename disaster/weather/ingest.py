"""Storing what providers fetch: atomic per file, idempotent, every outcome logged.

A corrupt, truncated or misnamed file, two different files for the same hour, an HTTP error
or invalid CAP is logged with the file or source it concerns and recorded in
``weather_ingestions``; the other files of the batch still go in. Data already ingested
(same variable, hour, geometry and content) is recognised and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM
from disaster.weather import providers
from disaster.weather.batch import Batch, FetchContext, GridItem
from disaster.weather.errors import IngestError
from disaster.weather.grids import content_hash, pack
from disaster.weather.models import IngestionRecord, UpstreamAlert, WeatherGrid
from gis.types import utcnow

log = logging.getLogger("disaster.weather")
HOUR = dt.timedelta(hours=1)


@dataclass
class IngestReport:
    provider: str
    source: str
    stored: int = 0
    revised: int = 0
    unchanged: int = 0
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    # Valid times newly stored (replay evaluates at each of them).
    new_hours: list[dt.datetime] = field(default_factory=list)
    data_hours: list[dt.datetime] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.stored or self.revised or self.alerts)

    def as_dict(self) -> dict:
        return {"provider": self.provider, "source": self.source, "stored": self.stored,
                "revised": self.revised, "unchanged": self.unchanged,
                "upstream_alerts": self.alerts, "errors": self.errors, "gaps": self.gaps}


def _record(session: Session, provider: str, key: str, digest: str | None, status: str,
            message: str | None, now: dt.datetime) -> None:
    session.add(IngestionRecord(provider=provider, source_key=key[:1000], content_hash=digest,
                                status=status, message=message, at=now))


def fetch(session: Session, provider: str, source: str, now: dt.datetime,
          options: dict | None = None) -> Batch:
    """Run the provider; a provider-level failure becomes one error naming the source."""
    impl = providers.load(provider)
    try:
        return impl.fetch(source, FetchContext(session, now, dict(options or {})))
    except IngestError as exc:
        return Batch(source=source, errors=[exc])


def store(session: Session, provider: str, batch: Batch, *, now: dt.datetime,
          replay: bool = False) -> IngestReport:
    """Store a fetched batch (see module docstring). Never raises for bad data."""
    report = IngestReport(provider, batch.source)
    for err in batch.errors:
        log.error("weather %s: %s", provider, err.message)
        report.errors.append(err.message)
        _record(session, provider, err.source, None, "error", err.message, now)
    # Two different grids for the same variable, hour and geometry: neither is trusted.
    groups: dict[tuple, list[GridItem]] = defaultdict(list)
    for item in batch.grids:
        groups[(item.variable, item.valid_time, item.spec.key)].append(item)
    accepted: list[tuple[GridItem, str]] = []
    for (var, when, _key), items in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        digests = {content_hash(i.values, i.spec, i.variable) for i in items}
        if len(digests) > 1:
            names = ", ".join(i.source_name for i in items)
            msg = f"conflicting grids for {var} at {when:%Y-%m-%dT%H:%MZ}: {names}; none ingested"
            log.error("weather %s: %s", provider, msg)
            report.errors.append(msg)
            for i in items:
                _record(session, provider, i.source_name, None, "error", msg, now)
            continue
        accepted.append((items[0], digests.pop()))
    kept: list[GridItem] = []
    for item, digest in accepted:
        if item.values.size != item.spec.size:
            msg = f"{item.source_name}: {item.values.size} values for a {item.spec.size}-cell grid"
            report.errors.append(msg)
            _record(session, provider, item.source_name, None, "error", msg, now)
            continue
        row = session.scalar(select(WeatherGrid).where(
            WeatherGrid.provider == provider, WeatherGrid.variable == item.variable,
            WeatherGrid.valid_time == item.valid_time,
            WeatherGrid.geometry_key == item.spec.key))
        report.data_hours.append(item.valid_time)
        kept.append(item)
        if row is not None and row.content_hash == digest:
            report.unchanged += 1
            continue
        available = item.available_at or (item.valid_time if replay else min(item.valid_time, now))
        if row is None:
            session.add(WeatherGrid(
                provider=provider, variable=item.variable, valid_time=item.valid_time,
                available_at=available, geometry_key=item.spec.key, crs=item.spec.crs,
                transform=list(item.spec.transform) if item.spec.transform else None,
                width=item.spec.width, height=item.spec.height,
                point_codes=list(item.spec.codes) if item.spec.codes is not None else None,
                data=pack(item.values), content_hash=digest, source_name=item.source_name[:1000],
                generated=item.generated, ingested_at=now))
            report.stored += 1
            report.new_hours.append(item.valid_time)
            _record(session, provider, item.source_name, digest, "ok", None, now)
        else:
            # A corrected grid for an hour already held replaces it (logged).
            row.data, row.content_hash, row.source_name = pack(item.values), digest, item.source_name
            row.ingested_at = now
            if item.available_at is not None:  # a newer run is known from its own run time
                row.available_at = item.available_at
            report.revised += 1
            report.new_hours.append(item.valid_time)
            _record(session, provider, item.source_name, digest, "revised", None, now)
            log.warning("weather %s: %s replaces the grid held for %s at %s", provider,
                        item.source_name, item.variable, item.valid_time.isoformat())
    if batch.after_store is not None:
        batch.after_store(session, kept, now)
    report.gaps = _gaps([i for i, _ in accepted])
    for gap in report.gaps:
        log.error("weather %s: %s", provider, gap)
        _record(session, provider, batch.source, None, "gap", gap, now)
    for a in batch.alerts:
        row = session.scalar(select(UpstreamAlert).where(UpstreamAlert.sender == a.sender,
                                                         UpstreamAlert.identifier == a.identifier))
        if row is not None:
            report.unchanged += 1
            continue
        session.add(UpstreamAlert(sender=a.sender, identifier=a.identifier, sent=a.sent,
                                  msg_type=a.msg_type, hazard=a.hazard, level=a.level,
                                  expires=a.expires, communities=a.communities,
                                  references=a.references,
                                  status="cancelled" if a.msg_type == "Cancel" else "active",
                                  source_name=a.source_name[:1000], received_at=now))
        # An Update or Cancel supersedes the messages it references.
        for ref in a.references:
            parts = ref.split(",")
            if len(parts) >= 2:
                old = session.scalar(select(UpstreamAlert).where(
                    UpstreamAlert.sender == parts[0], UpstreamAlert.identifier == parts[1]))
                if old is not None and old.status == "active":
                    old.status = "cancelled" if a.msg_type == "Cancel" else "updated"
        report.alerts += 1
        report.new_hours.append(a.sent)
        _record(session, provider, a.source_name, a.identifier, "ok", None, now)
    report.new_hours = sorted(set(report.new_hours))
    report.data_hours = sorted(set(report.data_hours))
    session.flush()
    if report.changed or report.errors:
        audit.record(session, SYSTEM, "weather.ingest", "weather_source", batch.source[:80],
                     None, report.as_dict())
    return report


def _gaps(items: list[GridItem]) -> list[str]:
    """Hours missing inside each variable's run of hours (logged; sums skip them)."""
    by_var: dict[tuple[str, str], set[dt.datetime]] = defaultdict(set)
    for i in items:
        by_var[(i.variable, i.spec.key)].add(i.valid_time)
    out = []
    for (var, _key), hours in sorted(by_var.items()):
        t, end = min(hours), max(hours)
        while t < end:
            t += HOUR
            if t not in hours:
                out.append(f"missing hour {t:%Y-%m-%dT%H:%MZ} of {var}")
    return out


def ingest(session: Session, provider: str, source: str, *, now: dt.datetime | None = None,
           replay: bool = False, options: dict | None = None) -> IngestReport:
    """Fetch from ``provider`` at ``source`` and store the result."""
    now = now or utcnow()
    return store(session, provider, fetch(session, provider, source, now, options), now=now,
                 replay=replay)
