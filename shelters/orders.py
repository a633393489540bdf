"""Evacuation orders: a reviewed plan issued to each affected community's officers.

Issuing stores one row per community of the plan (its people, shelters and distances as
planned), notifies the community's primary information officer(s) through
:func:`disaster.notify.dispatch.send` (inbox, e-mail, SMS) and audits it. An officer
acknowledges the order for a community of their own; the console shows who did and who not.

Issuing does NOT reserve shelter places: a shelter's occupancy counts only people checked in
(:mod:`shelters.occupancy`), and the next plan offers ``capacity − occupancy``. People the
officers report as evacuated leave the next plan's people at risk (:mod:`shelters.evacuation`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import Actor, Role, covers_community
from disaster.accounts import User
from disaster.areas import Area
from disaster.communities import Community
from disaster.notify import channels as channels_mod
from disaster.notify.dispatch import send
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from gis.messages import msg
from gis.schema import validate
from gis.types import utcnow
from shelters.errors import (
    ShelterConflict,
    ShelterNotFound,
    ShelterPermissionDenied,
    ShelterValidationError,
)
from shelters.evacuation import get_plan
from shelters.models import Shelter
from shelters.order_models import EvacuationOrder, EvacuationOrderCommunity
from shelters.schemas import IssueOrderIn

ISSUERS = (Role.ADMIN, Role.DUTY_OFFICER)
NOTIFICATION_KIND = "evacuation_order"


# --- names -------------------------------------------------------------------------------

def person_name(session: Session, actor: Actor) -> str:
    """The name people know the actor by (display name, else user name)."""
    if actor.user_id is not None:
        shown = session.scalar(select(User.display_name).where(User.id == actor.user_id))
        if shown:
            return shown[:80]
    return actor.username


def community_names(session: Session, codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{code: (community name, township name)}`` for the given community codes."""
    codes = sorted(set(codes))
    out: dict[str, tuple[str, str]] = {}
    for i in range(0, len(codes), 500):
        rows = session.execute(select(Community.code, Community.name, Area.name)
                               .join(Area, Area.code == Community.township_code, isouter=True)
                               .where(Community.code.in_(codes[i:i + 500])))
        for code, name, township in rows:
            out[code] = (name, township or "")
    return out


def shelter_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """``{code: shelter name}``."""
    codes = sorted(set(codes))
    out: dict[str, str] = {}
    for i in range(0, len(codes), 500):
        out.update(session.execute(select(Shelter.code, Shelter.name)
                                   .where(Shelter.code.in_(codes[i:i + 500]))).all())
    return out


def planned_communities(session: Session, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every community of a plan (placed or not) with its shelters, people and distances.

    Answers for each group of the plan, so the console can offer all of them by name.
    """
    people = {g["community"]: g["people"] for g in document["problem"]["groups"]}
    unassigned = {u["community"]: u["people"] for u in document["unassigned"]}
    go: dict[str, list[dict[str, Any]]] = {}
    for a in document["assignments"]:
        go.setdefault(a["community"], []).append(a)
        people.setdefault(a["community"], 0)
    names = community_names(session, people)
    shelters = shelter_names(session, (a["shelter"] for a in document["assignments"]))
    out = []
    for code in sorted(people, key=lambda c: (names.get(c, ("", ""))[1], names.get(c, (c,))[0],
                                             c)):
        name, township = names.get(code, (code, ""))
        out.append({"code": code, "name": name, "township": township, "people": people[code],
                    "unassigned": unassigned.get(code, 0),
                    "destinations": [{"shelter": a["shelter"],
                                      "shelter_name": shelters.get(a["shelter"], a["shelter"]),
                                      "people": a["people"], "distance_km": a["distance_km"]}
                                     for a in sorted(go.get(code, []),
                                                     key=lambda a: a["distance_km"])]})
    return out


# --- issuing -----------------------------------------------------------------------------

def primary_officers(session: Session, codes: Iterable[str]) -> dict[str, list[int]]:
    """Active primary officers of each community (``officers coverage``'s primary)."""
    codes = sorted(set(codes))
    out: dict[str, list[int]] = {}
    for i in range(0, len(codes), 500):
        for code, officer_id in session.execute(
                select(OfficerAssignment.community_code, Officer.id)
                .join(Officer, Officer.id == OfficerAssignment.officer_id)
                .where(Officer.active.is_(True), OfficerAssignment.role == AssignmentRole.PRIMARY,
                       OfficerAssignment.community_code.in_(codes[i:i + 500]))
                .order_by(Officer.id)):
            out.setdefault(code, []).append(officer_id)
    return out


def _order_text(row: dict[str, Any], link: str) -> tuple[str, str]:
    """Subject and body of one community's order (Chinese: what the officers read)."""
    where = "；".join(f"{d['shelter_name']} {d['people']} 人（约 {d['distance_km']:.1f} 公里）"
                     for d in row["destinations"]) or "暂无可用避难场所"
    subject = f"疏散令：{row['name']}（{row['township']}）转移 {row['people']} 人"
    body = (f"请组织{row['name']}（{row['township']}）{row['people']} 人转移至：{where}。")
    if row["unassigned"]:
        body += f"另有 {row['unassigned']} 人暂无安置场所，请就近安置并上报。"
    body += f"请确认收到：{link}"
    return subject, body


def issue_order(session: Session, actor: Actor, data: Any) -> EvacuationOrder:
    """Issue plan ``data["plan_id"]`` as an order; notify each community's primary officers.

    Duty officers and administrators only; a plan is issued once.
    """
    if actor.role not in ISSUERS:
        raise ShelterPermissionDenied(msg("Only duty officers issue evacuation orders."))
    checked = validate(IssueOrderIn, data, error=ShelterValidationError)
    document = get_plan(session, checked.plan_id)
    if session.scalar(select(EvacuationOrder.id)
                      .where(EvacuationOrder.plan_id == checked.plan_id)) is not None:
        raise ShelterConflict(msg("Evacuation plan %(plan)s has already been issued.",
                                  plan=checked.plan_id),
                              fields={"plan_id": [msg("already issued")]}, code="already_issued")
    rows = [r for r in planned_communities(session, document) if r["people"] > 0]
    if not rows:
        raise ShelterValidationError(msg("This plan moves nobody; there is nothing to issue."),
                                     fields={"plan_id": [msg("moves nobody")]},
                                     code="empty_plan")
    order = EvacuationOrder(plan_id=checked.plan_id, issued_at=utcnow(), issued_by=actor.user_id,
                            actor_name=person_name(session, actor),
                            people=sum(r["people"] for r in rows))
    session.add(order)
    session.flush()
    for r in rows:
        session.add(EvacuationOrderCommunity(
            order_id=order.id, community_code=r["code"], people=r["people"],
            unassigned=r["unassigned"],
            destinations=[{k: d[k] for k in ("shelter", "people", "distance_km")}
                          for d in r["destinations"]]))
    session.flush()
    audit.record(session, actor, "evacuation.issue", "evacuation_order", order.id, None,
                 {"plan": checked.plan_id, "people": order.people,
                  "communities": [r["code"] for r in rows]})
    base = channels_mod.link_base() or ""
    link = f"{base}/officer/evacuation#order-{order.id}"
    officers = primary_officers(session, (r["code"] for r in rows))
    for r in rows:
        if officers.get(r["code"]):
            subject, body = _order_text(r, link)
            send(session, officer_ids=officers[r["code"]], subject=subject, body=body,
                 kind=NOTIFICATION_KIND, reference=f"evacuation:{order.id}:{r['code']}",
                 actor=actor)
    session.flush()
    return order


# --- reading -----------------------------------------------------------------------------

def get_order(session: Session, order_id: int) -> EvacuationOrder:
    """The order with ``order_id``."""
    order = session.get(EvacuationOrder, order_id)
    if order is None:
        raise ShelterNotFound(msg("Evacuation order %(order)s does not exist.", order=order_id),
                              fields={"id": [msg("unknown")]})
    return order


def _community_rows(session: Session, rows: list[EvacuationOrderCommunity]
                    ) -> list[dict[str, Any]]:
    names = community_names(session, (r.community_code for r in rows))
    shelters = shelter_names(session, (d["shelter"] for r in rows for d in r.destinations))
    out = []
    for r in rows:
        name, township = names.get(r.community_code, (r.community_code, ""))
        out.append({"code": r.community_code, "name": name, "township": township,
                    "people": r.people, "unassigned": r.unassigned,
                    "destinations": [d | {"shelter_name": shelters.get(d["shelter"], d["shelter"])}
                                     for d in r.destinations],
                    "acknowledged_at": r.acknowledged_at.isoformat() if r.acknowledged_at
                    else None,
                    "acknowledged_by": r.acknowledged_name})
    out.sort(key=lambda c: (c["township"], c["name"], c["code"]))
    return out


def order_view(session: Session, order: EvacuationOrder,
               only: Iterable[str] | None = None) -> dict[str, Any]:
    """An order with each community's shelters and acknowledgement (``only`` those codes)."""
    stmt = select(EvacuationOrderCommunity).where(EvacuationOrderCommunity.order_id == order.id)
    rows = list(session.scalars(stmt))
    if only is not None:
        keep = set(only)
        rows = [r for r in rows if r.community_code in keep]
    communities = _community_rows(session, rows)
    return {"id": order.id, "plan_id": order.plan_id, "issued_at": order.issued_at.isoformat(),
            "issued_by": order.actor_name, "people": order.people,
            "acknowledged": sum(1 for c in communities if c["acknowledged_at"]),
            "communities": communities}


def recent_orders(session: Session, limit: int = 20) -> list[EvacuationOrder]:
    """Issued orders, newest first."""
    return list(session.scalars(select(EvacuationOrder).order_by(EvacuationOrder.id.desc())
                                .limit(limit)))


def officer_communities(session: Session, actor: Actor, among: Iterable[str]) -> set[str]:
    """Those of the community codes ``among`` that ``actor`` answers for.

    By scope (community, township or county code), or as the officer record linked to the
    account with an assignment there. Two queries whatever the number of communities.
    """
    codes = sorted(set(among))
    if actor.role in ISSUERS:
        return set(codes)
    out: set[str] = set()
    for i in range(0, len(codes), 500):
        part = codes[i:i + 500]
        for code, township, county in session.execute(
                select(Community.code, Community.township_code, Community.county_code)
                .where(Community.code.in_(part))):
            if covers_community(actor, code, township, county):
                out.add(code)
        if actor.user_id is not None:
            out.update(session.scalars(
                select(OfficerAssignment.community_code)
                .join(Officer, Officer.id == OfficerAssignment.officer_id)
                .where(Officer.user_id == actor.user_id,
                       OfficerAssignment.community_code.in_(part))))
    return out


def orders_for_officer(session: Session, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """Recent orders naming the officer's communities, each with only those communities."""
    out = []
    for order in recent_orders(session, limit):
        named = session.scalars(select(EvacuationOrderCommunity.community_code)
                                .where(EvacuationOrderCommunity.order_id == order.id))
        codes = officer_communities(session, actor, named)
        if codes:
            out.append(order_view(session, order, only=codes))
    return out


def pending_for_officer(session: Session, actor: Actor, limit: int = 20) -> int:
    """How many of the officer's communities in recent orders wait for acknowledgement."""
    recent = [o.id for o in recent_orders(session, limit)]
    if not recent:
        return 0
    waiting = session.scalars(select(EvacuationOrderCommunity.community_code).where(
        EvacuationOrderCommunity.order_id.in_(recent),
        EvacuationOrderCommunity.acknowledged_at.is_(None))).all()
    mine = officer_communities(session, actor, waiting)
    return sum(1 for code in waiting if code in mine)


# --- acknowledging -----------------------------------------------------------------------

def acknowledge(session: Session, actor: Actor, order_id: int,
                community_code: str) -> EvacuationOrderCommunity:
    """The officer confirms the order reached a community of their own (once; audited).

    Administrators may record it too (they act for the command line).
    """
    if actor.role not in (Role.INFO_OFFICER, Role.ADMIN):
        raise ShelterPermissionDenied(
            msg("Only the community's information officer acknowledges an evacuation order."))
    get_order(session, order_id)
    row = session.scalar(select(EvacuationOrderCommunity).where(
        EvacuationOrderCommunity.order_id == order_id,
        EvacuationOrderCommunity.community_code == community_code))
    if row is None:
        raise ShelterNotFound(msg("This evacuation order does not name that community."),
                              fields={"community": [msg("not in this order")]})
    if not officer_communities(session, actor, [community_code]):
        raise ShelterPermissionDenied(msg("This community is not one of yours."))
    if row.acknowledged_at is None:
        row.acknowledged_at = utcnow()
        row.acknowledged_by = actor.user_id
        row.acknowledged_name = person_name(session, actor)
        session.flush()
        audit.record(session, actor, "evacuation.acknowledge", "evacuation_order", order_id,
                     None, {"community": community_code})
        session.flush()
    return row
