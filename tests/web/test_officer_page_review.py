"""The officer page names kinds, figures and review states in the reader's language, and
lists the reports returned to the officer with the reviewer's comment."""

from __future__ import annotations

import json
import re

import pytest

from disaster.access import Role, cli_actor
from disaster.accounts import add_user
from disaster.reports.review import review_report
from disaster.reports.services import submit_report
from tests.disaster.reports.factories import build_region
from web.app import create_app

PASSWORD = "Officer2026pass"


@pytest.fixture
def app(database_url):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    with app.extensions["disaster_runtime"].sessions() as s:
        region = build_region(s)
        app.region = region  # type: ignore[attr-defined]
        officer = add_user(s, cli_actor(), "officer", Role.INFO_OFFICER, password=PASSWORD,
                           scopes=["341302001"], update=True)
        report, _ = submit_report(s, officer.actor(), {
            "community": region.communities[0], "kind": "initial", "hazard": "rainstorm",
            "occurred_at": "2026-07-10T08:30:00+08:00", "affected_people": 4})
        review_report(s, region.duty, report.id, {"decision": "returned",
                                                  "comment": "请补充倒塌房屋数"})
        s.commit()
    yield app
    app.extensions["disaster_runtime"].engine.dispose()


def page(app, lang: str = "zh_CN") -> str:  # type: ignore[no-untyped-def]
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/login", data={"username": "officer", "password": PASSWORD,
                                "csrf_token": token})
    return client.get(f"/officer/?lang={lang}").get_data(as_text=True)


def options(html: str) -> list[str]:
    select = re.search(r'<select name="kind">(.*?)</select>', html, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_chinese_page_names_kinds_once_and_figures_in_chinese(app):
    html = page(app)
    assert options(html) == ["初报", "续报", "核报"]
    assert "受灾人口（人）" in html and ">affected_people<" not in html
    text = json.loads(re.search(r'id="officer-text">(.*?)</script>', html, re.S).group(1))
    assert text["labels"]["affected_people"] == "受灾人口（人）"
    assert text["labels"]["occurred_at"] == "发生时间"
    assert text["at_most"] == "不能大于%(field)s"


def test_returned_report_is_listed_with_the_comment_and_counted(app):
    html = page(app)
    assert re.search(r'id="returned-count" class="count">1<', html)
    assert "请补充倒塌房屋数" in html and "初报（退回修改）" in html
    assert 'class="correct"' in html


def test_english_page_reads_english(app):
    html = page(app, "en")
    assert options(html) == ["Initial report", "Update report", "Final report"]
    assert "Affected people" in html
