"""Reading and writing vector files: GeoJSON, GeoPackage, Shapefile (.shp or .zip) and CSV.

Reading returns plain rows (feature properties, in file order) and shapely geometries in
EPSG:4326. Text is UTF-8 or GBK (detected, or given); the CRS is the file's own, or the one
given when the file declares none; CGCS2000 is taken as is, other CRSs are transformed, and
coordinates that are not plausible lon/lat in China are refused. GCJ-02 is refused unless the
caller explicitly converts it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from charset_normalizer import from_bytes
from pyproj import CRS
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from gis.errors import CRSError, GisError, ValidationError
from gis.geometry import (
    check_plausible_lonlat,
    gcj02_to_wgs84,
    is_geographic_equivalent,
    parse_crs,
    to_wgs84,
)

# Files above this size are refused before reading (override with DISASTER_IMPORT_MAX_BYTES).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
ENCODINGS = ("auto", "utf-8", "gbk")
FORMATS = ("geojson", "csv", "gpkg", "json")
LON_COLUMNS = ("lon", "lng", "longitude", "经度")
LAT_COLUMNS = ("lat", "latitude", "纬度")


class VectorFileError(GisError, ValidationError):
    """A file that cannot be read as the vector data it claims to be; names the file."""


@dataclass
class VectorData:
    """What a vector file holds: rows of properties and their geometries in EPSG:4326."""

    path: Path
    rows: list[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    encoding: str
    crs: str | None
    # Problems of single rows found while reading ("row N: lon" → reasons).
    row_errors: dict[str, list[str]] = field(default_factory=dict)


def max_import_bytes() -> int:
    """The size limit for imported files, from ``DISASTER_IMPORT_MAX_BYTES`` if set."""
    from gis.settings import environment

    return environment().import_max_bytes or DEFAULT_MAX_BYTES


def detect_encoding(data: bytes, source: str = "input") -> str:
    """``utf-8`` or ``gbk`` for a file's text bytes.

    Valid UTF-8 is taken as UTF-8 (GBK text of any length is almost never valid UTF-8);
    otherwise charset-normalizer must judge it to be GBK/GB18030 Chinese.
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "gb2312"]).best()
    if best is not None:
        return "gbk"
    raise VectorFileError(f"{source}: text is neither UTF-8 nor GBK; give --encoding",
                          fields={"file": [f"{source}: unknown text encoding"]})


def _decode(data: bytes, encoding: str, source: str) -> str:
    if encoding == "auto":
        encoding = detect_encoding(data, source)
    codec = "utf-8-sig" if encoding == "utf-8" else "gb18030"  # GB18030 is a superset of GBK
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise VectorFileError(f"{source}: not valid {encoding} text (byte {exc.start})",
                              fields={"file": [f"{source}: not {encoding}"]}) from None


def _file_error(path: Path, reason: str) -> VectorFileError:
    return VectorFileError(f"{path.name}: {reason}", fields={"file": [path.name]})


def read_vector(path: str | os.PathLike[str], *, encoding: str = "auto",
                crs: str | int | CRS | None = None, from_gcj02: bool = False,
                max_bytes: int | None = None, layer: str | None = None) -> VectorData:
    """Read a GeoJSON, GeoPackage, Shapefile (``.shp`` or ``.zip``) or CSV file.

    Parameters
    ----------
    encoding
        ``auto`` (detect UTF-8 or GBK), ``utf-8`` or ``gbk``. GeoPackage is always UTF-8.
    crs
        CRS of coordinates when the file declares none (CSV, a shapefile without .prj,
        GeoJSON without a ``crs`` member). A different declared CRS is an error.
    from_gcj02
        Treat the coordinates as GCJ-02 lon/lat and convert them to WGS 84.
    max_bytes
        Refuse larger files (default :func:`max_import_bytes`).

    Raises
    ------
    VectorFileError
        Missing, oversized, malformed or unreadable file (the message names it).
    CRSError
        Unknown or GCJ-02 CRS, or coordinates that are not lon/lat in China.
    """
    path = Path(path)
    if encoding not in ENCODINGS:
        raise VectorFileError(f"unknown encoding {encoding!r}; one of {', '.join(ENCODINGS)}",
                              fields={"encoding": [f"one of {', '.join(ENCODINGS)}"]})
    if not path.is_file():
        raise _file_error(path, "no such file")
    limit = max_import_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise _file_error(path, f"{size:,} bytes is larger than the {limit:,}-byte import limit")
    user_crs = _parse_user_crs(crs, from_gcj02)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        data = _read_csv(path, encoding)
    elif suffix in (".geojson", ".json"):
        data = _read_geojson(path, encoding)
    elif suffix == ".gpkg":
        data = _read_ogr(path, path, None, "utf-8", layer)
    elif suffix == ".shp":
        data = _read_shapefile(path, encoding)
    elif suffix == ".zip":
        data = _read_zip(path, encoding, limit)
    else:
        raise _file_error(path, f"unsupported file type {suffix or '(none)'}; use .geojson, "
                                ".gpkg, .shp, .zip (shapefile) or .csv")
    frame_crs = data.crs
    declared = _declared_crs(path, frame_crs)
    _refuse_gcj02(path, declared, data.crs, from_gcj02)
    if declared is not None and user_crs is not None and not declared.equals(
            user_crs, ignore_axis_order=True):
        raise CRSError(f"{path.name} declares {declared.to_string()} but --crs says "
                       f"{user_crs.to_string()}", fields={"crs": ["conflicts with the file"]})
    source_crs = declared if declared is not None else user_crs
    data.geometries = _to_wgs84(path, data.geometries, source_crs, from_gcj02)
    data.crs = "GCJ-02" if from_gcj02 else (source_crs.to_string() if source_crs else None)
    return data


def _parse_user_crs(crs: str | int | CRS | None, from_gcj02: bool) -> CRS | None:
    if from_gcj02:
        # The explicit conversion replaces any CRS: GCJ-02 is lon/lat with an offset.
        if crs is not None and str(crs).strip().lower().replace(" ", "") not in (
                "gcj02", "gcj-02", "gcj_02", "gcj", "epsg:4326", "4326"):
            raise CRSError("--from-gcj02 converts GCJ-02 lon/lat; do not combine it with "
                           f"--crs {crs}", fields={"crs": ["conflicts with --from-gcj02"]})
        return None
    return parse_crs(crs)


def _declared_crs(path: Path, frame_crs: Any) -> CRS | None:
    if frame_crs is None or frame_crs == "":
        return None
    if isinstance(frame_crs, CRS):
        return frame_crs
    try:
        return CRS.from_user_input(frame_crs)
    except Exception:  # noqa: BLE001 - a CRS text pyproj cannot read
        if "gcj" in str(frame_crs).lower():
            return None
        raise CRSError(f"{path.name}: unknown CRS {str(frame_crs)[:80]!r}",
                       fields={"crs": [f"{path.name}: unknown CRS"]}) from None


def _refuse_gcj02(path: Path, declared: CRS | None, raw: Any, from_gcj02: bool) -> None:
    text = f"{raw or ''} {declared.name if declared is not None else ''}".lower()
    if re.search(r"gcj[-_ ]?0?2|gcj", text) and not from_gcj02:
        raise CRSError(f"{path.name} is in GCJ-02, which is offset by design and not accepted; "
                       "convert it explicitly with --from-gcj02",
                       fields={"crs": ["GCJ-02 not accepted without --from-gcj02"]})


def _to_wgs84(path: Path, geometries: list[BaseGeometry | None], source_crs: CRS | None,
              from_gcj02: bool) -> list[BaseGeometry | None]:
    present = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    if not present:
        return geometries
    arr = np.empty(len(present), dtype=object)
    arr[:] = [geometries[i] for i in present]
    if from_gcj02:
        check_plausible_lonlat(shapely.total_bounds(arr), path.name)
        convert = np.vectorize(gcj02_to_wgs84)
        arr = shapely.transform(arr, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
    else:
        arr = to_wgs84(arr, source_crs, path.name)
        if source_crs is not None and is_geographic_equivalent(source_crs):
            try:
                check_plausible_lonlat(shapely.total_bounds(arr), path.name)
            except CRSError:
                minx, miny, maxx, maxy = shapely.total_bounds(arr)
                raise CRSError(
                    f"{path.name}: coordinates ({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}) "
                    f"are not lon/lat in China although the CRS is {source_crs.to_string()}; "
                    "give the right CRS", fields={"crs": ["coordinates do not match the CRS"]},
                ) from None
    out = list(geometries)
    for i, geom in zip(present, arr, strict=True):
        out[i] = geom
    return out


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or (not isinstance(value, list | dict | tuple | str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [c for c in frame.columns if c != "geometry"]
    values = frame[columns].to_numpy(dtype=object) if columns else np.empty((len(frame), 0))
    return [{c: _clean(v) for c, v in zip(columns, row, strict=True)} for row in values]


def _read_ogr(path: Path, source: Any, declared_text: Any, encoding: str | None,
              layer: str | None = None) -> VectorData:
    """Read with pyogrio; ``source`` is a path, ``/vsizip/`` path or bytes buffer."""
    kwargs: dict[str, Any] = {}
    if encoding and encoding not in ("utf-8",):
        kwargs["encoding"] = "GB18030" if encoding == "gbk" else encoding
    if layer is not None:
        kwargs["layer"] = layer
    try:
        frame = pyogrio.read_dataframe(source, **kwargs)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "cannot read"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _file_error(path, f"cannot be read ({reason[:200]})") from None
    geometries: list[BaseGeometry | None] = []
    crs = declared_text
    if "geometry" in frame.columns and hasattr(frame, "geometry"):
        geometries = list(frame.geometry.values)
        if declared_text is None and frame.crs is not None:
            crs = frame.crs
    else:
        geometries = [None] * len(frame)
    return VectorData(path, _frame_rows(frame), geometries, encoding or "utf-8", crs)


def _read_geojson(path: Path, encoding: str) -> VectorData:
    raw = path.read_bytes()
    text = _decode(raw, encoding, path.name)
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        raise _file_error(path, "not a GeoJSON object")
    # GDAL reports EPSG:4326 whether or not the file says so; only an explicit ``crs``
    # member counts as declared (RFC 7946 files have none and are lon/lat by definition).
    declared = _geojson_crs(path, text)
    data = _read_ogr(path, io.BytesIO(text.encode("utf-8")), None, "utf-8")
    data.encoding = "utf-8" if encoding == "auto" and _is_utf8(raw) else (
        encoding if encoding != "auto" else "gbk")
    data.crs = declared
    return data


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _geojson_crs(path: Path, text: str) -> str | None:
    match = re.search(r'"crs"\s*:\s*(\{(?:[^{}]|\{[^{}]*\})*\})', text)
    if not match:
        return None
    try:
        member = json.loads(match.group(1))
    except json.JSONDecodeError:
        raise _file_error(path, "malformed crs member") from None
    name = (member.get("properties") or {}).get("name")
    if not name:
        raise _file_error(path, "crs member without a name")
    # Old GeoJSON names such as urn:ogc:def:crs:OGC:1.3:CRS84 are understood by pyproj.
    return str(name)


def _dbf_encoding(dbf: bytes, source: str) -> str:
    """Detect the text encoding of a .dbf from its records (the header is binary)."""
    if len(dbf) < 32:
        return "utf-8"
    header_len = struct.unpack("<H", dbf[8:10])[0]
    return detect_encoding(dbf[header_len:].rstrip(b"\x1a"), source)


def _read_shapefile(path: Path, encoding: str) -> VectorData:
    dbf = next((p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".dbf"),
               None)
    cpg = next((p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() == ".cpg"),
               None)
    if encoding == "auto":
        if cpg is not None:
            encoding = "gbk" if "gb" in cpg.read_text(errors="replace").lower() else "utf-8"
        elif dbf is not None:
            encoding = _dbf_encoding(dbf.read_bytes(), dbf.name)
        else:
            encoding = "utf-8"
    return _read_ogr(path, str(path), None, encoding)


def _read_zip(path: Path, encoding: str, limit: int) -> VectorData:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _file_error(path, "not a zip archive") from None
    with archive:
        names = archive.namelist()
        shps = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        if len(shps) != 1:
            raise _file_error(path, f"a zipped shapefile needs exactly one .shp, found {len(shps)}")
        total = sum(i.file_size for i in archive.infolist())
        if total > limit:
            raise _file_error(path, f"unpacks to {total:,} bytes, above the {limit:,}-byte limit")
        stem = shps[0][:-4]
        if encoding == "auto":
            cpg = next((n for n in names if n.lower() == (stem + ".cpg").lower()), None)
            dbf = next((n for n in names if n.lower() == (stem + ".dbf").lower()), None)
            if cpg is not None:
                encoding = ("gbk" if "gb" in archive.read(cpg).decode("ascii", "replace").lower()
                            else "utf-8")
            elif dbf is not None:
                encoding = _dbf_encoding(archive.read(dbf), f"{path.name}/{dbf}")
            else:
                encoding = "utf-8"
    return _read_ogr(path, f"/vsizip/{path.resolve()}/{shps[0]}", None, encoding)


def _read_csv(path: Path, encoding: str) -> VectorData:
    raw = path.read_bytes()
    detected = detect_encoding(raw, path.name) if encoding == "auto" else encoding
    text = _decode(raw, detected, path.name)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        body = list(reader)
    except csv.Error as exc:
        raise _file_error(path, f"malformed CSV ({exc})") from None
    if not header:
        raise _file_error(path, "empty CSV file (no header row)")
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise _file_error(path, "duplicate column names in the header")
    lower = [h.lower() for h in header]
    lon_col = next((header[lower.index(c)] for c in LON_COLUMNS if c in lower), None)
    lat_col = next((header[lower.index(c)] for c in LAT_COLUMNS if c in lower), None)
    if (lon_col is None) != (lat_col is None):
        raise _file_error(path, "has a longitude column without latitude or the reverse")
    rows: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    row_errors: dict[str, list[str]] = {}
    for cells in body:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not data rows
        number = len(rows) + 1
        if len(cells) != len(header):
            row_errors.setdefault(f"row {number}: columns", []).append(
                f"{len(cells)} cells for {len(header)} columns")
        row = {h: (c if c.strip() else None) for h, c in zip(header, cells, strict=False)}
        geom = None
        if lon_col is not None:
            lon, lat = row.pop(lon_col, None), row.pop(lat_col, None)
            if lon is None and lat is None:
                pass
            else:
                try:
                    x, y = float(str(lon)), float(str(lat))
                    if not (math.isfinite(x) and math.isfinite(y)):
                        raise ValueError
                    geom = Point(x, y)
                except ValueError:
                    row_errors.setdefault(f"row {number}: {lon_col}/{lat_col}", []).append(
                        f"({lon!r}, {lat!r}) is not a coordinate pair")
        rows.append(row)
        geometries.append(geom)
    return VectorData(path, rows, geometries, detected, None, row_errors)


# --- writing -----------------------------------------------------------------------------

def representative_lonlat(geom: BaseGeometry | None) -> tuple[float | None, float | None]:
    """lon/lat of a point, or of a polygon's representative point (always inside it)."""
    if geom is None or geom.is_empty:
        return None, None
    pt = geom if isinstance(geom, Point) else geom.representative_point()
    return pt.x, pt.y  # full precision: a CSV round trip must not move points


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "value", value)


def write_vector(target: str | os.PathLike[str] | IO[bytes], fmt: str,
                 rows: Sequence[dict[str, Any]], geometries: Sequence[BaseGeometry | None],
                 *, layer: str = "data", encoding: str = "utf-8",
                 points: Sequence[BaseGeometry | None] | None = None) -> None:
    """Write rows and EPSG:4326 geometries as GeoJSON, CSV, GeoPackage or JSON.

    ``target`` is a path or a binary stream. CSV and JSON carry ``lon``/``lat`` of ``points``
    when given (e.g. communities' stored points), else of points or representative points;
    GeoJSON follows RFC 7946 (lon/lat, no ``crs`` member).
    """
    located = list(points) if points is not None else list(geometries)
    located = [p if p is not None else g for p, g in zip(located, geometries, strict=True)]
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}",
                              fields={"format": [f"one of {', '.join(FORMATS)}"]})
    codec = "gb18030" if encoding == "gbk" else "utf-8"
    if fmt == "gpkg":
        payload = _gpkg_bytes(rows, geometries, layer)
    elif fmt == "geojson":
        features = [{"type": "Feature",
                     "properties": {k: _json_value(v) for k, v in row.items()},
                     "geometry": mapping(g) if g is not None else None}
                    for row, g in zip(rows, geometries, strict=True)]
        payload = json.dumps({"type": "FeatureCollection", "features": features},
                             ensure_ascii=False).encode(codec)
    elif fmt == "json":
        records = [{k: _json_value(v) for k, v in row.items()} | _lonlat(g)
                   for row, g in zip(rows, located, strict=True)]
        payload = json.dumps(records, ensure_ascii=False, indent=1).encode(codec)
    else:
        payload = _csv_text(rows, located).encode(codec)
    if hasattr(target, "write"):
        target.write(payload)  # type: ignore[union-attr]
    else:
        Path(target).write_bytes(payload)


def _lonlat(geom: BaseGeometry | None) -> dict[str, Any]:
    if geom is None:
        return {}
    lon, lat = representative_lonlat(geom)
    return {"lon": lon, "lat": lat}


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "value"):
        return value.value
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int | float):
        return float(value)  # Decimal
    return value


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def _csv_text(rows: Sequence[dict[str, Any]], geometries: Sequence[BaseGeometry | None]) -> str:
    columns = _columns(rows)
    spatial = any(g is not None for g in geometries)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns + (["lon", "lat"] if spatial else []))
    for row, geom in zip(rows, geometries, strict=True):
        cells = ["" if row.get(c) is None else _cell(_json_value(row.get(c))) for c in columns]
        if spatial:
            lon, lat = representative_lonlat(geom)
            cells += ["" if lon is None else repr(lon), "" if lat is None else repr(lat)]
        writer.writerow(cells)
    return out.getvalue()


def _gpkg_bytes(rows: Sequence[dict[str, Any]], geometries: Sequence[BaseGeometry | None],
                layer: str) -> bytes:
    import geopandas as gpd

    columns = _columns(rows)
    frame = pd.DataFrame([{c: _cell(_json_value(row.get(c))) for c in columns} for row in rows],
                         columns=columns)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{layer}.gpkg"
        if any(g is not None for g in geometries):
            gdf = gpd.GeoDataFrame(frame, geometry=list(geometries), crs="EPSG:4326")
            pyogrio.write_dataframe(gdf, out, layer=layer, driver="GPKG")
        else:
            pyogrio.write_dataframe(frame, out, layer=layer, driver="GPKG")
        return out.read_bytes()
