"""The officer's phone page: own communities only, the form, the service worker."""

from __future__ import annotations

import re

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from tests.disaster.reports.factories import build_region
from web.app import create_app

PASSWORD = "Officer2026pass"


@pytest.fixture
def app(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        app.region = build_region(s)  # type: ignore[attr-defined]
        for name in ("officer", "duty"):
            user = add_user(s, cli_actor(), name, Role.INFO_OFFICER if name == "officer"
                            else Role.DUTY_OFFICER, password=PASSWORD, update=True,
                            scopes=["341302001"] if name == "officer" else ())
            assert user
        s.commit()
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def sign_in(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def test_page_needs_sign_in(app):
    response = app.test_client().get("/officer/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_officer_sees_only_own_communities_and_the_form(app):
    html = sign_in(app, "officer").get("/officer/").get_data(as_text=True)
    mine, others = app.region.communities[:3], app.region.communities[3:]
    assert all(code in html for code in mine)
    assert not any(code in html for code in others)
    assert 'id="report-form"' in html and 'name="affected_people"' in html
    assert "officer.js" in html


def test_duty_officer_sees_every_community(app):
    html = sign_in(app, "duty").get("/officer/").get_data(as_text=True)
    assert all(code in html for code in app.region.communities)


def test_service_worker_caches_the_page_and_its_assets(app):
    response = app.test_client().get("/officer/sw.js")
    assert response.mimetype == "application/javascript"
    script = response.get_data(as_text=True)
    assert '"/officer/"' in script and "/static/officer/officer.js" in script
    assert "const CACHE" in script


def test_active_warning_of_my_community_waits_for_acknowledgement(app):
    import datetime as dt

    from disaster.warnings.levels import Hazard, WarningLevel
    from disaster.warnings.models import Alert, AlertStatus, MsgType

    now = dt.datetime.now(dt.UTC)
    mine, other = app.region.communities[0], app.region.communities[4]
    with app.extensions["disaster_runtime"].sessions() as s:
        for n, (code, headline) in enumerate(((mine, "埇桥街道暴雨橙色预警"),
                                              (other, "符离镇暴雨红色预警"))):
            s.add(Alert(identifier=f"TEST-{n}", sender="test", sent=now, msg_type=MsgType.ALERT,
                        status=AlertStatus.ACTIVE, hazard=Hazard.RAINSTORM,
                        level=WarningLevel.ORANGE, county_code="341302", communities=[code],
                        references=[], expires=now + dt.timedelta(hours=6), evaluated_at=now,
                        headline=headline, description=""))
        s.commit()
    html = sign_in(app, "officer").get("/officer/").get_data(as_text=True)
    assert "埇桥街道暴雨橙色预警" in html and 'class="ack"' in html
    assert "符离镇暴雨红色预警" not in html
