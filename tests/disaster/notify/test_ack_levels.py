"""叫应 belongs to the community and the warning level: it survives Updates at the same or a
lower level, and only an upgrade, a new hazard or a new warning asks again."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from disaster.access import Actor, Role, cli_actor
from disaster.accounts import add_user
from disaster.errors import DisasterValidationError
from disaster.notify import ack
from disaster.notify.models import Notification
from disaster.officers import Officer
from disaster.warnings import alerts as alerts_mod
from disaster.warnings import service
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.models import Alert, AlertStatus, Escalation, MsgType
from disaster.warnings.state import CommunityWarning, current_levels
from disaster.weather.ingest import ingest
from tests.disaster.warnings import world

HOUR = dt.timedelta(hours=1)
T0 = world.START
YELLOW, ORANGE, RED = WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED


@pytest.fixture
def town(session):
    """The synthetic world; ``(primary officer per community, 埇桥区 communities)``."""
    primaries = world.build(session)
    west = sorted(c for c in primaries if c.startswith("341302"))
    return primaries, west


def apply(session, at, levels, hazard=Hazard.RAINSTORM):
    """One run of the warning lifecycle with these community levels (None: no longer met)."""
    return alerts_mod.apply_levels(session, {hazard: alerts_mod.Desired(levels)}, at)


def carrier(session, code, hazard=Hazard.RAINSTORM) -> Alert:
    """The live message that carries the community's warning of ``hazard``."""
    row = session.scalar(select(CommunityWarning).where(CommunityWarning.community_code == code,
                                                        CommunityWarning.hazard == hazard))
    return session.get(Alert, row.alert_id)


def officer_of(code: str) -> Actor:
    return Actor(None, f"officer-{code}", Role.INFO_OFFICER, frozenset({code}))


def notices(session, officer_id: int) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.officer_id == officer_id, Notification.kind == "alert"))


def row_of(status: dict, code: str) -> dict:
    return next(r for r in status["communities"] if r["community"] == code)


def test_acknowledgement_survives_twelve_hourly_updates_of_the_same_warning(session, town):
    primaries, west = town
    a, others = west[0], west[1:]
    apply(session, T0, {a: YELLOW})
    ack.acknowledge(session, officer_of(a), carrier(session, a).id, via="page",
                    now=T0 + dt.timedelta(minutes=5))
    assert notices(session, primaries[a]) == 1
    previous = others[0]
    for hour in range(1, 13):
        joining = others[hour % len(others)]
        counts = apply(session, T0 + hour * HOUR, {a: YELLOW, joining: YELLOW,
                                                     previous: None})
        previous = joining
        assert counts["updated"] == 1, hour
        message = carrier(session, a)
        assert message.msg_type == MsgType.UPDATE and message.status == AlertStatus.ACTIVE
        status = ack.ack_status(session, message)
        mine = row_of(status, a)
        assert mine["acknowledged"], f"asked again at the Update of hour {hour}"
        assert [b["officer"] for b in mine["acknowledged_by"]] == [f"信息员{a[-3:]}"]
        assert mine["acknowledged_by"][0]["via"] == "page"
        assert not row_of(status, joining)["acknowledged"]  # the newcomer is asked
        assert mine["name"] == "测试00村" and mine["township"] == "埇桥区一镇"
    # The officer's page does not ask again either.
    assert ack.acknowledged_alert_ids(session, [message], {primaries[a]}) == {message.id}
    assert ack.acknowledged_alert_ids(session, [message], {primaries[others[3]]}) == set()
    # Not re-notified by any of the twelve Updates; each newcomer was told once.
    assert notices(session, primaries[a]) == 1
    assert all(notices(session, primaries[c]) >= 1 for c in others)


def test_upgrade_asks_again_and_a_downgrade_keeps_the_acknowledgement(session, town):
    primaries, west = town
    a, b = west[0], west[1]
    apply(session, T0, {a: YELLOW, b: YELLOW})
    ack.acknowledge(session, officer_of(a), carrier(session, a).id, now=T0 + dt.timedelta(minutes=3))

    apply(session, T0 + HOUR, {a: ORANGE})
    orange = carrier(session, a)
    assert orange.level == ORANGE
    assert not row_of(ack.ack_status(session, orange), a)["acknowledged"]
    assert notices(session, primaries[a]) == 2  # the upgrade notifies and asks again
    ack.acknowledge(session, officer_of(a), orange.id, now=T0 + HOUR + dt.timedelta(minutes=4))
    assert row_of(ack.ack_status(session, orange), a)["acknowledged_by"][0]["level"] == "orange"

    apply(session, T0 + 2 * HOUR, {a: YELLOW})
    yellow = carrier(session, a)
    assert yellow.level == YELLOW and yellow.id != orange.id
    assert row_of(ack.ack_status(session, yellow), a)["acknowledged"]
    assert notices(session, primaries[a]) == 2  # a downgrade asks nobody
    # Back up to orange: acknowledged at orange within this warning, so it holds.
    apply(session, T0 + 3 * HOUR, {a: ORANGE})
    assert row_of(ack.ack_status(session, carrier(session, a)), a)["acknowledged"]
    # Red is above anything acknowledged: asked again.
    apply(session, T0 + 4 * HOUR, {a: RED})
    assert not row_of(ack.ack_status(session, carrier(session, a)), a)["acknowledged"]
    assert notices(session, primaries[a]) == 3


def test_new_hazard_and_a_new_warning_ask_again(session, town):
    primaries, west = town
    a = west[0]
    apply(session, T0, {a: YELLOW})
    ack.acknowledge(session, officer_of(a), carrier(session, a).id, now=T0)
    apply(session, T0 + HOUR, {a: YELLOW}, hazard=Hazard.GALE)
    gale = carrier(session, a, Hazard.GALE)
    assert not row_of(ack.ack_status(session, gale), a)["acknowledged"]
    assert row_of(ack.ack_status(session, carrier(session, a)), a)["acknowledged"]
    assert notices(session, primaries[a]) == 2
    # The rainstorm warning lifts (Cancel) and a new one comes: a new 叫应 is due.
    apply(session, T0 + 2 * HOUR, {a: None})
    assert Hazard.RAINSTORM not in current_levels(session).get(a, {})
    apply(session, T0 + 3 * HOUR, {a: YELLOW})
    assert not row_of(ack.ack_status(session, carrier(session, a)), a)["acknowledged"]


def test_escalation_spares_a_community_acknowledged_on_an_earlier_message(session, town):
    _primaries, west = town
    a, b, c = west[:3]
    apply(session, T0, {a: ORANGE, b: ORANGE})
    ack.acknowledge(session, officer_of(a), carrier(session, a).id, now=T0 + dt.timedelta(minutes=2))
    apply(session, T0 + dt.timedelta(minutes=10), {a: ORANGE, b: ORANGE, c: ORANGE})
    assert carrier(session, a).msg_type == MsgType.UPDATE
    assert ack.escalate(session, now=T0 + dt.timedelta(minutes=16)) == 1
    assert {e.community_code for e in session.scalars(select(Escalation))} == {b}
    # The next Update still shows b as escalated (the escalation belongs to the warning).
    apply(session, T0 + dt.timedelta(minutes=70), {a: ORANGE, b: ORANGE})
    status = ack.ack_status(session, carrier(session, b))
    assert row_of(status, b)["escalated"] and not row_of(status, a)["escalated"]


def test_duty_officer_records_a_phoned_acknowledgement_for_a_covering_officer(session, town):
    primaries, west = town
    apply(session, T0, {west[0]: YELLOW, west[1]: YELLOW})
    message = carrier(session, west[0])
    duty = add_user(session, cli_actor(), "duty", "duty_officer", "Duty2026password").actor()
    with pytest.raises(DisasterValidationError) as missing:
        ack.acknowledge(session, duty, message.id, via="phone")
    assert "officer_id" in missing.value.fields
    outsider = primaries[west[5]]  # covers a community the message does not carry
    for wrong in (outsider, 999_999):
        with pytest.raises(DisasterValidationError) as refused:
            ack.acknowledge(session, duty, message.id, via="phone", officer_id=wrong)
        assert "officer_id" in refused.value.fields
    offered = {o["id"]: o for o in ack.covering_officers(session, message)}
    backup = session.scalar(select(Officer.id).where(Officer.code == "OB341302001"))
    assert set(offered) == {primaries[west[0]], primaries[west[1]], backup}
    assert offered[backup]["communities"][0]["role"] == "backup"
    ack.acknowledge(session, duty, message.id, via="phone", officer_id=backup)
    status = ack.ack_status(session, message)
    assert status["acknowledged"] == 2  # the backup covers both communities
    by = row_of(status, west[1])["acknowledged_by"][0]
    assert (by["officer"], by["via"]) == ("备岗341302", "phone")


def test_replayed_storm_asks_each_officer_only_when_the_level_rises(session, town, tmp_path):
    """Drive the real engine hour by hour over a moving storm; officers acknowledge whatever
    they are notified of. No Update may ask again without notifying, and nobody is notified
    except for a new warning or a level above what they acknowledged."""
    primaries, _west = town
    rain = np.concatenate([world.rain_sequence(14), np.zeros((6, *world.GRID_SHAPE), np.float32)])
    world.write_series(tmp_path / "g", rain)
    report = ingest(session, "grid-files", str(tmp_path / "g"), now=T0 + dt.timedelta(days=2),
                    replay=True)
    by_officer = {o: c for c, o in primaries.items()}
    acked_rank: dict[str, int] = {}
    expected = dict.fromkeys(primaries, 0)
    seen_notes: set[int] = set()
    updates = 0
    for t in sorted(report.new_hours):
        updates += service.evaluate(session, t)["updated"]
        levels = {c: by_h[Hazard.RAINSTORM].rank for c, by_h in current_levels(session).items()
                  if Hazard.RAINSTORM in by_h}
        for c in list(acked_rank):
            if c not in levels:
                del acked_rank[c]  # the warning ended: the next one asks again
        for c, rank in levels.items():
            if rank > acked_rank.get(c, 0):
                expected[c] += 1
        for note in session.scalars(select(Notification).where(Notification.kind == "alert",
                                                               Notification.id.not_in(seen_notes))):
            seen_notes.add(note.id)
            code = by_officer[note.officer_id]
            alert = session.scalar(select(Alert).where(Alert.identifier == note.reference))
            ack.acknowledge(session, officer_of(code), alert.id, now=t)
            acked_rank[code] = max(acked_rank.get(code, 0), alert.level.rank)
        for live in session.scalars(select(Alert).where(Alert.status == AlertStatus.ACTIVE,
                                                        Alert.msg_type != MsgType.CANCEL)):
            assert ack.ack_status(session, live)["pending"] == 0, (t, live.identifier)
    assert updates >= 12
    got = {c: notices(session, o) for c, o in primaries.items()}
    assert got == expected
    assert max(expected.values()) >= 2  # some community was upgraded and asked again
