"""Evacuation orders and shelter check-ins through the API and the pages (Flask test client):
errors name the field and read in the user's language, officers stay inside their scope, and
the situation report counts people checked in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from disaster import accounts
from disaster.access import cli_actor
from disaster.officers import AssignmentRole, Officer, OfficerAssignment
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.warnings.state import set_level
from shelters.models import Shelter, ShelterStatus
from shelters.order_models import EvacuationOrderCommunity
from tests.web.browser.dataset import csrf_from, make_app, sign_in


@pytest.fixture
def web(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    app, data = make_app(database_url, tmp_path, per_side=2)
    sessions = app.extensions["disaster_runtime"].sessions
    township = data.township_codes[0]
    mine = [c for c in data.community_codes if c.startswith(township)]
    other = next(c for c in data.community_codes if not c.startswith(township))
    with sessions() as s:
        user = s.scalar(select(accounts.User).where(accounts.User.username == "officer"))
        officer = Officer(code="OF1", name="王信息员", user_id=user.id)
        s.add(officer)
        s.flush()
        for code in mine:
            s.add(OfficerAssignment(officer_id=officer.id, community_code=code,
                                    role=AssignmentRole.PRIMARY))
        for code in [*mine, other]:
            set_level(s, code, Hazard.RAINSTORM, WarningLevel.ORANGE)
        shelters = s.scalars(select(Shelter).order_by(Shelter.code)).all()
        shelters[0].community_code = mine[0]
        shelters[1].community_code = other
        tokens = {u: accounts.issue_token(s, cli_actor(), u) for u in ("duty", "officer")}
        s.commit()

    def call(method: str, url: str, who: str = "duty", **kwargs):  # type: ignore[no-untyped-def]
        return app.test_client().open(url, method=method,
                                      headers={"Authorization": f"Bearer {tokens[who]}"}, **kwargs)

    yield {"app": app, "data": data, "mine": mine, "other": other, "call": call,
           "sessions": sessions}
    app.extensions["disaster_runtime"].engine.dispose()


def test_check_in_beyond_capacity_is_refused_naming_people_in_chinese(web):
    code = web["data"].shelter_codes[0]
    response = web["call"]("POST", f"/api/v1/shelters/{code}/movements",
                           json={"kind": "arrival", "people": 950})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "over_capacity" and error["field_codes"] == {"people": ["too_large"]}
    assert error["message"] == "第1避难场所容量 1000 人，仅剩 900 个空位，无法登记入住 950 人。"
    assert error["fields"]["people"] == ["最多 900（空余床位）"]
    english = web["call"]("POST", f"/api/v1/shelters/{code}/movements?lang=en",
                          json={"kind": "departure", "people": 101})
    assert english.status_code == 422
    assert english.json["error"]["message"] == \
        "Only 100 people are in 第1避难场所; 101 cannot leave."


def test_check_in_opens_a_standby_shelter_and_the_sitrep_counts_it(web):
    from web.sitrep.data import shelter_status

    code = web["data"].shelter_codes[0]
    ok = web["call"]("POST", f"/api/v1/shelters/{code}/movements",
                     json={"kind": "arrival", "people": 900})
    assert ok.status_code == 201 and ok.json["occupancy"] == 1000
    assert ok.json["status"] == ShelterStatus.FULL.value
    with web["sessions"]() as s:
        status = shelter_status(s)
    assert status["occupancy"] == 1000 + 200 + 300


def test_officer_checks_in_at_own_communitys_shelter_only(web):
    mine, theirs = web["data"].shelter_codes[:2]
    assert web["call"]("POST", f"/api/v1/shelters/{mine}/movements", who="officer",
                       json={"kind": "arrival", "people": 3}).status_code == 201
    refused = web["call"]("POST", f"/api/v1/shelters/{theirs}/movements", who="officer",
                          json={"kind": "arrival", "people": 3})
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == "您无权为第2避难场所登记人数。"


def test_issue_then_officer_acknowledges_on_the_page_only_for_own_community(web):
    plan = web["call"]("POST", "/api/v1/evacuation/plans").json
    issued = web["call"]("POST", "/api/v1/evacuation/orders", json={"plan_id": plan["id"]})
    assert issued.status_code == 201
    order = issued.json
    assert {c["code"] for c in order["communities"]} == {*web["mine"], web["other"]}
    again = web["call"]("POST", "/api/v1/evacuation/orders", json={"plan_id": plan["id"]})
    assert again.status_code == 409 and again.json["error"]["message"] == \
        f"疏散方案 {plan['id']} 已签发过。"
    officer_view = web["call"]("GET", "/api/v1/evacuation/orders", who="officer").json
    assert {c["code"] for c in officer_view[0]["communities"]} == set(web["mine"])

    client = sign_in(web["app"].test_client(), "officer")
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "疏散令：" in inbox and 'href="/officer/evacuation"' in inbox
    assert "确认收到疏散令" in inbox and "evacuation_order</span>" not in inbox
    page = client.get("/officer/evacuation").get_data(as_text=True)
    assert "确认收到疏散令" in page and "避难场所" in page and "公里" in page
    token = csrf_from(page)
    foreign = client.post(f"/officer/evacuation/{order['id']}/{web['other']}",
                          data={"csrf_token": token}, follow_redirects=True)
    assert "该社区（村）不在您的负责范围内。" in foreign.get_data(as_text=True)
    done = client.post(f"/officer/evacuation/{order['id']}/{web['mine'][0]}",
                       data={"csrf_token": token}, follow_redirects=True)
    assert "的疏散令。" in done.get_data(as_text=True)
    with web["sessions"]() as s:
        acked = s.scalars(select(EvacuationOrderCommunity.community_code).where(
            EvacuationOrderCommunity.acknowledged_at.is_not(None))).all()
    assert acked == [web["mine"][0]]
    without_token = client.post(f"/officer/evacuation/{order['id']}/{web['mine'][1]}")
    assert without_token.status_code == 400


def test_operations_page_shows_translated_statuses_and_refuses_leaving_more_than_present(web):
    client = sign_in(web["app"].test_client(), "duty")
    page = client.get("/shelters/operations").get_data(as_text=True)
    assert "待命" in page and "standby" not in page.replace("status-standby", "")
    code = web["data"].shelter_codes[0]
    client.post(f"/shelters/operations/{code}", data={
        "csrf_token": csrf_from(page), "kind": "departure", "people": "101"})
    after = client.get("/shelters/operations").get_data(as_text=True)
    assert "第1避难场所现有 100 人，不能登记离开 101 人。（人数：最多 100（现有人数））" in after
