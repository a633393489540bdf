"""What a provider hands to ingestion: grids, upstream alerts and per-source errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from disaster.weather.errors import IngestError
from disaster.weather.grids import GridSpec


@dataclass
class GridItem:
    variable: str
    valid_time: dt.datetime  # end of the hour covered, UTC
    spec: GridSpec
    values: np.ndarray       # flat float32, NaN = no data
    source_name: str
    generated: bool = False
    # When the values could first be known (forecasts: their run); None: ingestion decides.
    available_at: dt.datetime | None = None


@dataclass
class UpstreamItem:
    sender: str
    identifier: str
    sent: dt.datetime
    msg_type: str
    hazard: str | None
    level: str | None
    expires: dt.datetime | None
    communities: list[str]
    references: list[str]
    source_name: str


@dataclass
class Batch:
    """Everything one fetch produced; a bad file is an error here, never a partial grid."""

    source: str
    grids: list[GridItem] = field(default_factory=list)
    alerts: list[UpstreamItem] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Called with (session, grids stored, revised or unchanged, now) after storing.
    after_store: Callable[[Session, list[GridItem], dt.datetime], None] | None = None


@dataclass
class FetchContext:
    """What a provider may use: the session (communities) and the evaluation time."""

    session: Session
    now: dt.datetime
    options: dict[str, Any] = field(default_factory=dict)
