"""Generated disaster information officers and the demo accounts.

One primary officer per community (村/社区灾害信息员) and one backup per township (乡镇灾害
信息员, backing up every community of the township). Names are drawn from common surnames;
mobile numbers are random 13x/15x/18x numbers (the notification channels of the demo deliver
locally, never to a network); e-mail addresses are under ``example.org``, reserved by
RFC 2606, so that no real mailbox can be reached.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from disaster.sample.places import stream
from disaster.sample.records import (
    AreaRecord,
    AssignmentRecord,
    CommunityRecord,
    DepotRecord,
    OfficerRecord,
    UserRecord,
)


def _person(names: dict, rng: np.random.Generator) -> str:
    return (names["surnames"][int(rng.integers(len(names["surnames"])))]
            + names["given"][int(rng.integers(len(names["given"])))])


def _phone(rng: np.random.Generator) -> str:
    return f"1{'358'[int(rng.integers(3))]}{int(rng.integers(0, 10**9)):09d}"


def build_officers(p: dict, areas: list[AreaRecord], communities: list[CommunityRecord],
                   seed: int) -> tuple[list[OfficerRecord], list[AssignmentRecord]]:
    """Primary officer per community, backup per township."""
    rng = stream(seed, "officers")
    officers: list[OfficerRecord] = []
    assignments: list[AssignmentRecord] = []
    by_township: dict[str, list[CommunityRecord]] = defaultdict(list)
    for c in communities:
        by_township[c.township_code].append(c)
        code = f"OF{c.code}"
        officers.append(OfficerRecord(code, _person(p["names"], rng), _phone(rng),
                                      f"officer-{c.code}@example.org", c.code))
        assignments.append(AssignmentRecord(code, c.code, "primary"))
    for town in (a for a in areas if a.level == "township"):
        members = sorted(by_township[town.code], key=lambda c: c.code)
        if not members:
            continue
        code = f"OB{town.code}"
        officers.append(OfficerRecord(code, _person(p["names"], rng), _phone(rng),
                                      f"officer-{town.code}@example.org", members[0].code))
        assignments.extend(AssignmentRecord(code, c.code, "backup") for c in members)
    return officers, assignments


def build_users(areas: list[AreaRecord], depots: list[DepotRecord]) -> list[UserRecord]:
    """One demo account per role; the information officer covers the first township of the
    city centre (埇桥街道) as its backup officer, the depot manager runs the city reserve."""
    township = min((a for a in areas if a.level == "township"), key=lambda a: a.code)
    reserve = next(d for d in depots if d.level == "city")
    return [
        UserRecord("admin", "admin", "系统管理员（演示）"),
        UserRecord("duty", "duty_officer", "值班员（演示）"),
        UserRecord("officer", "info_officer", f"{township.name}灾害信息员（演示）",
                   [township.code], officer_code=f"OB{township.code}"),
        UserRecord("depot", "depot_manager", f"{reserve.name}仓库管理员（演示）", [reserve.code]),
    ]
