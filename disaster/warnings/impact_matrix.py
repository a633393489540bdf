"""Impact-based warnings (WMO multi-hazard impact-based forecast and warning services).

The CMA threshold rules stay the default. An administrator may switch a hazard to a
likelihood × impact matrix: the *likelihood* that a community meets the hazard's trigger
criterion (by default its blue level) and the *impact* expected there decide the warning
level, read from a 4 × 4 matrix held as data (``impact_matrices``).

- Likelihood: with ensemble members, the share meeting the trigger in bands
  (``likelihood_bands``, default 20 / 40 / 70 %: unlikely < possible < likely < very likely);
  a deterministic forecast that meets it counts as *likely*, observed hours as *very likely*;
  nothing meeting it, no warning.
- Impact: the higher of the class from the community's risk index (0–100,
  :mod:`disaster.assessment.risk`; ``risk_bands``) and the class from its exposed
  population (``population_bands``): low < medium < high < severe.
"""

from __future__ import annotations

import copy
import itertools
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator
from sqlalchemy import JSON, Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.errors import DisasterValidationError
from disaster.warnings.levels import Hazard, WarningLevel
from gis.db import Base
from gis.messages import msg
from gis.schema import Schema, validate
from gis.types import UTCDateTime, intpk, utcnow

LIKELIHOODS = ("unlikely", "possible", "likely", "very_likely")
IMPACTS = ("low", "medium", "high", "severe")
LIKELIHOOD_NAMES = {"unlikely": ("不太可能", "unlikely"), "possible": ("可能", "possible"),
                    "likely": ("很可能", "likely"), "very_likely": ("极可能", "very likely")}
IMPACT_NAMES = {"low": ("低影响", "low impact"), "medium": ("中影响", "medium impact"),
                "high": ("高影响", "high impact"), "severe": ("严重影响", "severe impact")}
DEFAULT: dict[str, Any] = {
    "trigger": "blue",
    "likelihood_bands": [0.2, 0.4, 0.7],
    "risk_bands": [20.0, 40.0, 60.0],
    "population_bands": [2000, 5000, 10000],
    # rows: impact; columns: likelihood unlikely … very likely; cells: level or null
    "matrix": {"low": [None, None, "blue", "blue"],
               "medium": [None, "blue", "yellow", "yellow"],
               "high": ["blue", "yellow", "orange", "orange"],
               "severe": ["yellow", "orange", "red", "red"]},
}

Level = Literal["blue", "yellow", "orange", "red"] | None
Row = Annotated[list[Level], Field(min_length=4, max_length=4)]


class ImpactMatrix(Base):
    """A hazard's impact matrix and whether it replaces the threshold rules."""

    __tablename__ = "impact_matrices"

    id: Mapped[intpk]
    hazard: Mapped[str] = mapped_column(String(32), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[Any] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


def _ascending(values: list[float]) -> list[float]:
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(msg("must be in ascending order"))
    return values


class MatrixRows(Schema):
    """Rows of the matrix by impact; each lists the level (or null) per likelihood."""

    model_config = ConfigDict(**{**Schema.model_config, "extra": "forbid"})

    low: Row | None = None
    medium: Row | None = None
    high: Row | None = None
    severe: Row | None = None


class MatrixIn(Schema):
    """A change to a hazard's impact matrix (keys left out stay as they are)."""

    model_config = ConfigDict(**{**Schema.model_config, "extra": "forbid"})

    enabled: bool | None = None
    trigger: Literal["blue", "yellow", "orange", "red"] | None = None
    likelihood_bands: Annotated[list[Annotated[float, Field(gt=0, le=1)]],
                                Field(min_length=3, max_length=3)] | None = None
    risk_bands: Annotated[list[Annotated[float, Field(ge=0, le=100)]],
                          Field(min_length=3, max_length=3)] | None = None
    population_bands: Annotated[list[Annotated[int, Field(ge=0, le=10**9)]],
                                Field(min_length=3, max_length=3)] | None = None
    matrix: MatrixRows | None = None

    @field_validator("likelihood_bands", "risk_bands", "population_bands")
    @classmethod
    def _order(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else _ascending(value)


class MatrixOut(Schema):
    hazard: str
    enabled: bool
    trigger: str
    likelihood_bands: list[float]
    risk_bands: list[float]
    population_bands: list[int]
    matrix: dict[str, list[str | None]]
    likelihoods: list[str]
    impacts: list[str]


def _row(session: Session, hazard: Hazard) -> ImpactMatrix | None:
    return session.scalar(select(ImpactMatrix).where(ImpactMatrix.hazard == hazard.value))


def effective(session: Session, hazard: Hazard) -> dict[str, Any]:
    """The matrix of ``hazard`` (defaults where nothing is stored) with ``enabled``."""
    row = _row(session, hazard)
    cfg = copy.deepcopy(DEFAULT)
    if row is not None:
        cfg.update(copy.deepcopy(row.config))
    return {"hazard": hazard.value, "enabled": bool(row and row.enabled), **cfg,
            "likelihoods": list(LIKELIHOODS), "impacts": list(IMPACTS)}


def all_matrices(session: Session) -> list[dict[str, Any]]:
    return [effective(session, h) for h in Hazard]


def enabled(session: Session) -> dict[Hazard, dict[str, Any]]:
    """The hazards switched to their matrix."""
    rows = session.scalars(select(ImpactMatrix).where(ImpactMatrix.enabled.is_(True))).all()
    return {Hazard(r.hazard): effective(session, Hazard(r.hazard)) for r in rows}


def set_matrix(session: Session, actor: Actor, hazard: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a hazard's matrix or switch it on or off; administrators only; audited."""
    require_role(actor, Role.ADMIN, action="changing impact matrices")
    try:
        hz = Hazard(hazard)
    except ValueError:
        raise DisasterValidationError(msg("unknown hazard %(hazard)s", hazard=hazard),
                                      fields={"hazard": [msg("unknown hazard")]}) from None
    body = validate(MatrixIn, data).model_dump(exclude_unset=True)
    row = _row(session, hz)
    before = None if row is None else {"enabled": row.enabled, **row.config}
    if row is None:
        row = ImpactMatrix(hazard=hz.value, enabled=False, config={})
        session.add(row)
    if "enabled" in body:
        row.enabled = bool(body.pop("enabled"))
    if "matrix" in body:
        given = {k: v for k, v in body["matrix"].items() if v is not None}
        body["matrix"] = {**(row.config or {}).get("matrix", DEFAULT["matrix"]), **given}
    row.config = {**(row.config or {}), **body}
    row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.flush()
    audit.record(session, actor, "impact_matrix.update", "impact_matrix", hz.value, before,
                 {"enabled": row.enabled, **row.config})
    return effective(session, hz)


def _band(values: np.ndarray, bands: list[float]) -> np.ndarray:
    """0..3: how many band limits each value reaches."""
    return np.searchsorted(np.asarray(bands, dtype=float), values, side="right")


def classify(cfg: dict[str, Any], ranks: np.ndarray, share: np.ndarray | None,
             observed: np.ndarray | None, risk: np.ndarray, population: np.ndarray
             ) -> tuple[np.ndarray, list[tuple[str, str] | None]]:
    """Per community the matrix level rank (0 none, -1 not covered) and (likelihood, impact).

    ``ranks`` are the threshold ranks (deterministic or from members), ``share`` the share of
    members at the trigger rank or above (None without an ensemble), ``observed`` the ranks
    met by observed hours alone.
    """
    trigger = WarningLevel(cfg["trigger"]).rank
    n = ranks.size
    likelihood = np.full(n, -1, dtype=np.int16)
    if share is not None:
        ok = np.isfinite(share) & (share > 0)
        likelihood[ok] = _band(share[ok], cfg["likelihood_bands"])
    det = ranks >= trigger
    likelihood[det & (likelihood < 0)] = LIKELIHOODS.index("likely")
    if observed is not None:
        likelihood[observed >= trigger] = LIKELIHOODS.index("very_likely")
    impact = np.maximum(_band(np.nan_to_num(risk, nan=0.0), cfg["risk_bands"]),
                        _band(np.nan_to_num(population, nan=0.0), cfg["population_bands"]))
    table = np.zeros((len(IMPACTS), len(LIKELIHOODS)), dtype=np.int16)
    for i, name in enumerate(IMPACTS):
        for j, lv in enumerate(cfg["matrix"][name]):
            table[i, j] = WarningLevel(lv).rank if lv else 0
    out = np.where(ranks < 0, -1, 0).astype(np.int16)
    labels: list[tuple[str, str] | None] = [None] * n
    for i in np.flatnonzero((likelihood >= 0) & (ranks >= 0)):
        out[i] = table[impact[i], likelihood[i]]
        labels[i] = (LIKELIHOODS[likelihood[i]], IMPACTS[impact[i]])
    return out, labels


def label_text(label: tuple[str, str]) -> str:
    """``可能，高影响（possible, high impact）`` for an alert's description."""
    lk, im = LIKELIHOOD_NAMES[label[0]], IMPACT_NAMES[label[1]]
    return f"{lk[0]}，{im[0]}（{lk[1]}, {im[1]}）"


def strongest(labels: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The label of highest impact, then highest likelihood."""
    return max(labels, key=lambda x: (IMPACTS.index(x[1]), LIKELIHOODS.index(x[0])), default=None)


def community_exposure(session: Session, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Risk index (0–100) and population per community, aligned with ``codes``."""
    from disaster.assessment.service import run_risk  # the assessment reads warnings too

    result = run_risk(session)
    where = result.table.index()
    idx = np.array([where.get(c, -1) for c in codes], dtype=np.int64)
    risk = np.full(len(codes), np.nan)
    population = np.full(len(codes), np.nan)
    ok = idx >= 0
    risk[ok] = np.asarray(result.risk, dtype=float)[idx[ok]]
    population[ok] = np.asarray(result.table.population, dtype=float)[idx[ok]]
    return risk, population
