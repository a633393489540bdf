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
