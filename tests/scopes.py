"""Scope codes must exist before a user may hold them (``disaster.accounts.check_scopes``):
tests that give users made-up scopes create them here first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.areas import Area, AreaLevel
from stockpile.models import Depot, DepotLevel


def ensure_scopes(session: Session, *codes: str) -> None:
    """Create each missing county (6 digits), township (9 digits) or depot (``DP…``/other)."""
    for code in codes:
        if code.isdigit() and len(code) in (6, 9):
            _area(session, code)
        elif session.scalar(select(Depot.id).where(Depot.code == code)) is None:
            session.add(Depot(code=code, name=f"测试仓库{code}", level=DepotLevel.COUNTY,
                              generated=True))
    session.flush()


def _area(session: Session, code: str) -> None:
    if session.scalar(select(Area.id).where(Area.code == code)) is not None:
        return
    city = code[:4] + "00"
    if len(code) == 9:
        _area(session, code[:6])
        parent, level = code[:6], AreaLevel.TOWNSHIP
    else:
        if session.scalar(select(Area.id).where(Area.code == city)) is None:
            session.add(Area(code=city, name="测试市", level=AreaLevel.CITY, generated=True))
            session.flush()
        parent, level = city, AreaLevel.COUNTY
    session.add(Area(code=code, name=f"测试区域{code}", level=level, parent_code=parent,
                     generated=True))
    session.flush()
