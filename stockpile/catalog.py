"""The relief item catalogue and the needs profiles (per-person norms), both data.

Items come from ``data/items.csv``; profiles start from :data:`DEFAULT_PROFILES` (DESIGN.md
§4.5) and the administrator may edit them (:func:`save_profile`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, require_role
from gis.messages import msg
from gis.types import utcnow
from stockpile.depots import ITEMS_CSV, load_item_catalog
from stockpile.dispatch_models import NeedsProfile
from stockpile.errors import StockNotFound, StockValidationError
from stockpile.models import Item

PER = ("person_day", "person_week", "person", "household")
APPLIES = ("evacuated", "needing_aid", "all")

# Rates for modelled needs where no report exists: share of the population evacuated and
# needing aid by warning level, and the extra weight vulnerable people carry.
DEFAULT_MODEL = {
    "evacuated_rate": {"blue": 0.0, "yellow": 0.005, "orange": 0.02, "red": 0.05},
    "needing_aid_rate": {"blue": 0.0, "yellow": 0.01, "orange": 0.04, "red": 0.10},
    "vulnerable_weight": 0.5,
    "household_size": 2.74,
}

DEFAULT_PROFILES: list[dict[str, Any]] = [
    {
        "code": "china",
        "name": "中国救灾物资保障常用标准",
        "source": "应急管理部救灾物资品种 (帐篷、棉被、折叠床、应急灯、饮用水、方便食品) and the "
                  "十四五 target of basic needs met within 10 h; quantities per person as "
                  "commonly planned by 民政/应急 bureaus",
        "days": 3,
        "active": True,
        "norms": [
            {"item": "TENT12", "per": "household", "quantity": 1, "applies_to": "evacuated"},
            {"item": "QUILT", "per": "person", "quantity": 1, "applies_to": "evacuated"},
            {"item": "BED", "per": "person", "quantity": 0.5, "applies_to": "evacuated"},
            {"item": "LAMP", "per": "household", "quantity": 1, "applies_to": "evacuated"},
            {"item": "WATER", "per": "person_day", "quantity": 3, "applies_to": "all"},
            {"item": "FOOD", "per": "person_day", "quantity": 3, "applies_to": "all"},
            {"item": "KIT", "per": "household", "quantity": 1, "applies_to": "needing_aid"},
        ],
    },
    {
        "code": "sphere",
        "name": "Sphere minimum standards",
        "source": "Sphere Handbook 2018: 15 L water per person per day, 2,100 kcal, "
                  "3.5 m² covered space per person, ≤20 people per toilet",
        "days": 3,
        "active": False,
        "norms": [
            {"item": "WATER", "per": "person_day", "quantity": 15, "applies_to": "all"},
            # 2,100 kcal a day ≈ 3 ready-to-eat portions of ~700 kcal.
            {"item": "FOOD", "per": "person_day", "quantity": 3, "applies_to": "all"},
            # 3.5 m² per person in 12 m² tents.
            {"item": "TENT12", "per": "person", "quantity": 0.2917, "applies_to": "evacuated"},
            {"item": "TOILET", "per": "person", "quantity": 0.05, "applies_to": "evacuated"},
            {"item": "BLANKET", "per": "person", "quantity": 1, "applies_to": "evacuated"},
        ],
    },
    {
        "code": "inasafe",
        "name": "InaSAFE / BNPB minimum needs",
        "source": "InaSAFE minimum needs (BNPB Perka 7/2008) per displaced person per week: "
                  "rice 2.8 kg, drinking water 17.5 L, clean water 67 L, family kits 0.2",
        "days": 7,
        "active": False,
        "norms": [
            {"item": "RICE", "per": "person_week", "quantity": 2.8, "applies_to": "evacuated"},
            {"item": "WATER", "per": "person_week", "quantity": 17.5, "applies_to": "evacuated"},
            {"item": "KIT", "per": "person", "quantity": 0.2, "applies_to": "evacuated"},
            {"item": "TOILET", "per": "person", "quantity": 0.05, "applies_to": "evacuated"},
        ],
    },
]


def ensure_items(session: Session, actor: Actor, path: Path = ITEMS_CSV) -> int:
    """Create or update the catalogue from ``data/items.csv``; returns rows changed.

    The rows go through :func:`stockpile.depots.upsert_items`, the same validated, audited
    upsert as ``disaster import``.
    """
    created, updated, _unchanged = load_item_catalog(session, actor, path)
    return created + updated


def items(session: Session) -> list[Item]:
    return list(session.scalars(select(Item).order_by(Item.code)))


# --------------------------------------------------------------------------- profiles


def ensure_profiles(session: Session) -> None:
    """Insert the default profiles that are missing (idempotent; never overwrites edits)."""
    have = set(session.scalars(select(NeedsProfile.code)))
    any_active = session.scalar(select(NeedsProfile.id).where(NeedsProfile.active.is_(True)))
    for spec in DEFAULT_PROFILES:
        if spec["code"] in have:
            continue
        session.add(NeedsProfile(code=spec["code"], name=spec["name"], source=spec["source"],
                                 days=spec["days"], norms=copy.deepcopy(spec["norms"]),
                                 model=copy.deepcopy(DEFAULT_MODEL),
                                 active=bool(spec["active"] and not any_active)))
    session.flush()


def profile_dict(p: NeedsProfile) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "source": p.source, "days": p.days,
            "norms": p.norms, "model": p.model, "active": p.active}


def get_profile(session: Session, code: str | None = None) -> NeedsProfile:
    """The named profile, or the active one (defaults created on first use)."""
    ensure_profiles(session)
    stmt = select(NeedsProfile)
    stmt = stmt.where(NeedsProfile.code == code) if code else stmt.where(
        NeedsProfile.active.is_(True))
    profile = session.scalar(stmt.order_by(NeedsProfile.id))
    if profile is None and not code:
        profile = session.scalar(select(NeedsProfile).order_by(NeedsProfile.id))
    if profile is None:
        raise StockNotFound(msg("unknown needs profile %(code)s", code=str(code)),
                            fields={"profile": [msg("unknown profile %(code)s", code=str(code))]})
    return profile


def validate_norms(session: Session, norms: Any) -> list[dict[str, Any]]:
    """Check a list of norms against the catalogue; field errors name ``norms[i].field``."""
    if not isinstance(norms, list) or not norms:
        raise StockValidationError(msg("norms must be a non-empty list"),
                                   fields={"norms": [msg("a non-empty list is required")]})
    codes = set(session.scalars(select(Item.code)))
    errors: dict[str, list[str]] = {}
    out = []
    for i, norm in enumerate(norms):
        if not isinstance(norm, dict):
            errors[f"norms[{i}]"] = [msg("must be an object")]
            continue
        if norm.get("item") not in codes:
            errors[f"norms[{i}].item"] = [msg("unknown item %(code)s", code=str(norm.get("item")))]
        if norm.get("per") not in PER:
            errors[f"norms[{i}].per"] = [msg("one of %(choices)s", choices=", ".join(PER))]
        applies = norm.get("applies_to", "all")
        if applies not in APPLIES:
            errors[f"norms[{i}].applies_to"] = [msg("one of %(choices)s",
                                                    choices=", ".join(APPLIES))]
        try:
            qty = float(norm.get("quantity"))
            if not qty >= 0 or qty == float("inf"):
                raise ValueError
        except (TypeError, ValueError):
            errors[f"norms[{i}].quantity"] = [msg("a non-negative number is required")]
            qty = 0.0
        out.append({"item": norm.get("item"), "per": norm.get("per"), "quantity": qty,
                    "applies_to": applies})
    if errors:
        raise StockValidationError(msg("invalid needs profile"), fields=errors)
    return out


def save_profile(session: Session, actor: Actor, code: str, *, name: str | None = None,
                 norms: Any = None, days: Any = None, model: dict[str, Any] | None = None,
                 active: bool | None = None) -> NeedsProfile:
    """Create or edit a needs profile (administrator only); ``active`` makes it the default."""
    require_role(actor, Role.ADMIN, action="editing needs profiles")
    ensure_profiles(session)
    code = (code or "").strip()
    if not code or len(code) > 32:
        raise StockValidationError(msg("the profile code is required"),
                                   fields={"code": [msg("1 to %(limit)s characters", limit=32)]})
    profile = session.scalar(select(NeedsProfile).where(NeedsProfile.code == code))
    before = profile_dict(profile) if profile else None
    if profile is None:
        if norms is None or not name:
            raise StockValidationError(msg("a new profile needs a name and norms"),
                                       fields={"name" if not name else "norms": [msg("required")]})
        profile = NeedsProfile(code=code, name=name, days=3, norms=[],
                               model=copy.deepcopy(DEFAULT_MODEL), active=False)
        session.add(profile)
    if name:
        profile.name = name[:120]
    if norms is not None:
        profile.norms = validate_norms(session, norms)
    if days is not None:
        try:
            d = int(days)
        except (TypeError, ValueError):
            d = 0
        if not 1 <= d <= 90:
            raise StockValidationError(msg("days out of range"),
                                       fields={"days": [msg("%(low)s to %(high)s", low=1, high=90)]})
        profile.days = d
    if model is not None:
        merged = copy.deepcopy(profile.model or DEFAULT_MODEL)
        merged.update(model)
        profile.model = merged
    if active:
        for other in session.scalars(select(NeedsProfile).where(NeedsProfile.active.is_(True))):
            other.active = False
        profile.active = True
    profile.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "needs_profile.save", "needs_profile", code, before,
                 profile_dict(profile))
    return profile
