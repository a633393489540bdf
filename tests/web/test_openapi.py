"""The OpenAPI document is valid and describes every /api/v1 route of the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from openapi_spec_validator import validate

from tests.web.browser.dataset import Dataset, make_app, sign_in
from web.api.openapi import build_spec


@pytest.fixture(scope="module")
def web(backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Dataset]]:
    app, data = make_app(backend.new_url(), Path(tmp_path_factory.mktemp("home")), per_side=1)
    yield app, data
    app.extensions["disaster_runtime"].engine.dispose()


@pytest.fixture(scope="module")
def document(web) -> dict:
    client = sign_in(web[0].test_client(), "officer")
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_api_rule_and_method_is_described(web, document):
    app = web[0]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule
        for converter in ("int:", "string:", "path:", "float:"):
            path = path.replace("<" + converter, "<")
        path = path.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing
    assert "/api/v1/openapi.json" in document["paths"]


def test_docstring_yaml_supplies_parameters_and_responses(document):
    operation = document["paths"]["/api/v1/communities"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"bbox", "county", "zoom", "simplify"} <= names
    assert "422" in operation["responses"]
    assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_document_matches_the_generator(web, document):
    with web[0].app_context():
        assert build_spec(web[0]) == document


def test_document_needs_a_signed_in_user(web):
    assert web[0].test_client().get("/api/v1/openapi.json").status_code == 401


@pytest.mark.parametrize(("method", "path", "schema"), [
    ("post", "/api/v1/depots/{code}/movements", "MovementIn"),
    ("patch", "/api/v1/shelters/{code}", "ShelterPatchIn"),
    ("put", "/api/v1/needs/profiles/{code}", "ProfileIn"),
    ("put", "/api/v1/shelters/safety-rules", "SafetyRulesIn"),
    ("post", "/api/v1/reports", "ReportIn"),
    ("post", "/api/v1/events", "EventIn"),
])
def test_request_bodies_are_the_declared_schemas(document, method, path, schema):
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    assert document["components"]["schemas"][schema]["properties"]


def test_every_operation_documents_its_success_response_schema(document):
    missing = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            ok = [r for status, r in op["responses"].items() if status.startswith("2")]
            if not any(r.get("content") for r in ok):
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


def test_report_figures_are_bounded_in_the_document(document):
    report = document["components"]["schemas"]["ReportIn"]["properties"]
    assert report["affected_people"]["maximum"] < 2**31
    assert report["direct_loss_10k_yuan"]["maximum"] < 1e300
    assert report["notes"]["maxLength"] == 4000
