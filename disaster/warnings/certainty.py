"""CAP ``certainty`` of our messages, from ensemble probabilities and observed hours.

A community's level is *Observed* when it is met already by the hours up to the evaluation
time (CONTRACT.md: those are the observed hours); otherwise, with ensemble members held, the
share of members meeting the level's criterion decides: *Likely* above 50 %, *Possible* at
or below; without members a deterministic forecast stays *Likely*. A message covering
several communities carries the most certain of theirs (Observed > Likely > Possible) and
the highest probability among them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Float, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from gis.db import Base
from gis.types import intpk

LIKELY_ABOVE = 0.5
ORDER = {"Observed": 3, "Likely": 2, "Possible": 1}


class AlertCertainty(Base):
    """The certainty (and ensemble probability) of one alert message."""

    __tablename__ = "alert_certainties"

    id: Mapped[intpk]
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          unique=True)
    certainty: Mapped[str] = mapped_column(String(20))
    # Share of ensemble members meeting the level (None: no ensemble).
    probability: Mapped[float | None] = mapped_column(Float)


def community_certainty(observed: bool, probability: float | None) -> str:
    """Observed, Likely or Possible for one community (module docstring)."""
    if observed:
        return "Observed"
    if probability is None:
        return "Likely"
    return "Likely" if probability > LIKELY_ABOVE else "Possible"


def message_certainty(codes: Iterable[str], observed: dict[str, bool],
                      probabilities: dict[str, float | None]) -> tuple[str, float | None]:
    """The most certain of the communities' certainties, and their highest probability."""
    best, prob = "Possible", None
    any_code = False
    for c in codes:
        any_code = True
        p = probabilities.get(c)
        cert = community_certainty(bool(observed.get(c)), p)
        if ORDER[cert] > ORDER[best]:
            best = cert
        if p is not None:
            prob = p if prob is None else max(prob, p)
    return (best if any_code else "Likely"), prob


def record(session: Session, alert_id: int, certainty: str, probability: float | None) -> None:
    session.add(AlertCertainty(alert_id=alert_id, certainty=certainty, probability=probability))


def of_alert(session: Session, alert_id: int) -> str | None:
    """The stored certainty of a message (None for messages from before ensembles)."""
    return session.scalar(select(AlertCertainty.certainty)
                          .where(AlertCertainty.alert_id == alert_id))
