"""A bounded schemathesis run over every operation of ``/api/v1/openapi.json`` (issue 13).

A live server on the test's own database, loaded with the synthetic 宿州-like dataset, is
called as a signed-in duty officer and as an administrator with generated valid and invalid
input (fixed seed, a few examples per operation). Every response must be no server error,
carry a documented status code and conform to the documented response schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from disaster import accounts
from disaster.access import cli_actor
from disaster.reports.services import submit_report
from tests.web.browser.dataset import make_app
from web.server import ServerThread

pytestmark = pytest.mark.fuzz

# Examples per operation and generation mode: the duty officer is refused the administrator's
# operations (403) and so needs more to reach their bodies' rules; under a minute a backend.
EXAMPLES = {"duty": 3, "admin": 2}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Operations whose every call rebuilds a plan or changes who may sign in: a few examples say
# as much as many, and revoking the caller's own token would end the run.
SKIP = {("POST", "/api/v1/users/{username}/tokens/revoke")}


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    app, data = make_app(database_url, tmp_path)
    with app.extensions["disaster_runtime"].sessions() as session:
        tokens = {user: accounts.issue_token(session, cli_actor(), user)
                  for user in ("duty", "admin")}
        # An open event with a report, so that event and report operations find something.
        submit_report(session, cli_actor(), {
            "community": data.community_codes[0], "kind": "initial", "hazard": "rainstorm",
            "occurred_at": "2026-07-10T08:30:00+08:00", "affected_people": 12, "evacuated": 3})
        session.commit()
    server = ServerThread(app, threads=2).start()
    try:
        yield server.url, tokens
    finally:
        server.stop()
        app.extensions["disaster_runtime"].engine.dispose()


def _fuzz(url: str, token: str, examples: int) -> list[str]:
    """Every failed check, one line each, over all operations and both generation modes."""
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json", headers=headers,
                                           timeout=30)
    failures: list[str] = []
    calls = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _examples(operation, mode, url, headers, calls, failures, examples)
            except Exception as exc:  # noqa: BLE001 - a strategy that cannot generate
                if "Unsatisfiable" not in type(exc).__name__:
                    failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]"
                                    f" generation: {type(exc).__name__}: {exc}"[:400])
    return failures


def _examples(operation, mode, url, headers, calls, failures, examples) -> None:  # type: ignore[no-untyped-def]
    """Call ``operation`` with a few generated cases; each failed check goes to ``failures``."""

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(base_url=url, session=calls, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            problems = "; ".join(f"{type(e).__name__}: {str(e).splitlines()[:4]}"
                                 for e in group.exceptions)
            failures.append(f"{case.method} {case.formatted_path}?{case.query} [{mode.value}] "
                            f"{response.status_code} {response.text[:300]!r}: {problems}")

    run()


@pytest.mark.parametrize("user", ["duty", "admin"])
def test_every_operation_answers_as_documented_without_server_errors(live, user):
    url, tokens = live
    failures = _fuzz(url, tokens[user], EXAMPLES[user])
    assert not failures, "\n".join(failures)
