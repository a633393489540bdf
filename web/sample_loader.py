"""``disaster sample load``: write the generated 宿州 sample through the domain services.

Every kind goes through its upsert service (validated, audited), in dependency order, so a
second load finds everything equal and writes nothing: no audit entries, no stock movements.
Demo users get a random password printed once, when they are created.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import accounts, audit
from disaster.access import Actor, Role, require_role
from disaster.areas import upsert_areas
from disaster.audit import AuditEntry
from disaster.communities import upsert_communities
from disaster.hazards import upsert_hazard_zones
from disaster.officers import upsert_officers
from disaster.sample import DEFAULT_SEED, generate_sample
from shelters.registry import upsert_shelters
from stockpile.depots import load_item_catalog, upsert_depots, upsert_stock

LOAD_ACTION = "sample.load"
PASSWORD_ALPHABET = string.ascii_letters + string.digits


def demo_password(length: int = 16) -> str:
    """A random password meeting the account policy (letters and digits, ≥ 10 characters)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _first_load_date(session: Session) -> dt.date | None:
    """The stock date of the first load: later loads regenerate the same lots."""
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == LOAD_ACTION)
                           .order_by(AuditEntry.id).limit(1))
    if entry is None or not entry.after or not entry.after.get("as_of"):
        return None
    return dt.date.fromisoformat(entry.after["as_of"])


def sample_records(data: Any) -> dict[str, list[dict[str, Any]]]:
    """The generator's records per import kind (they are already in the shared format)."""
    return {
        "areas": data.areas, "communities": data.communities,
        "hazard-zones": data.hazard_zones, "shelters": data.shelters, "depots": data.depots,
        "stock": data.stock, "officers": data.officers, "users": data.users,
    }


def generate_sample_data(seed: int | None = None, as_of: dt.date | None = None) -> Any:
    """Generate the 宿州 sample (:func:`disaster.sample.generate_sample`)."""
    return generate_sample(DEFAULT_SEED if seed is None else seed, as_of=as_of)


def _upsert_officers(session: Session, actor: Actor,
                     records: Sequence[dict[str, Any]]) -> tuple[int, int, int]:
    counts = upsert_officers(session, actor, records)
    return counts["created"], counts["updated"], counts["unchanged"]


def _load_users(session: Session, actor: Actor,
                records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    created, kept = [], []
    for record in records:
        existing = session.scalar(select(accounts.User).where(
            accounts.User.username == record["username"]))
        if existing is not None:
            kept.append(record["username"])
            continue
        password = demo_password()
        accounts.add_user(session, actor, record["username"], record["role"], password,
                          record.get("scopes") or (), display_name=record.get("display_name"))
        created.append({"username": record["username"], "role": record["role"],
                        "scopes": list(record.get("scopes") or ()), "password": password})
    return {"created": created, "kept": kept}


def load_sample(session: Session, actor: Actor, *, data: Any = None, seed: int | None = None,
                as_of: dt.date | None = None) -> dict[str, Any]:
    """Load the 宿州 sample (administrators only); idempotent; never commits.

    Parameters
    ----------
    data
        An already generated sample (tests reuse one); generated when absent.
    as_of
        Stock date; by default the date of the first load (or today on the first load),
        so that reloading yields the same lots.

    Returns
    -------
    dict
        ``{"counts": {kind: {"created", "updated", "unchanged"}}, "users": {"created":
        [{"username", "role", "scopes", "password"}], "kept": [usernames]}, "as_of"}``;
        passwords appear only for users created by this load.
    """
    require_role(actor, Role.ADMIN, action="loading the sample data")
    as_of = as_of or _first_load_date(session) or dt.datetime.now(dt.UTC).date()
    if data is None:
        data = generate_sample_data(seed, as_of)
    records = sample_records(data)
    steps: list[tuple[str, Callable[[], tuple[int, int, int]]]] = [
        ("items", lambda: load_item_catalog(session, actor)),
        ("areas", lambda: upsert_areas(session, actor, records["areas"])),
        ("communities", lambda: upsert_communities(session, actor, records["communities"])),
        ("hazard-zones", lambda: upsert_hazard_zones(session, actor, records["hazard-zones"])),
        ("shelters", lambda: upsert_shelters(session, actor, records["shelters"])),
        ("depots", lambda: upsert_depots(session, actor, records["depots"])),
        ("stock", lambda: upsert_stock(session, actor, records["stock"], reason="sample load")),
        ("officers", lambda: _upsert_officers(session, actor, records["officers"])),
    ]
    counts: dict[str, dict[str, int]] = {}
    for kind, step in steps:
        created, updated, unchanged = step()
        counts[kind] = {"created": created, "updated": updated, "unchanged": unchanged}
    users = _load_users(session, actor, records["users"])
    changed = any(c["created"] or c["updated"] for c in counts.values()) or users["created"]
    if changed:
        audit.record(session, actor, LOAD_ACTION, "sample", getattr(data, "seed", None), None,
                     {"as_of": as_of.isoformat(), "counts": counts})
        session.flush()
    return {"counts": counts, "users": users, "as_of": as_of.isoformat()}


def summary_text(result: dict[str, Any]) -> str:
    """Human-readable lines for the CLI: counts per kind, then the demo users."""
    lines = ["loaded the 宿州 sample data:"]
    for kind, c in result["counts"].items():
        lines.append(f"  {kind:<13} {c['created']:>6} created {c['updated']:>6} updated "
                     f"{c['unchanged']:>6} unchanged")
    created = result["users"]["created"]
    if created:
        lines.append("demo users (passwords are shown only now; store them safely):")
        for u in created:
            scope = f" scope {','.join(u['scopes'])}" if u["scopes"] else ""
            lines.append(f"  {u['username']:<10} {u['role']:<14} password {u['password']}{scope}")
    if result["users"]["kept"]:
        lines.append("existing users kept (passwords unchanged): "
                     + ", ".join(result["users"]["kept"]))
    return "\n".join(lines)
