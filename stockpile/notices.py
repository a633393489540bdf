"""Pushing low-stock, expiring-soon and expired stock warnings to the people who must act.

:func:`stockpile.jobs.stock_warnings` says what is wrong now; this module notifies each
warning once: the depot's managers (users whose scope names the depot) and every duty
officer get an inbox notification, plus e-mail/SMS where their account has an address. A
warning that persists is not sent again; when it clears and later comes back, it is sent
again. :func:`notify_stock_warnings` is the service (CLI ``disaster stock notify``, tests),
:func:`scheduled_job` its scheduler entry point.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from disaster import audit
from disaster.access import SYSTEM, Actor, Role, require_role
from disaster.accounts import User, UserScope
from disaster.notify import dispatch
from gis.types import utcnow
from stockpile import jobs, ledger
from stockpile.models import Depot, Item
from stockpile.notice_models import StockWarningNotice

log = logging.getLogger(__name__)
Key = tuple[str, str, str, str]  # kind, depot, item, lot
SUBJECTS = {
    "low_stock": "【低库存】{depot}：{n} 种物资低于库存下限",
    "expiring": "【临期】{depot}：{n} 批物资即将到期",
    "expired": "【已过期】{depot}：{n} 批物资已过期",
}
KIND_ORDER = ("expired", "low_stock", "expiring")


def _key(warning: dict[str, Any]) -> Key:
    return (warning["kind"], warning["depot"], warning["item"], warning.get("lot") or "")


def recipients(session: Session, depot_code: str) -> list[int]:
    """User ids to notify about ``depot_code``: its active managers and every duty officer."""
    managers = select(User.id).join(UserScope, UserScope.user_id == User.id).where(
        User.role == Role.DEPOT_MANAGER, User.active.is_(True), UserScope.code == depot_code)
    duty = select(User.id).where(User.role == Role.DUTY_OFFICER, User.active.is_(True))
    return sorted(set(session.scalars(managers)) | set(session.scalars(duty)))


def _raise(session: Session, notice: StockWarningNotice | None, key: Key,
           warning: dict[str, Any], now: dt.datetime) -> bool:
    """Claim the right to notify this warning episode; False when it is already claimed.

    New warnings insert the notice (the unique key lets one of two concurrent runs win);
    a returning warning flips an inactive notice with a conditional UPDATE for the same
    reason.
    """
    if notice is None:
        kind, depot, item, lot = key
        try:
            with session.begin_nested():
                session.add(StockWarningNotice(kind=kind, depot_code=depot, item_code=item,
                                               lot=lot, active=True, episodes=1,
                                               detail=warning, notified_at=now))
                session.flush()
        except IntegrityError:  # another run notified it first
            return False
        return True
    result = session.execute(
        update(StockWarningNotice)
        .where(StockWarningNotice.id == notice.id, StockWarningNotice.active.is_(False))
        .values(active=True, episodes=StockWarningNotice.episodes + 1, detail=warning,
                notified_at=now, cleared_at=None)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount == 1


def _clear(session: Session, notice: StockWarningNotice, now: dt.datetime) -> bool:
    result = session.execute(
        update(StockWarningNotice)
        .where(StockWarningNotice.id == notice.id, StockWarningNotice.active.is_(True))
        .values(active=False, cleared_at=now)
        .execution_options(synchronize_session="fetch"))
    return result.rowcount == 1


def _line(warning: dict[str, Any], items: dict[str, Item]) -> str:
    item = items.get(warning["item"])
    name = f"{item.name}（{warning['item']}）" if item else warning["item"]
    unit = f" {item.unit}" if item else ""
    if warning["kind"] == "low_stock":
        return (f"{name} 可用 {warning['quantity']}{unit}，"
                f"低于下限 {warning['minimum']}{unit}")
    lot = warning.get("lot") or "-"
    when = "已于 {} 过期" if warning["kind"] == "expired" else "将于 {} 到期"
    return f"{name} 批次 {lot}：{warning['quantity']}{unit}，{when.format(warning['expires_on'])}"


def _send_group(session: Session, actor: Actor, depot: str, kind: str,
                warnings: list[dict[str, Any]], names: dict[str, str], items: dict[str, Item],
                now: dt.datetime, channels: Iterable[str] | None) -> int:
    """One notification per recipient for the new warnings of one kind at one depot."""
    subject = SUBJECTS[kind].format(depot=names.get(depot, depot), n=len(warnings))
    body = "\n".join([f"{names.get(depot, depot)}（{depot}）："]
                     + [f"· {_line(w, items)}" for w in warnings]
                     + ["请及时补充、调拨或处置（仓库页面可查看库存卡）。"])
    users = recipients(session, depot)
    notes = dispatch.send(session, user_ids=users, subject=subject, body=body, kind=kind,
                          reference=f"stock:{depot}:{kind}", channels=channels, now=now,
                          actor=actor)
    for w in warnings:
        audit.record(session, actor, "stock_warning.notify", "stock", f"{w['depot']}/{w['item']}",
                     None, {"kind": kind, "lot": w.get("lot") or "", "users": users,
                            "warning": w})
    return len(notes)


def notify_stock_warnings(session: Session, actor: Actor, *, today: dt.date | None = None,
                          now: dt.datetime | None = None,
                          channels: Iterable[str] | None = None,
                          expiring_days: int = ledger.EXPIRING_SOON_DAYS) -> dict[str, int]:
    """Notify stock warnings that are new since the last run; clear those that went away.

    Parameters
    ----------
    today
        The calendar day that expiry is judged by (default: today in China).
    now
        Time stamp of the notifications and notices (default: the clock).
    channels
        Channels besides the inbox (default: those configured in the environment).

    Returns
    -------
    dict
        ``{"warnings": current, "notified": newly notified, "cleared": gone since,
        "notifications": inbox rows written}``.

    Raises
    ------
    DisasterPermissionDenied
        Neither an administrator (the system, the CLI) nor a duty officer.
    """
    require_role(actor, Role.ADMIN, Role.DUTY_OFFICER, action="sending stock warnings")
    now = now or utcnow()
    current = {_key(w): w for w in jobs.stock_warnings(session, today=today,
                                                       expiring_days=expiring_days)}
    notices = {(n.kind, n.depot_code, n.item_code, n.lot): n
               for n in session.scalars(select(StockWarningNotice))}
    cleared = 0
    for key, notice in notices.items():
        if notice.active and key not in current and _clear(session, notice, now):
            audit.record(session, actor, "stock_warning.clear", "stock",
                         f"{notice.depot_code}/{notice.item_code}", None,
                         {"kind": notice.kind, "lot": notice.lot})
            cleared += 1
    fresh: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, warning in current.items():
        notice = notices.get(key)
        if notice is not None and notice.active:
            continue  # still the same episode: said already
        if _raise(session, notice, key, warning, now):
            fresh.setdefault((warning["depot"], warning["kind"]), []).append(warning)
    written = 0
    if fresh:
        depots = sorted({d for d, _ in fresh})
        names = dict(session.execute(select(Depot.code, Depot.name).where(
            Depot.code.in_(depots))).all())
        items = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(
            sorted({w["item"] for ws in fresh.values() for w in ws}))))}
        for depot in depots:
            for kind in KIND_ORDER:
                if (depot, kind) in fresh:
                    written += _send_group(session, actor, depot, kind, fresh[(depot, kind)],
                                           names, items, now, channels)
    session.flush()
    return {"warnings": len(current), "notified": sum(len(v) for v in fresh.values()),
            "cleared": cleared, "notifications": written}


def scheduled_job() -> dict[str, int] | None:
    """Scheduler entry point (``stockpile.notices:scheduled_job``): notify, then deliver.

    One transaction per run, with the session factory of :mod:`disaster.jobs`; an error is
    logged and never stops the scheduler.
    """
    from disaster import jobs as disaster_jobs
    from gis.db import unit_of_work

    try:
        with unit_of_work(disaster_jobs.session_factory()) as session:
            counts = notify_stock_warnings(session, SYSTEM)
            if counts["notifications"]:
                dispatch.deliver_pending(session)
            return counts
    except Exception:
        log.exception("stock warning notification failed")
        return None
