"""The OpenAPI 3 document of every ``/api/v1`` route, generated from the code (apispec).

Each view's docstring may end in a part after a line ``---`` holding apispec YAML (``get:``,
``post:``… with summary, parameters, responses). A route without it is still listed, with
its first docstring line as summary, so the document is complete by construction.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring, load_yaml_from_docstring
from flask import Flask, current_app, jsonify
from pydantic import TypeAdapter

from web.api.common import api_blueprint, api_doc

bp = api_blueprint("openapi")

API_PREFIX = "/api/v1"
_METHODS = ("get", "post", "put", "patch", "delete")
_CONVERTERS = {"int": "integer", "float": "number", "path": "string", "string": "string",
               "default": "string", "uuid": "string", "any": "string"}
_ERROR = {"$ref": "#/components/schemas/Error"}


_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _openapi_path(rule: str) -> str:
    """``/depots/<code>/stock`` → ``/depots/{code}/stock``."""
    return _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule)


def _path_parameters(rule: Any) -> list[dict[str, Any]]:
    out = []
    for match in _PARAM.finditer(rule.rule):
        kind = _CONVERTERS.get(match.group("conv") or "default", "string")
        out.append({"name": match.group("name"), "in": "path", "required": True,
                    "schema": {"type": kind}})
    return out


def _summary(doc: str | None) -> str:
    first = (doc or "").strip().splitlines()
    return first[0].strip() if first else ""


_REF = "#/components/schemas/{model}"


def openapi30(schema: Any) -> Any:
    """pydantic's JSON Schema (2020-12) in the OpenAPI 3.0 dialect.

    ``anyOf [X, null]`` becomes ``X`` with ``nullable``, ``const`` an ``enum`` of one,
    numeric ``exclusiveMinimum``/``exclusiveMaximum`` the 3.0 boolean form, ``prefixItems``
    (tuples) plain ``items``.
    """
    if isinstance(schema, list):
        return [openapi30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: openapi30(v) for k, v in schema.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        null = {"nullable": True}  # {"type": "null"} once converted below
        if isinstance(options, list) and null in options:
            rest = [o for o in options if o != null]
            del out[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out, "nullable": True}
            elif len(rest) == 1:
                out = {**out, "allOf": rest, "nullable": True}
            else:
                out = {**out, key: rest, "nullable": True}
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out.pop(bound)
            out[bound] = True
    if "prefixItems" in out:
        items = out.pop("prefixItems")
        out.setdefault("items", {"anyOf": items} if len({str(i) for i in items}) > 1
                       else items[0])
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}]
    return out


def _json_schema(kind: Any, schemas: dict[str, Any], mode: str) -> dict[str, Any]:
    """The JSON schema of a pydantic model or type; its definitions go to ``schemas``."""
    out = TypeAdapter(kind).json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    out = openapi30(out)
    for name, definition in out.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    title = out.get("title")
    if out.get("type") == "object" and isinstance(title, str) and title.isidentifier():
        schemas.setdefault(title, out)
        return {"$ref": _REF.format(model=title)}
    return out


def _apply_doc(op: dict[str, Any], doc: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Request body, query parameters and responses declared with ``web.api.common.api_doc``."""
    if doc.get("body") is not None:
        # Other content types declared in the docstring (multipart uploads) stay.
        other = dict((op.get("requestBody") or {}).get("content") or {})
        other.pop("application/json", None)
        op["requestBody"] = {"required": doc.get("body_required", True), "content": {
            "application/json": {"schema": _json_schema(doc["body"], schemas, "validation")},
            **other}}
    if doc.get("query") is not None:
        q = openapi30(TypeAdapter(doc["query"]).json_schema(ref_template=_REF,
                                                            mode="validation"))
        for name, definition in q.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        required = set(q.get("required", []))
        params = list(op.get("parameters") or [])
        for name, prop in (q.get("properties") or {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            params.append({"name": name, "in": "query", "required": name in required,
                           "schema": prop})
        op["parameters"] = params
    responses = op["responses"] = {str(k): dict(v) for k, v in
                                   (op.get("responses") or {}).items()}
    ok = str(doc.get("status") or 200)
    entry = responses.setdefault(ok, {"description": "OK"})
    if doc.get("response") is not None:
        entry["content"] = {"application/json": {
            "schema": _json_schema(doc["response"], schemas, "serialization")}}
    if doc.get("body") is not None or doc.get("query") is not None:
        responses.setdefault("422", {"description": "invalid input, each field named"})
    for status, text in (doc.get("responses") or {}).items():
        if isinstance(text, tuple):  # (description, schema) of another success status
            text, kind = text
            responses[str(status)] = {"description": text, "content": {"application/json": {
                "schema": _json_schema(kind, schemas, "serialization")}}}
        else:
            responses.setdefault(str(status), {"description": text})


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document (a dict) of every ``/api/v1`` rule of ``app``."""
    spec = APISpec(title="Disaster early warning and relief API", version="1",
                   openapi_version="3.0.3",
                   info={"description": "JSON API of the disaster early-warning and relief "
                                        "coordination system; spatial collections are GeoJSON."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie",
                                                "name": "session"})
    spec.components.schema("Error", {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message", "fields"],
                                 "properties": {
                                     "code": {"type": "string"}, "message": {"type": "string"},
                                     "fields": {"type": "object", "additionalProperties": {
                                         "type": "array", "items": {"type": "string"}}},
                                     "field_codes": {"type": "object", "additionalProperties": {
                                         "type": "array", "items": {"type": "string"}}}}}}})
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        documented = load_operations_from_docstring(view.__doc__ or "") or {}
        if not documented:
            # YAML written without the method key describes the view's every method.
            plain = load_yaml_from_docstring(view.__doc__ or "") or {}
            documented = {m.lower(): plain for m in rule.methods or ()} if plain else {}
        path = paths.setdefault(_openapi_path(rule.rule), {})
        for method in sorted(m.lower() for m in rule.methods or ()):
            if method not in _METHODS or method in path:
                continue
            op = dict(documented.get(method) or {})
            doc = getattr(view, "_api_doc", None)
            if doc is not None:
                _apply_doc(op, doc, schemas)
            op.setdefault("summary", _summary(view.__doc__) or rule.endpoint)
            op.setdefault("operationId", f"{rule.endpoint}.{method}")
            op.setdefault("tags", [rule.endpoint.split(".")[0].removeprefix("api_")])
            params = list(op.get("parameters") or [])
            named = {(p.get("name"), p.get("in")) for p in params if isinstance(p, dict)}
            params += [p for p in _path_parameters(rule) if (p["name"], "path") not in named]
            if params:
                op["parameters"] = params
            responses = {str(k): v for k, v in (op.get("responses") or {}).items()}
            if not any(k.startswith("2") for k in responses):
                responses["200"] = {"description": "OK"}
            for status, text in (("401", "not signed in"), ("403", "role or scope refused")):
                responses.setdefault(status, {"description": text})
            # Every path parameter may name nothing (or an id beyond int64); any input may
            # break a rule or carry a NUL byte (web.hardening): say so for every operation.
            if "requestBody" in op or any(p.get("in") in ("path", "query")
                                          for p in params if isinstance(p, dict)):
                responses.setdefault("404", {"description": "no such id or code (the "
                                                            "parameter is named)"})
            if params or "requestBody" in op:
                responses.setdefault("422", {"description": "invalid input, each field named"})
            if "requestBody" in op:
                responses.setdefault("400", {"description": "malformed request or CSRF"})
                responses.setdefault("413", {"description": "request body too large"})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": _ERROR}}
            op["responses"] = responses
            path[method] = op
    for name, definition in sorted(schemas.items()):
        spec.components.schema(name, definition)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    out = spec.to_dict()
    out["security"] = [{"bearer": []}, {"session": []}]
    return out


@bp.get("/openapi.json")
@api_doc(response=dict[str, Any])
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3 description of this API.
    ---
    get:
      summary: OpenAPI 3 document of every /api/v1 endpoint
      responses:
        200: {description: the OpenAPI document}
    """
    # The routes are fixed once the app is built: generate the document once (about 50 ms).
    spec = current_app.extensions.get("openapi_spec")
    if spec is None:
        spec = current_app.extensions.setdefault("openapi_spec", build_spec(current_app))
    return jsonify(spec)
