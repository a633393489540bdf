"""The OpenAPI 3.0 definition of ``/ogc`` (OGC API – Features 1.0, conformance class oas30).

Clients read it for the paging limits: GDAL's OAPIF driver, for one, takes the ``limit``
parameter's maximum as its page size.
"""

from __future__ import annotations

from typing import Any

from web.ogc.collections import Collection


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query",
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema, "style": "form", "explode": False} if where == "query" else {
        "name": name, "in": where, "required": True, "description": description,
        "schema": schema}


def _response(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


def definition(base_url: str, collections: dict[str, Collection], default_limit: int,
               max_limit: int) -> dict[str, Any]:
    """The OpenAPI document for the collections the caller may see."""
    crs = {"type": "string", "format": "uri"}
    common = [
        _param("limit", "Number of features per page", {"type": "integer", "minimum": 1,
                                                          "maximum": max_limit,
                                                          "default": default_limit}),
        _param("offset", "Index of the first feature of the page (from the next link)",
               {"type": "integer", "minimum": 0, "default": 0}),
        _param("bbox", "west,south,east,north (in bbox-crs)",
               {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        _param("bbox-crs", "CRS of bbox", crs),
        _param("crs", "CRS of the geometries returned", crs),
        _param("f", "Format", {"type": "string", "enum": ["json", "html"]}),
    ]
    errors = {"400": _response("Bad parameter"), "401": _response("Needs a token"),
              "404": _response("Not found")}
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "responses": {"200": _response("Landing page")}}},
        "/conformance": {"get": {"summary": "Conformance classes",
                                 "operationId": "getConformanceDeclaration",
                                 "responses": {"200": _response("Conformance classes")}}},
        "/api": {"get": {"summary": "This document", "operationId": "getApi",
                         "responses": {"200": _response("OpenAPI 3.0")}}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "responses": {"200": _response("Collections")}}},
    }
    for cid, collection in collections.items():
        params = list(common)
        if collection.temporal is not None:
            params.append(_param("datetime", "RFC 3339 instant or interval (.. open)",
                                 {"type": "string"}))
        params += [_param(name, f"Only features whose {name} equals this value",
                          {"type": "string"}) for name in collection.queryables]
        paths[f"/collections/{cid}"] = {"get": {
            "summary": str(collection.title), "operationId": f"describe-{cid}",
            "responses": {"200": _response("Collection"), **errors}}}
        paths[f"/collections/{cid}/items"] = {"get": {
            "summary": f"Features of {cid}", "operationId": f"items-{cid}",
            "parameters": params,
            "responses": {"200": _response("Features", "application/geo+json"), **errors}}}
        paths[f"/collections/{cid}/items/{{featureId}}"] = {"get": {
            "summary": f"One feature of {cid}", "operationId": f"item-{cid}",
            "parameters": [_param("featureId", "Feature id", {"type": "string"}, "path"),
                           _param("crs", "CRS of the geometry returned", crs)],
            "responses": {"200": _response("Feature", "application/geo+json"), **errors}}}
    return {"openapi": "3.0.3",
            "info": {"title": "Disaster early warning and relief – OGC API", "version": "1.0.0"},
            "servers": [{"url": base_url.rstrip("/")}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "paths": paths}
