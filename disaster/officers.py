"""Disaster information officers (灾害信息员) and their community assignments."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from disaster import audit
from disaster.access import Actor, Role, require_role
from disaster.communities import Community
from disaster.errors import DisasterConflict, DisasterNotFound, DisasterValidationError
from gis.db import Base
from gis.geometry import haversine_km
from gis.messages import msg
from gis.spatial import for_update
from gis.types import UTCDateTime, intpk, utcnow, value_enum


class AssignmentRole(enum.StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    home_community_code: Mapped[str | None] = mapped_column(
        ForeignKey("communities.code"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    generated: Mapped[bool] = mapped_column(Boolean, default=False)


class OfficerAssignment(Base):
    """An officer covering a community as primary or backup."""

    __tablename__ = "officer_assignments"
    __table_args__ = (UniqueConstraint("officer_id", "community_code"),)

    id: Mapped[intpk]
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"),
                                            index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(value_enum(AssignmentRole, "assignment_role"))
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AssignmentProposal(Base):
    """Proposed primary officers for uncovered communities, waiting for an administrator."""

    __tablename__ = "officer_proposals"

    id: Mapped[intpk]
    status: Mapped[ProposalStatus] = mapped_column(
        value_enum(ProposalStatus, "proposal_status"), default=ProposalStatus.PENDING)
    max_load: Mapped[int] = mapped_column(Integer)
    # [{"community", "officer", "officer_code", "distance_km"}]
    items: Mapped[list[Any]] = mapped_column(JSON)
    unassigned: Mapped[list[Any]] = mapped_column(JSON)  # community codes nobody could take
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------

DEFAULT_MAX_LOAD = 3


def _snapshot(officer: Officer, assignments: Iterable[OfficerAssignment] = ()) -> dict:
    rows = sorted((a.community_code, a.role.value) for a in assignments)
    return {"code": officer.code, "name": officer.name, "phone": officer.phone,
            "email": officer.email, "home_community_code": officer.home_community_code,
            "active": officer.active,
            "primary": [c for c, r in rows if r == "primary"],
            "backup": [c for c, r in rows if r == "backup"]}


def _community_codes(session: Session) -> set[str]:
    from disaster.communities import Community

    return set(session.scalars(select(Community.code)))


def upsert_officers(session: Session, actor: Actor,
                    records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Create or update officers and their primary/backup assignments from plain records.

    Record format (TEAM_BRIEF.md): ``code, name, phone, email, home_community_code,
    primary, backup`` (lists of community codes; a CSV cell may hold ``a;b``), optionally
    ``generated``. A record is authoritative for its officer: assignments it no longer lists
    are removed (a record with neither ``primary`` nor ``backup`` keeps them: contact
    details only). A community listed as primary here loses its previous primary (exactly
    one primary per community). All-or-nothing: any bad record rejects the whole batch with every
    bad record named (``row N: field``, 1-based). Records are checked against
    :class:`disaster.record_schemas.OfficerRecord` (``active``/``generated`` as people write
    yes/no: 0/1, true/false, 是/否).

    Returns
    -------
    dict
        ``{"created": n, "updated": n, "unchanged": n}``.
    """
    from disaster import upsert as u
    from disaster.record_schemas import OfficerRecord

    require_role(actor, Role.ADMIN, action="officer management")
    records = list(records)
    known = _community_codes(session)
    errors = u.RowErrors()
    prepared = u.validate_records(records, OfficerRecord, errors, what=msg("officers"))
    seen_codes: dict[str, int] = {}
    primary_owner: dict[str, int] = {}
    clean: list[dict[str, Any]] = []
    for row, values in prepared:
        code = values["code"]
        seen_codes[code] = row
        home = values.get("home_community_code")
        if home and home not in known:
            errors.add(row, "home_community_code", msg("unknown community %(code)s", code=home),
                       "unknown")
        primary, backup = values.get("primary", []), values.get("backup", [])
        for field, codes in (("primary", primary), ("backup", backup)):
            unknown = [c for c in codes if c not in known]
            if unknown:
                errors.add(row, field, msg("unknown communities %(codes)s",
                                           codes=", ".join(unknown[:10])), "unknown")
        both = sorted(set(primary) & set(backup))
        if both:
            errors.add(row, "backup", msg("both primary and backup for %(codes)s",
                                          codes=", ".join(both[:10])))
        for c in primary:
            if c in primary_owner and primary_owner[c] != row:
                errors.add(row, "primary", msg("community %(code)s already has its primary "
                                               "officer in row %(row)s", code=c,
                                               row=primary_owner[c]), "duplicate")
            primary_owner.setdefault(c, row)
        clean.append({"code": code, "name": values["name"], "phone": values.get("phone"),
                      "email": values.get("email"), "home": home,
                      "primary": sorted(set(primary)), "backup": sorted(set(backup)),
                      "generated": values.get("generated", False),
                      # A file without assignment columns updates contact details only.
                      "keep": "primary" not in values and "backup" not in values,
                      "present": set(values),
                      "active": values.get("active", True)})
    errors.raise_if_any(msg("officers"), DisasterValidationError)

    officers = {o.code: o for o in session.scalars(
        select(Officer).where(Officer.code.in_([r["code"] for r in clean])))} if clean else {}
    assignments: dict[int, list[OfficerAssignment]] = {}
    if officers:
        for a in session.scalars(select(OfficerAssignment).where(
                OfficerAssignment.officer_id.in_([o.id for o in officers.values()]))):
            assignments.setdefault(a.officer_id, []).append(a)
    # Primaries taken over from officers outside this batch (one primary per community).
    incoming_codes = set(seen_codes)
    taken = sorted(primary_owner)
    displaced: list[OfficerAssignment] = []
    for chunk in range(0, len(taken), 500):
        displaced.extend(session.scalars(
            select(OfficerAssignment).join(Officer).where(
                OfficerAssignment.community_code.in_(taken[chunk:chunk + 500]),
                OfficerAssignment.role == AssignmentRole.PRIMARY,
                Officer.code.not_in(incoming_codes))))
    for a in displaced:
        audit.record(session, actor, "officer_assignment.delete", "officer_assignment",
                     a.id, {"officer_id": a.officer_id, "community": a.community_code,
                            "role": a.role.value}, None)
        session.delete(a)
    session.flush()

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for rec in clean:
        officer = officers.get(rec["code"])
        before = None
        if officer is None:
            officer = Officer(code=rec["code"])
            session.add(officer)
        else:
            before = _snapshot(officer, assignments.get(officer.id, []))
        officer.name = rec["name"]
        # Absent keys leave an existing officer's value alone (partial files update).
        for attr, key, value in (("phone", "phone", rec["phone"]),
                                 ("email", "email", rec["email"]),
                                 ("home_community_code", "home_community_code", rec["home"]),
                                 ("generated", "generated", rec["generated"]),
                                 ("active", "active", rec["active"])):
            if before is None or key in rec["present"]:
                setattr(officer, attr, value)
        if officer.id is None:
            session.flush()
        current = {a.community_code: a for a in assignments.get(officer.id, [])}
        if rec["keep"]:
            rec["primary"] = sorted(c for c, a in current.items()
                                    if a.role == AssignmentRole.PRIMARY)
            rec["backup"] = sorted(c for c, a in current.items()
                                   if a.role == AssignmentRole.BACKUP)
        wanted = {c: AssignmentRole.PRIMARY for c in rec["primary"]}
        wanted.update({c: AssignmentRole.BACKUP for c in rec["backup"]})
        for code, a in current.items():
            if code not in wanted:
                session.delete(a)
            elif a.role != wanted[code]:
                a.role = wanted[code]
        for code, role in wanted.items():
            if code not in current:
                session.add(OfficerAssignment(officer_id=officer.id, community_code=code,
                                              role=role))
        after = {"code": officer.code, "name": officer.name, "phone": officer.phone,
                 "email": officer.email, "home_community_code": officer.home_community_code,
                 "active": officer.active, "primary": rec["primary"], "backup": rec["backup"]}
        if before is None:
            counts["created"] += 1
            audit.record(session, actor, "officer.create", "officer", officer.code, None, after)
        elif before != after:
            counts["updated"] += 1
            audit.record(session, actor, "officer.update", "officer", officer.code, before,
                         after)
        else:
            counts["unchanged"] += 1
    session.flush()
    return counts


def coverage(session: Session) -> dict[str, Any]:
    """Primary and backup officer of every community (CONTRACT.md ``officers coverage``).

    ``{"communities": [{"code", "primary", "backup", "backups"}], "uncovered": [codes],
    "without_backup": [codes]}``: ids of active officers or ``None``; ``uncovered`` lists
    communities without an active primary officer.
    """
    from disaster.communities import Community

    primary: dict[str, int] = {}
    backups: dict[str, list[int]] = {}
    rows = session.execute(
        select(OfficerAssignment.community_code, OfficerAssignment.role, Officer.id)
        .join(Officer, Officer.id == OfficerAssignment.officer_id)
        .where(Officer.active.is_(True))
        .order_by(Officer.id))
    for code, role, officer_id in rows:
        if role == AssignmentRole.PRIMARY:
            primary.setdefault(code, officer_id)
        else:
            backups.setdefault(code, []).append(officer_id)
    out: list[dict[str, Any]] = []
    uncovered: list[str] = []
    without_backup: list[str] = []
    for code in session.scalars(select(Community.code).order_by(Community.code)):
        b = backups.get(code, [])
        out.append({"code": code, "primary": primary.get(code), "backup": b[0] if b else None,
                    "backups": b})
        if code not in primary:
            uncovered.append(code)
        if not b:
            without_backup.append(code)
    return {"communities": out, "uncovered": uncovered, "without_backup": without_backup}


def officer_communities(session: Session, officer_id: int) -> dict[str, list[str]]:
    """``{"primary": [codes], "backup": [codes]}`` of one officer."""
    out: dict[str, list[str]] = {"primary": [], "backup": []}
    for code, role in session.execute(
            select(OfficerAssignment.community_code, OfficerAssignment.role)
            .where(OfficerAssignment.officer_id == officer_id)
            .order_by(OfficerAssignment.community_code)):
        out[role.value].append(code)
    return out


def _points(session: Session, codes: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Representative points (lon, lat) of communities."""
    from geoalchemy2.functions import ST_X, ST_Y

    from disaster.communities import Community

    codes = list(codes)
    out: dict[str, tuple[float, float]] = {}
    for chunk in range(0, len(codes), 900):
        for code, x, y in session.execute(
                select(Community.code, ST_X(Community.point), ST_Y(Community.point))
                .where(Community.code.in_(codes[chunk:chunk + 900]),
                       Community.point.is_not(None))):
            out[code] = (float(x), float(y))
    return out


def propose_assignments(session: Session, actor: Actor, max_load: int = DEFAULT_MAX_LOAD,
                        candidates_per_community: int = 25) -> AssignmentProposal:
    """Propose a primary officer for every uncovered community and store it for approval.

    Solved as an assignment problem (not greedily): each active officer with a home
    community offers ``max_load - current primary load`` slots; the cost of a slot for a
    community is the great-circle distance from the officer's home to the community;
    :func:`scipy.optimize.linear_sum_assignment` minimises the total distance over the
    replicated slots. Only each community's ``candidates_per_community`` nearest officers are
    considered, which keeps the matrix small without changing realistic optima.
    """
    require_role(actor, Role.ADMIN, Role.DUTY_OFFICER, action="proposing officer assignments")
    if max_load < 1:
        raise DisasterValidationError(msg("the maximum load must be at least 1"),
                                      fields={"max_load": [msg("must be at least 1")]})
    uncovered = coverage(session)["uncovered"]
    load: dict[int, int] = dict.fromkeys(
        session.scalars(select(Officer.id).where(Officer.active.is_(True))), 0)
    for officer_id in session.scalars(
            select(OfficerAssignment.officer_id).join(Officer)
            .where(Officer.active.is_(True), OfficerAssignment.role == AssignmentRole.PRIMARY)):
        load[officer_id] += 1
    officers = session.execute(
        select(Officer.id, Officer.code, Officer.home_community_code)
        .where(Officer.active.is_(True), Officer.home_community_code.is_not(None))).all()
    homes = _points(session, {o.home_community_code for o in officers})
    free = [(o.id, o.code, homes[o.home_community_code]) for o in officers
            if o.home_community_code in homes and load[o.id] < max_load]
    targets = _points(session, uncovered)
    located = [c for c in uncovered if c in targets]
    items: list[dict[str, Any]] = []
    assigned: set[str] = set()
    if located and free:
        t = np.array([targets[c] for c in located])
        h = np.array([p for _, _, p in free])
        dist = haversine_km(t[:, 0:1], t[:, 1:2], h[None, :, 0], h[None, :, 1])
        k = min(candidates_per_community, len(free))
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        useful = np.unique(nearest)
        # Replicate each useful officer once per free slot (capped by the communities).
        slot_officer = np.concatenate([
            np.full(min(max_load - load[free[j][0]], len(located)), j) for j in useful])
        big = 1e7  # "not a candidate": far more than any real distance in km
        allowed = np.zeros_like(dist, dtype=bool)
        np.put_along_axis(allowed, nearest, True, axis=1)
        cost = np.where(allowed[:, slot_officer], dist[:, slot_officer], big)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] >= big:
                continue
            j = int(slot_officer[c])
            items.append({"community": located[r], "officer": free[j][0],
                          "officer_code": free[j][1],
                          "distance_km": round(float(dist[r, j]), 3)})
            assigned.add(located[r])
    items.sort(key=lambda i: i["community"])
    proposal = AssignmentProposal(max_load=max_load, items=items,
                                  unassigned=[c for c in uncovered if c not in assigned],
                                  created_by=actor.username)
    session.add(proposal)
    session.flush()
    audit.record(session, actor, "officer_proposal.create", "officer_proposal", proposal.id,
                 None, {"max_load": max_load, "items": len(items),
                        "unassigned": len(proposal.unassigned)})
    return proposal


def approve_proposal(session: Session, actor: Actor, proposal_id: int) -> dict[str, Any]:
    """Approve a pending proposal (administrators): create the proposed primary assignments.

    Items whose community meanwhile got a primary, or whose officer left or is now at the
    maximum load, are skipped and reported; nothing else changes.
    """
    require_role(actor, Role.ADMIN, action="approving officer assignments")
    proposal = session.scalar(for_update(
        select(AssignmentProposal).where(AssignmentProposal.id == proposal_id), session))
    _require_pending(proposal, proposal_id)
    assert proposal is not None
    uncovered = set(coverage(session)["uncovered"])
    load: dict[int, int] = {}
    for officer_id in session.scalars(select(OfficerAssignment.officer_id).where(
            OfficerAssignment.role == AssignmentRole.PRIMARY)):
        load[officer_id] = load.get(officer_id, 0) + 1
    applied, skipped = [], []
    for item in proposal.items:
        officer = session.get(Officer, item["officer"])
        reason = None
        if item["community"] not in uncovered:
            reason = "community already covered"
        elif officer is None or not officer.active:
            reason = "officer no longer active"
        elif load.get(officer.id, 0) >= proposal.max_load:
            reason = "officer at maximum load"
        if reason:
            skipped.append({**item, "reason": reason})
            continue
        existing = session.scalar(select(OfficerAssignment).where(
            OfficerAssignment.officer_id == officer.id,
            OfficerAssignment.community_code == item["community"]))
        if existing is not None:  # a backup promoted to primary
            existing.role = AssignmentRole.PRIMARY
        else:
            session.add(OfficerAssignment(officer_id=officer.id,
                                          community_code=item["community"],
                                          role=AssignmentRole.PRIMARY))
        load[officer.id] = load.get(officer.id, 0) + 1
        uncovered.discard(item["community"])
        applied.append(item)
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.username
    session.flush()
    audit.record(session, actor, "officer_proposal.approve", "officer_proposal", proposal.id,
                 {"status": "pending"}, {"status": "approved", "applied": applied,
                                         "skipped": skipped})
    return {"id": proposal.id, "applied": applied, "skipped": skipped}


def reject_proposal(session: Session, actor: Actor, proposal_id: int) -> AssignmentProposal:
    """Reject a pending proposal (administrators)."""
    require_role(actor, Role.ADMIN, action="rejecting officer assignments")
    proposal = session.get(AssignmentProposal, proposal_id)
    _require_pending(proposal, proposal_id)
    assert proposal is not None
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.username
    session.flush()
    audit.record(session, actor, "officer_proposal.reject", "officer_proposal", proposal.id,
                 {"status": "pending"}, {"status": "rejected"})
    return proposal


def _require_pending(proposal: AssignmentProposal | None, proposal_id: int) -> None:
    if proposal is None:
        raise DisasterNotFound(msg("no assignment proposal %(id)s", id=proposal_id))
    if proposal.status != ProposalStatus.PENDING:
        raise DisasterConflict(msg("assignment proposal %(id)s is already %(status)s",
                                   id=proposal_id, status=msg(proposal.status.value)))


def _community_names(session: Session, codes: Iterable[str]) -> str:
    """The communities' names, comma-separated, for a message (the code where none is known)."""
    codes = sorted(set(codes))
    names = {code: name for code, name in session.execute(
        select(Community.code, Community.name).where(Community.code.in_(codes)))}
    return "、".join(names.get(c) or c for c in codes)


def proposal_dict(proposal: AssignmentProposal) -> dict[str, Any]:
    return {"id": proposal.id, "status": proposal.status.value, "max_load": proposal.max_load,
            "items": proposal.items, "unassigned": proposal.unassigned,
            "created_at": proposal.created_at.isoformat(), "created_by": proposal.created_by,
            "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
            "decided_by": proposal.decided_by}


def get_officer(session: Session, code: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.code == code))
    if officer is None:
        raise DisasterNotFound(msg("no information officer %(code)s", code=code),
                               fields={"officer": [msg("unknown officer %(code)s", code=code)]})
    return officer


def handover(session: Session, actor: Actor, from_code: str, to_code: str,
             communities: Iterable[str] | None = None,
             deactivate: bool = False) -> dict[str, Any]:
    """Hand an officer's communities (all, or ``communities``) over to another officer.

    Done in one transaction with the rows locked, so no community is ever without its
    primary. Where the receiving officer already backs up a community the outgoing officer
    is primary for, the receiver becomes primary and the handover is refused if that would
    leave the community without any backup. ``deactivate`` retires the outgoing officer.
    """
    require_role(actor, Role.ADMIN, action="handing over communities")
    if from_code == to_code:
        raise DisasterValidationError(msg("an officer cannot hand over to themselves"),
                                      fields={"to": [msg("the same officer as the one handing over")]})
    giver = get_officer(session, from_code)
    taker = get_officer(session, to_code)
    if not taker.active:
        raise DisasterConflict(msg("%(officer)s is not active", officer=taker.name),
                               fields={"to": [msg("inactive")]})
    given = session.scalars(for_update(select(OfficerAssignment).where(
        OfficerAssignment.officer_id == giver.id), session)).all()
    wanted = set(communities) if communities is not None else None
    if wanted is not None:
        unknown = wanted - {a.community_code for a in given}
        if unknown:
            names = _community_names(session, unknown)
            raise DisasterValidationError(
                msg("%(officer)s does not cover %(communities)s", officer=giver.name,
                    communities=names),
                fields={"communities": [msg("not covered by %(officer)s: %(communities)s",
                                            officer=giver.name, communities=names)]})
        given = [a for a in given if a.community_code in wanted]
    codes = [a.community_code for a in given]
    others = session.scalars(for_update(select(OfficerAssignment).where(
        OfficerAssignment.community_code.in_(codes),
        OfficerAssignment.officer_id != giver.id), session)).all() if codes else []
    held = {a.community_code: a for a in others if a.officer_id == taker.id}
    backups_left: dict[str, int] = {}
    for a in others:
        if a.role == AssignmentRole.BACKUP and a.officer_id != taker.id:
            backups_left[a.community_code] = backups_left.get(a.community_code, 0) + 1
    gaps = sorted(a.community_code for a in given
                  if a.role == AssignmentRole.PRIMARY and a.community_code in held
                  and held[a.community_code].role == AssignmentRole.BACKUP
                  and not backups_left.get(a.community_code))
    if gaps:
        names = _community_names(session, gaps)
        raise DisasterConflict(
            msg("the handover would leave %(communities)s without a backup officer; assign "
                "another backup first", communities=names),
            fields={"communities": [msg("no backup left: %(communities)s", communities=names)]})
    moved = []
    for a in given:
        mine = held.get(a.community_code)
        if mine is None:
            a.officer_id = taker.id
            a.since = utcnow()
            moved.append({"community": a.community_code, "role": a.role.value})
        else:
            if a.role == AssignmentRole.PRIMARY:
                mine.role = AssignmentRole.PRIMARY
                mine.since = utcnow()
            moved.append({"community": a.community_code, "role": mine.role.value})
            session.delete(a)
    before = {"active": giver.active}
    if deactivate:
        remaining = session.scalar(select(OfficerAssignment.id).where(
            OfficerAssignment.officer_id == giver.id,
            OfficerAssignment.community_code.not_in(codes or [""])))
        if remaining is not None:
            raise DisasterConflict(msg("%(officer)s still covers other communities; hand them "
                                       "all over before deactivating", officer=giver.name),
                                   fields={"deactivate": [msg("other communities remain")]})
        giver.active = False
    session.flush()
    audit.record(session, actor, "officer.handover", "officer", giver.code, before,
                 {"to": taker.code, "moved": moved, "active": giver.active})
    return {"from": giver.code, "to": taker.code, "moved": moved}
