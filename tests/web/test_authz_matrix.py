"""Authorisation matrix: EVERY /api/v1 rule of the app against every role and anonymous.

The expectation table below is CONTRACT.md's endpoint table (the administrator, who acts for
the command line too, may do every write). A rule the app serves that is not in the table
fails the test: whoever adds an endpoint adds its row here (roles allowed) and, for a write,
a valid sample body in BODIES, so no endpoint ships without a decision on who may call it.

Rules are keyed by method and path with each ``<parameter>`` written ``{}``. For a role not
allowed the answer must be 403 (404 is accepted only where the path names a resource, since
a service may look it up before it checks the role); for an allowed role anything but 401,
403 and 5xx. Writes send the valid body of BODIES (``{}`` if none), so a service that
validates before it checks the role still has to refuse. Anonymous callers always get 401.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from disaster import accounts
from disaster.access import cli_actor
from tests.web.browser.dataset import ROLES, make_app, sign_in

ADMIN, DUTY, OFFICER, DEPOT = "admin", "duty_officer", "info_officer", "depot_manager"
ANY = frozenset({ADMIN, DUTY, OFFICER, DEPOT})

# (method, path with {} for parameters) -> roles allowed, or a list of
# (path arguments, roles allowed) cases when the answer depends on the arguments.
EXPECTED: dict[tuple[str, str], frozenset[str] | list[tuple[tuple[str, ...], frozenset[str]]]] = {
    ("GET", "/api/v1/openapi.json"): ANY,
    ("GET", "/api/v1/areas"): ANY,
    ("GET", "/api/v1/communities"): ANY,
    ("GET", "/api/v1/hazard-zones"): ANY,
    ("GET", "/api/v1/alerts"): ANY,
    ("GET", "/api/v1/alerts/{}.xml"): ANY,
    ("GET", "/api/v1/alerts/feed.atom"): ANY,
    # Duty officers record a 叫应 taken by phone for an officer covering the alert.
    ("POST", "/api/v1/alerts/{}/ack"): frozenset({ADMIN, DUTY, OFFICER}),
    # Duty officers file on behalf of a community whose officer phones the report in.
    ("POST", "/api/v1/reports"): frozenset({ADMIN, DUTY, OFFICER}),
    ("GET", "/api/v1/reports"): ANY,
    ("GET", "/api/v1/officers/coverage"): ANY,
    ("GET", "/api/v1/shelters"): ANY,
    ("PATCH", "/api/v1/shelters/{}"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/depots"): ANY,
    ("GET", "/api/v1/depots/{}/stock"): ANY,
    ("POST", "/api/v1/depots/{}/movements"): frozenset({ADMIN, DEPOT}),
    ("POST", "/api/v1/dispatch/plans"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/dispatch/plans/{}"): ANY,  # depot managers read the plan they ship
    ("POST", "/api/v1/dispatch/orders/{}/{}"): [
        (("1", "confirm"), frozenset({ADMIN, DEPOT})),
        (("1", "ship"), frozenset({ADMIN, DEPOT})),
        # Delivery is confirmed at the destination: also by its information officer or
        # by the sending depot's manager (scope decides; the dataset's order 1 is in both).
        (("1", "deliver"), frozenset({ADMIN, DUTY, OFFICER, DEPOT})),
        (("1", "cancel"), frozenset({ADMIN, DUTY})),
    ],
    ("POST", "/api/v1/evacuation/plans"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/assessment"): ANY,
    # Beyond CONTRACT.md: reads for every signed-in user, writes by role.
    ("GET", "/api/v1/alerts/escalations"): ANY,
    ("GET", "/api/v1/alerts/{}/acks"): ANY,
    ("GET", "/api/v1/alerts/{}/officers"): frozenset({ADMIN, DUTY}),  # carries phone numbers
    ("GET", "/api/v1/alerts/{}/deliveries"): frozenset({ADMIN, DUTY}),  # phone numbers too
    ("POST", "/api/v1/alerts/{}/approve"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/assessment/indicators"): ANY,
    ("GET", "/api/v1/assessment/parameters"): ANY,
    ("PUT", "/api/v1/assessment/parameters/{}"): frozenset({ADMIN}),
    ("DELETE", "/api/v1/assessment/parameters/{}"): frozenset({ADMIN}),
    ("GET", "/api/v1/depots/{}/items/{}/card"): ANY,
    ("GET", "/api/v1/dispatch/orders"): ANY,
    ("POST", "/api/v1/dispatch/plans/{}/approve"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/evacuation/plans"): ANY,
    ("GET", "/api/v1/evacuation/plans/{}"): ANY,
    ("GET", "/api/v1/evacuation/plans/{}/communities/{}"): ANY,
    ("GET", "/api/v1/evacuation/plans/{}/flows"): ANY,
    ("GET", "/api/v1/evacuation/plans/{}/communities"): ANY,
    ("POST", "/api/v1/evacuation/orders"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/evacuation/orders"): ANY,
    ("GET", "/api/v1/evacuation/orders/{}"): ANY,
    # Officers acknowledge for their own communities only (scope: tests/shelters/test_orders.py).
    ("POST", "/api/v1/evacuation/orders/{}/communities/{}/acknowledge"): frozenset({ADMIN,
                                                                                  OFFICER}),
    # The officer of the shelter's community too; the dataset's shelters name no community.
    ("POST", "/api/v1/shelters/{}/movements"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/events"): ANY,
    ("POST", "/api/v1/events"): frozenset({ADMIN, DUTY}),
    ("POST", "/api/v1/events/{}/close"): frozenset({ADMIN, DUTY}),
    ("GET", "/api/v1/needs"): ANY,
    ("GET", "/api/v1/needs/profiles"): ANY,
    ("PUT", "/api/v1/needs/profiles/{}"): frozenset({ADMIN}),
    ("GET", "/api/v1/notifications"): ANY,
    # Everyone has an inbox; ownership of the row decides (tests/web/test_inbox_page.py).
    ("POST", "/api/v1/notifications/{}/read"): ANY,
    ("POST", "/api/v1/notifications/read-all"): ANY,
    ("POST", "/api/v1/officers/handover"): frozenset({ADMIN}),
    ("GET", "/api/v1/officers/proposals"): frozenset({ADMIN, DUTY}),
    ("POST", "/api/v1/officers/proposals"): frozenset({ADMIN, DUTY}),
    ("POST", "/api/v1/officers/proposals/{}/approve"): frozenset({ADMIN}),
    ("GET", "/api/v1/officers/uncovered"): ANY,
    ("GET", "/api/v1/reports/export.csv"): ANY,
    ("GET", "/api/v1/reports/overdue"): ANY,
    ("GET", "/api/v1/reports/photos/{}"): ANY,
    ("GET", "/api/v1/reports/rollup"): ANY,
    # Review: every reader sees the reports of their scope; duty officers decide; the
    # officer of the community (scope decides) corrects and resends a returned report.
    ("GET", "/api/v1/reports/review"): ANY,
    ("POST", "/api/v1/reports/{}/review"): frozenset({ADMIN, DUTY}),
    ("POST", "/api/v1/reports/{}/resend"): frozenset({ADMIN, DUTY, OFFICER}),
    ("GET", "/api/v1/reports/thresholds"): ANY,
    ("PUT", "/api/v1/reports/thresholds"): frozenset({ADMIN}),
    ("GET", "/api/v1/risk"): ANY,
    ("GET", "/api/v1/risk.geojson"): ANY,
    ("GET", "/api/v1/shelters/safety"): ANY,
    ("GET", "/api/v1/shelters/safety-rules"): ANY,
    ("PUT", "/api/v1/shelters/safety-rules"): frozenset({ADMIN}),
    ("GET", "/api/v1/shelters/{}/history"): ANY,
    ("GET", "/api/v1/sitrep/{}"): ANY,
    ("GET", "/api/v1/stock/warnings"): ANY,
    ("GET", "/api/v1/weather/sources"): ANY,
    ("GET", "/api/v1/warnings/impact-matrices"): ANY,
    ("PUT", "/api/v1/warnings/impact-matrices/{}"): [(("rainstorm",), frozenset({ADMIN}))],
    # Dispatch in the browser (web/api/dispatch.py): reads for everyone; line edits by duty
    # officers; bulk confirm/ship by depot managers (scope checked per order's depot); the
    # movement history by duty officers and the depot's own managers.
    ("GET", "/api/v1/dispatch/options"): ANY,
    ("GET", "/api/v1/dispatch/plans"): ANY,
    ("GET", "/api/v1/dispatch/plans/{}/review"): ANY,
    ("GET", "/api/v1/dispatch/flows"): ANY,
    ("GET", "/api/v1/dispatch/board"): ANY,
    ("PATCH", "/api/v1/dispatch/orders/{}/lines/{}"): frozenset({ADMIN, DUTY}),
    ("POST", "/api/v1/dispatch/orders/bulk"): frozenset({ADMIN, DEPOT}),
    ("GET", "/api/v1/depots/{}/movements"): frozenset({ADMIN, DUTY, DEPOT}),
}

# A valid body per write (so that only the role can make it fail); "{community}" is replaced
# by a community inside the info officer's scope.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/reports"): {
        "community": "{community}", "kind": "initial", "hazard": "rainstorm",
        "occurred_at": "2026-11-29T08:00:00+08:00", "affected_people": 3, "evacuated": 1},
    ("PATCH", "/api/v1/shelters/{}"): {"occupancy": 10},
    ("POST", "/api/v1/evacuation/orders"): {"plan_id": 1},
    ("POST", "/api/v1/shelters/{}/movements"): {"kind": "arrival", "people": 1},
    ("POST", "/api/v1/events"): {"hazard": "rainstorm", "name": "authz matrix"},
    ("POST", "/api/v1/depots/{}/movements"): {"kind": "receipt", "item": "QUILT",
                                               "quantity": 5, "reason": "authz matrix"},
    ("POST", "/api/v1/reports/{}/review"): {"decision": "verified"},
    ("POST", "/api/v1/reports/{}/resend"): {"affected_people": 3},
    ("PATCH", "/api/v1/dispatch/orders/{}/lines/{}"): {"quantity": 1},
    ("POST", "/api/v1/dispatch/orders/bulk"): {"action": "confirm", "orders": [1]},
}

# Path arguments naming real rows of the test dataset, by the path segment before them.
KNOWN_ARGS = {"depots": "DP341300", "shelters": "SH341302001"}
_PARAM = re.compile(r"<[^>]+>")


def key_of(rule: str) -> str:
    return _PARAM.sub("{}", rule)


def default_args(path: str) -> tuple[str, ...]:
    parts = path.split("/")
    return tuple(KNOWN_ARGS.get(parts[i - 1], "1") for i, p in enumerate(parts) if "{}" in p)


def fill(path: str, args: tuple[str, ...]) -> str:
    values = iter(args)
    return re.sub(r"\{\}", lambda _m: next(values), path)


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")), per_side=1)
    tokens: dict[str, str] = {"community": data.xss_code}
    with app.extensions["disaster_runtime"].sessions() as session:
        for username, role in ROLES.items():
            tokens[role] = accounts.issue_token(session, cli_actor(), username)
        session.commit()
    yield app, tokens
    app.extensions["disaster_runtime"].engine.dispose()


def api_routes(app: Flask) -> list[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            out.update((m, key_of(rule.rule)) for m in rule.methods - {"HEAD", "OPTIONS"})
    return sorted(out, key=lambda r: (r[1], r[0]))


def cases(method: str, path: str) -> list[tuple[tuple[str, ...], frozenset[str]]]:
    expected = EXPECTED[(method, path)]
    if isinstance(expected, list):
        return expected
    return [(default_args(path), expected)]


def body_for(method: str, path: str, community: str) -> dict:
    body = dict(BODIES.get((method, path), {}))
    return {k: community if v == "{community}" else v for k, v in body.items()}


def call(app: Flask, method: str, url: str, token: str | None,  # type: ignore[no-untyped-def]
         body: dict | None = None):
    headers = {"Idempotency-Key": f"authz-{uuid.uuid4().hex}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    kwargs = {} if method == "GET" else {"json": body or {}}
    return app.test_client().open(url, method=method, headers=headers, **kwargs)


def test_every_api_rule_has_an_expectation(web):
    missing = [f"{m} {p}" for m, p in api_routes(web[0]) if (m, p) not in EXPECTED]
    assert not missing, ("add these endpoints to EXPECTED in tests/web/test_authz_matrix.py "
                         f"with the roles allowed: {missing}")


def test_anonymous_callers_get_401_everywhere(web):
    app, _ = web
    wrong = []
    for method, path in api_routes(app):
        if (method, path) not in EXPECTED:
            continue
        for args, _roles in cases(method, path):
            response = call(app, method, fill(path, args), None)
            body = response.get_json(silent=True) or {}
            if response.status_code != 401 or "error" not in body:
                wrong.append(f"{method} {fill(path, args)} -> {response.status_code}")
    assert not wrong, wrong


@pytest.mark.parametrize("role", sorted(ANY))
def test_each_role_gets_exactly_what_the_contract_allows(web, role):
    app, tokens = web
    wrong = []
    for method, path in api_routes(app):
        if (method, path) not in EXPECTED:
            continue
        for args, allowed in cases(method, path):
            url = fill(path, args)
            body = body_for(method, path, tokens["community"])
            status = call(app, method, url, tokens[role], body).status_code
            if role in allowed:
                ok = status not in (401, 403) and status < 500
            else:
                ok = status == 403 or (status == 404 and bool(args))
            if not ok:
                verdict = "allowed" if role in allowed else "refused"
                wrong.append(f"{method} {url}: {role} should be {verdict}, got {status}")
    assert not wrong, wrong


@pytest.mark.parametrize(("username", "status"), [
    ("admin", 200), ("duty", 403), ("officer", 403), ("depot", 403), (None, 302)])
def test_admin_pages_are_for_administrators_only(web, username, status):
    app, _ = web
    client = app.test_client()
    if username:
        sign_in(client, username)
    for url in ("/admin/users", "/admin/audit"):
        assert client.get(url).status_code == status, url
