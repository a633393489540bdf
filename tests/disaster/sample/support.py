"""Constants and helpers shared by the sample tests."""

from __future__ import annotations

import datetime as dt

AS_OF = dt.date(2026, 11, 29)
EPS = 1e-9  # "inside" tolerance in degrees: shared edges are exact, overlays add ~1e-15°


def by_level(sample, level):
    """Area records of one level by code."""
    return {a["code"]: a for a in sample.areas if a["level"] == level}
