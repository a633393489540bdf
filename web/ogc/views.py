"""OGC API – Features and Tiles routes at ``/ogc`` (JSON, GeoJSON and HTML).

Conformance claimed (each tested in ``tests/web/test_ogc_*``): Features Part 1 core, GeoJSON,
HTML and OpenAPI 3.0; Part 2 CRS by reference (CRS84, EPSG:4326, EPSG:4490); Tiles core,
tileset, tilesets-list, geodata-tilesets and MVT for the communities layer.

Which collections need a signed-in caller (bearer token or browser session) is the
``Settings.ogc_public`` list; protected collections are not listed for anonymous callers and
answer 401 to them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import shapely
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_pgettext
from flask_login import current_user

from gis.errors import AppError
from web.api.geojson import parse_bbox
from web.db import get_session
from web.errors import translate
from web.ogc import collections as oc
from web.ogc import tiles

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")

DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
# CGCS2000 and WGS 84 differ by centimetres (the same realisation of ITRF for a map's
# purposes): EPSG:4490 output is the stored coordinates in EPSG:4490's latitude-first order.
CRS_LAT_FIRST = {EPSG_4326, EPSG_4490}
SUPPORTED_CRS = [CRS84, EPSG_4326, EPSG_4490]
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]
TILED = {"communities"}
GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"
BASE_PARAMS = {"f", "lang", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime"}

# Values shown on the HTML pages by their names, never as stored codes.
VALUE_NAMES = {
    "status": {"standby": lazy_pgettext("ogc", "standby"), "open": lazy_pgettext("ogc", "open"),
               "full": lazy_pgettext("ogc", "full"), "closed": lazy_pgettext("ogc", "closed")},
    "kind": {"emergency": lazy_pgettext("ogc", "emergency"),
             "fixed": lazy_pgettext("ogc", "fixed"), "central": lazy_pgettext("ogc", "central"),
             "flood_prone": lazy_pgettext("ogc", "flood_prone"),
             "waterlogging": lazy_pgettext("ogc", "waterlogging"),
             "landslide": lazy_pgettext("ogc", "landslide"),
             "collapse": lazy_pgettext("ogc", "collapse"),
             "debris_flow": lazy_pgettext("ogc", "debris_flow"),
             "subsidence": lazy_pgettext("ogc", "subsidence"),
             "initial": lazy_pgettext("ogc", "initial"), "update": lazy_pgettext("ogc", "update"),
             "final": lazy_pgettext("ogc", "final")},
    "level": {"blue": lazy_pgettext("ogc", "blue"), "yellow": lazy_pgettext("ogc", "yellow"),
              "orange": lazy_pgettext("ogc", "orange"), "red": lazy_pgettext("ogc", "red"),
              "city": lazy_pgettext("ogc", "city"), "county": lazy_pgettext("ogc", "county"),
              "township": lazy_pgettext("ogc", "township")},
    "hazard": {"rainstorm": lazy_pgettext("ogc", "rainstorm"),
               "snowstorm": lazy_pgettext("ogc", "snowstorm"),
               "cold_wave": lazy_pgettext("ogc", "cold_wave"), "gale": lazy_pgettext("ogc", "gale"),
               "heat": lazy_pgettext("ogc", "heat"), "frost": lazy_pgettext("ogc", "frost"),
               "fog": lazy_pgettext("ogc", "fog"), "typhoon": lazy_pgettext("ogc", "typhoon")},
    True: lazy_pgettext("ogc", "yes"), False: lazy_pgettext("ogc", "no"),
}
VALUE_NAMES["warning_level"] = VALUE_NAMES["level"]
PROPERTY_NAMES = {name: lazy_pgettext("ogc property", name) for name in (
    "code", "name", "kind", "shelter_class", "capacity", "occupancy", "available", "status",
    "safe", "county_code", "township_code", "address", "level", "source", "population",
    "households", "warning_level", "identifier", "sender", "sent", "msgType", "scope",
    "category", "event", "urgency", "severity", "certainty", "effective", "expires", "headline",
    "description", "areaDesc", "hazard", "communities", "references", "id", "community",
    "occurred_at", "submitted_at", "is_latest", "notes", "primary", "primary_name", "backup",
    "backup_name", "covered", "affected_people", "dead", "missing", "evacuated", "needing_aid",
    "direct_loss_10k_yuan", "event_id")}


class OgcError(AppError):
    """A refused OGC request (400 for bad parameters, 401, 404)."""

    status = 400

    def __init__(self, message: str, status: int = 400, code: str = "InvalidParameterValue"):
        super().__init__(message)
        self.status = status
        self.ogc_code = code


@bp.errorhandler(AppError)
def _error(exc: AppError):  # type: ignore[no-untyped-def]
    # OGC exception document (RFC 7807-like {code, description}); bad parameters are 400.
    status = getattr(exc, "status", 400)
    status = 400 if status == 422 else status
    code = getattr(exc, "ogc_code", "InvalidParameterValue")
    response = current_app.response_class(
        json.dumps({"code": code, "description": translate(str(getattr(exc, "message", exc)))},
                   ensure_ascii=False), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ogc"'
    return response


# --- helpers ---------------------------------------------------------------------------------

def _settings_public() -> tuple[str, ...]:
    settings = current_app.config["DISASTER_SETTINGS"]
    return tuple(getattr(settings, "ogc_public", oc.DEFAULT_PUBLIC))


def _registry() -> dict[str, oc.Collection]:
    registry = current_app.extensions.get("ogc_collections")
    if registry is None:
        registry = current_app.extensions.setdefault("ogc_collections", oc.registry())
    return registry


def _visible() -> dict[str, oc.Collection]:
    """The collections the caller may read: all when signed in, else the public ones."""
    if current_user.is_authenticated:
        return _registry()
    public = _settings_public()
    return {cid: c for cid, c in _registry().items() if cid in public}


def _collection(cid: str) -> oc.Collection:
    visible = _visible()
    if cid in visible:
        return visible[cid]
    if cid in _registry():
        raise OgcError(_("This collection needs a signed-in caller or an API token."), 401,
                       "Unauthorized")
    raise OgcError(_("There is no such collection."), 404, "NotFound")


def _html() -> bool:
    f = request.args.get("f")
    if f:
        if f not in ("json", "html", "geojson", "jsonld", "mvt"):
            raise OgcError(_("Unknown format %(f)s: use json or html.", f=f))
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON, "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > \
        request.accept_mimetypes["application/json"]


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _links(endpoint: str, title: str, json_type: str = "application/json",
           **values: Any) -> list[dict[str, str]]:
    """``self`` and ``alternate`` links of a resource in JSON and HTML."""
    html = _html()
    return [{"href": _url(endpoint, **values, f="html" if html else "json"), "rel": "self",
             "type": "text/html" if html else json_type, "title": title},
            {"href": _url(endpoint, **values, f="json" if html else "html"), "rel": "alternate",
             "type": json_type if html else "text/html", "title": title}]


def _json(data: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    return current_app.response_class(json.dumps(data, ensure_ascii=False),
                                      status=status, mimetype=mimetype)


def _parse_crs(name: str, default: str = CRS84) -> str:
    value = request.args.get(name) or default
    value = value.strip("<>")
    if value not in SUPPORTED_CRS:
        raise OgcError(_("%(param)s must be one of the supported CRS: %(crs)s",
                         param=name, crs=", ".join(SUPPORTED_CRS)))
    return value


def _bbox() -> oc.BBox | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    crs = _parse_crs("bbox-crs")
    try:
        parts = [float(v) for v in raw.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 6:  # 3D box: minimum and maximum heights ignored, all data is 2D
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise OgcError(_("bbox must be four numbers: west,south,east,north"))
    if crs in CRS_LAT_FIRST:
        parts = [parts[1], parts[0], parts[3], parts[2]]
    try:
        return parse_bbox(",".join(repr(p) for p in parts))
    except AppError:
        raise OgcError(_("bbox is not a valid box in %(crs)s", crs=crs)) from None


def _instant(text: str) -> dt.datetime | None:
    if text in ("", ".."):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise OgcError(_("datetime must be an RFC 3339 date-time or an interval "
                             "start/end (.. for open)")) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _interval() -> oc.Interval | None:
    raw = request.args.get("datetime")
    if not raw:
        return None
    if "/" in raw:
        start, _sep, end = raw.partition("/")
        low, high = _instant(start), _instant(end)
        if low is not None and high is not None and low > high:
            raise OgcError(_("datetime interval ends before it starts"))
        return low, high
    instant = _instant(raw)
    if instant is None:
        raise OgcError(_("datetime must be an RFC 3339 date-time or an interval "
                         "start/end (.. for open)"))
    return instant, instant


def _int_param(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d+", raw) or int(raw) < minimum:
        raise OgcError(_("%(param)s must be an integer of at least %(min)s", param=name,
                         min=minimum))
    # A limit above the maximum is served as the maximum (OGC API – Features 1.0, 7.15.3).
    return min(int(raw), maximum) if maximum is not None else int(raw)


def _swap_axes(texts: list[str | None]) -> list[str | None]:
    """GeoJSON geometries with x and y exchanged (for latitude-first CRS)."""
    present = [t for t in texts if t is not None]
    if not present:
        return texts
    geoms = shapely.transform(shapely.from_geojson(present), lambda c: c[:, ::-1])
    swapped = iter(shapely.to_geojson(geoms).tolist())
    return [None if t is None else next(swapped) for t in texts]


_SLOT = re.compile(r'"geometry":"@@(\d+)@@"')


def _features_body(document: dict[str, Any], geometries: list[str | None]) -> str:
    """Write ``document``, whose ``"@@n@@"`` geometry slots take the cached texts as-is.

    A slot cannot be forged by stored text: quotes inside strings are escaped, so
    ``"geometry":"`` only ever comes from here (as in :mod:`web.api.geojson`).
    """
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _SLOT.sub(lambda m: '"geometry":' + (geometries[int(m.group(1))] or "null"), body)


def _extent(collection: oc.Collection) -> dict[str, Any]:
    session = get_session()
    bounds = collection.select(session, oc.Query()).bounds()
    extent: dict[str, Any] = {"spatial": {"bbox": [bounds] if bounds else [[-180, -90, 180, 90]],
                                          "crs": CRS84}}
    temporal = collection.temporal_extent(session)
    if temporal is not None:
        extent["temporal"] = {"interval": [temporal],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def _describe(collection: oc.Collection) -> dict[str, Any]:
    cid = collection.id
    links = _links("ogc.collection", str(collection.title), collection_id=cid)
    links += [{"href": _url("ogc.items", collection_id=cid, f="json"), "rel": "items",
               "type": GEOJSON, "title": str(collection.title)},
              {"href": _url("ogc.items", collection_id=cid, f="html"), "rel": "items",
               "type": "text/html", "title": str(collection.title)}]
    if cid in TILED:
        links.append({"href": _url("ogc.tilesets", collection_id=cid),
                      "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                      "type": "application/json", "title": _("Vector tiles")})
    return {"id": cid, "title": str(collection.title), "description": str(collection.description),
            "itemType": "feature", "links": links, "extent": _extent(collection),
            "crs": SUPPORTED_CRS, "storageCrs": CRS84,
            "properties": {name: _schema(kind) for name, kind in collection.properties.items()},
            "queryables": list(collection.queryables), "geometryType": collection.geometry,
            "public": cid in _settings_public()}


def _schema(kind: str) -> dict[str, Any]:
    base, _sep, fmt = kind.partition(":")
    schema: dict[str, Any] = {"type": base}
    if fmt:
        schema["format"] = fmt
    if base == "array":
        schema["items"] = {"type": "string"}
    return schema


def _render(template: str, **context: Any) -> str:
    args = request.args.to_dict() | {"f": "json"}
    json_url = _url(request.endpoint or "ogc.landing", **(request.view_args or {}), **args)
    return render_template(f"ogc/{template}", value_name=_value_name, json_url=json_url,
                           property_name=lambda n: str(PROPERTY_NAMES.get(n, n)), **context)


def _value_name(name: str, value: Any, kind: str = "string") -> str:
    """A property value as a person reads it: names for codes, Beijing time for instants."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(VALUE_NAMES[value])
    if kind == "string:date-time":
        from flask_babel import format_datetime

        return format_datetime(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")),
                               "yyyy-MM-dd HH:mm")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    names = VALUE_NAMES.get(name)
    if isinstance(names, dict) and value in names:
        return str(names[value])
    return str(value)


# --- landing page, conformance, API definition --------------------------------------------------

@bp.get("")
@bp.get("/")
def landing():  # type: ignore[no-untyped-def]
    """Landing page of the service."""
    title = _("Disaster early warning and relief: open geodata")
    description = _("Shelters, hazard zones, warnings, communities and depots as OGC API – "
                    "Features and vector tiles, for QGIS, ArcGIS and GDAL.")
    links = _links("ogc.landing", title)
    links += [{"href": _url("ogc.api"), "rel": "service-desc",
               "type": "application/vnd.oai.openapi+json;version=3.0",
               "title": _("API definition")},
              {"href": _url("ogc.conformance"), "rel": "conformance",
               "type": "application/json", "title": _("Conformance classes")},
              {"href": _url("ogc.collections_list"), "rel": "data",
               "type": "application/json", "title": _("Collections")}]
    if _html():
        return _render("landing.html", title=title, description=description,
                       collections=_visible())
    return _json({"title": title, "description": description, "links": links})


@bp.get("/conformance")
def conformance():  # type: ignore[no-untyped-def]
    """The conformance classes this service implements."""
    if _html():
        return _render("conformance.html", classes=CONFORMANCE)
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/api")
def api():  # type: ignore[no-untyped-def]
    """OpenAPI 3.0 definition of the service."""
    from web.ogc.openapi import definition

    return _json(definition(_url("ogc.landing"), _visible(), DEFAULT_LIMIT, MAX_LIMIT),
                 "application/vnd.oai.openapi+json;version=3.0")


# --- collections ---------------------------------------------------------------------------------

@bp.get("/collections")
def collections_list():  # type: ignore[no-untyped-def]
    """The collections the caller may read."""
    visible = _visible()
    described = [_describe(c) for c in visible.values()]
    if _html():
        return _render("collections.html", collections=described)
    return _json({"links": _links("ogc.collections_list", _("Collections")),
                  "collections": described, "crs": SUPPORTED_CRS})


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):  # type: ignore[no-untyped-def]
    """One collection: title, extent, properties and links to its items (and tiles)."""
    found = _collection(collection_id)
    described = _describe(found)
    if _html():
        return _render("collection.html", collection=described,
                       property_kinds=found.properties)
    return _json(described)


def _query(found: oc.Collection) -> oc.Query:
    unknown = set(request.args) - BASE_PARAMS - set(found.queryables)
    if unknown:
        raise OgcError(_("Unknown query parameter %(name)s; this collection can be filtered "
                         "by %(names)s", name=sorted(unknown)[0],
                         names=", ".join(found.queryables)))
    if request.args.get("datetime") and found.temporal is None:
        raise OgcError(_("This collection has no time to filter by datetime."))
    filters = {k: v for k, v in request.args.items() if k in found.queryables}
    return oc.Query(bbox=_bbox(), filters=filters, interval=_interval())


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):  # type: ignore[no-untyped-def]
    """Features of a collection, filtered by bbox, datetime and properties, one page at a time."""
    found = _collection(collection_id)
    query = _query(found)
    crs = _parse_crs("crs")
    limit = _int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param("offset", 0, 0)
    session = get_session()
    selection = found.select(session, query)
    page = selection.page(session, offset, offset + limit)
    if _html():
        return _render("items.html", collection=found, features=page,
                       matched=selection.matched, offset=offset, limit=limit,
                       next_url=_page_url(offset + limit) if offset + limit < selection.matched
                       else None,
                       prev_url=_page_url(max(0, offset - limit)) if offset else None)
    geometries = [f.geometry for f in page]
    if crs in CRS_LAT_FIRST:
        geometries = _swap_axes(geometries)
    features = [{"type": "Feature", "id": f.fid, "geometry": f"@@{n}@@",
                 "properties": f.properties} for n, f in enumerate(page)]
    links = _links("ogc.items", str(found.title), GEOJSON, collection_id=collection_id,
                   **_kept_args())
    if offset + limit < selection.matched:
        links.append({"href": _page_url(offset + limit, "json"), "rel": "next",
                      "type": GEOJSON, "title": _("Next page")})
    if offset:
        links.append({"href": _page_url(max(0, offset - limit), "json"), "rel": "prev",
                      "type": GEOJSON, "title": _("Previous page")})
    links.append({"href": _url("ogc.collection", collection_id=collection_id, f="json"),
                  "rel": "collection", "type": "application/json", "title": str(found.title)})
    document = {"type": "FeatureCollection", "numberMatched": selection.matched,
                "numberReturned": len(page),
                "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                .replace("+00:00", "Z"), "links": links}
    response = Response(_features_body(document | {"features": features}, geometries),
                        mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{crs}>"
    return response


def _kept_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k not in ("f",)}


def _page_url(offset: int, f: str | None = None) -> str:
    args = _kept_args() | {"offset": str(offset)}
    args["f"] = f or ("html" if _html() else "json")
    return _url("ogc.items", collection_id=request.view_args["collection_id"], **args)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):  # type: ignore[no-untyped-def]
    """One feature by its id (code, alert identifier or report number)."""
    found = _collection(collection_id)
    unknown = set(request.args) - {"f", "lang", "crs"}
    if unknown:
        raise OgcError(_("Unknown query parameter %(name)s", name=sorted(unknown)[0]))
    crs = _parse_crs("crs")
    session = get_session()
    selection = found.select(session, oc.Query(fid=feature_id))
    page = selection.page(session, 0, 1)
    if not page:
        raise OgcError(_("There is no such feature."), 404, "NotFound")
    feature = page[0]
    if _html():
        return _render("item.html", collection=found, feature=feature)
    geometry = feature.geometry
    if crs in CRS_LAT_FIRST:
        geometry = _swap_axes([geometry])[0]
    links = _links("ogc.item", str(found.title), GEOJSON, collection_id=collection_id,
                   feature_id=feature_id)
    links.append({"href": _url("ogc.collection", collection_id=collection_id, f="json"),
                  "rel": "collection", "type": "application/json", "title": str(found.title)})
    body = _features_body({"type": "Feature", "id": feature.fid, "geometry": "@@0@@",
                           "properties": feature.properties, "links": links}, [geometry])
    response = Response(body, mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{crs}>"
    return response


# --- tiles ---------------------------------------------------------------------------------------

def _tiled(collection_id: str) -> oc.Collection:
    found = _collection(collection_id)
    if collection_id not in TILED:
        raise OgcError(_("This collection has no tiles."), 404, "NotFound")
    return found


def _tileset(collection_id: str) -> dict[str, Any]:
    found = _tiled(collection_id)
    template = _url("ogc.tile", collection_id=collection_id, tms="WebMercatorQuad",
                    z=0, row=0, col=0).replace("/0/0/0", "/{tileMatrix}/{tileRow}/{tileCol}")
    return {
        "title": str(found.title), "dataType": "vector", "crs": tiles.CRS_3857,
        "tileMatrixSetURI": tiles.TMS_URI,
        "links": [
            {"href": _url("ogc.tileset", collection_id=collection_id, tms="WebMercatorQuad"),
             "rel": "self", "type": "application/json", "title": str(found.title)},
            {"href": tiles.TMS_URI, "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
             "type": "application/json", "title": "WebMercatorQuad"},
            {"href": _url("ogc.collection", collection_id=collection_id),
             "rel": "http://www.opengis.net/def/rel/ogc/1.0/geodata", "type": "application/json",
             "title": str(found.title)},
            {"href": template, "rel": "item", "type": MVT, "templated": True,
             "title": _("Vector tiles")}],
        "layers": [{"id": collection_id, "dataType": "vector", "geometryDimension": 2,
                    "propertiesSchema": {"type": "object", "properties": {
                        name: _schema(found.properties[name]) for name in (
                            "code", "name", "township_code", "county_code", "population",
                            "warning_level")}}}],
        "tileMatrixSetLimits": [{"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": 2 ** z - 1,
                                 "minTileCol": 0, "maxTileCol": 2 ** z - 1}
                                for z in range(0, tiles.MAX_ZOOM + 1)],
    }


@bp.get("/collections/<collection_id>/tiles")
def tilesets(collection_id: str):  # type: ignore[no-untyped-def]
    """The vector tilesets of a collection (one: WebMercatorQuad)."""
    tileset = _tileset(collection_id)
    summary = {k: tileset[k] for k in ("title", "dataType", "crs", "tileMatrixSetURI")}
    summary["links"] = [tileset["links"][0] | {"rel": "self"}, tileset["links"][1]]
    return _json({"links": [{"href": _url("ogc.tilesets", collection_id=collection_id),
                             "rel": "self", "type": "application/json"}],
                  "tilesets": [summary]})


@bp.get("/collections/<collection_id>/tiles/<tms>")
def tileset(collection_id: str, tms: str):  # type: ignore[no-untyped-def]
    """Metadata of the WebMercatorQuad tileset of a collection."""
    if tms != "WebMercatorQuad":
        raise OgcError(_("Only the WebMercatorQuad tile matrix set is offered."), 404, "NotFound")
    return _json(_tileset(collection_id))


@bp.get("/collections/<collection_id>/tiles/<tms>/<int:z>/<int:row>/<int:col>")
def tile(collection_id: str, tms: str, z: int, row: int, col: int):  # type: ignore[no-untyped-def]
    """One Mapbox Vector Tile: ``{tileMatrix}/{tileRow}/{tileCol}``, i.e. z/y/x."""
    _tiled(collection_id)
    if tms != "WebMercatorQuad":
        raise OgcError(_("Only the WebMercatorQuad tile matrix set is offered."), 404, "NotFound")
    if not tiles.valid_tile(z, col, row):
        raise OgcError(_("There is no such tile."), 404, "NotFound")
    data = tiles.community_tile(get_session(), z, col, row)
    if not data:
        # Tiles core: an empty tile may be answered 204 No Content.
        return Response(status=204)
    response = Response(data, mimetype=MVT)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def lon_lat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Column and row of the WebMercatorQuad tile holding ``lon``/``lat`` at zoom ``z``."""
    n = 2 ** z
    col = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    row = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return col, row
