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
from pyproj import CRS, Transformer
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from gis.errors import CRSError, GisError, ValidationError
from gis.geometry import (
    CHINA_BOUNDS,
    WGS84,
    check_plausible_lonlat,
    gcj02_to_wgs84,
    is_geographic_equivalent,
    parse_crs,
)
from gis.messages import Message, msg

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
    row_errors: dict[str, list[Message | str]] = field(default_factory=dict)
    # Whether the file has locations at all (a geometry column; lon/lat columns in a CSV):
    # a row without one then has an empty location, not an absent one.
    has_location: bool = True
    # The name under which a row's location problems are reported.
    location_field: str = "geometry"


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
    if best is not None and plausible_gbk(data):
        return "gbk"
    raise VectorFileError(
        msg("%(file)s: the text is neither UTF-8 nor plausible GBK Chinese (another encoding "
            "such as Latin-1 would import garbled); save it as UTF-8, or give --encoding gbk "
            "if it really is GBK", file=source),
        fields={"file": [msg("%(file)s: unknown text encoding; give --encoding", file=source)]},
        field_codes={"file": ["encoding"]})


# Share of double-byte characters outside GB2312 above which "GBK" text is implausible.
# Chinese text is almost all GB2312 (place names add a few GBK-only characters such as
# 埇); Latin-1 bytes read as GBK pair an accented letter with the ASCII letter after it,
# which lands in GBK's rarely used extension areas nearly every time.
RARE_GBK_SHARE = 0.5


def plausible_gbk(data: bytes) -> bool:
    """Whether ``data`` reads as Chinese GBK rather than another 8-bit encoding.

    Counts double-byte characters outside GB2312 (GBK/1 symbols and GBK/2 hanzi: lead
    bytes A1–A9 or B0–F7 with trail A1–FE); four-byte GB18030 sequences count as rare.
    """
    total = rare = 0
    i, n = 0, len(data)
    while i < n:
        lead = data[i]
        if lead < 0x80:
            i += 1
            continue
        trail = data[i + 1] if i + 1 < n else 0
        total += 1
        if 0x30 <= trail <= 0x39:  # GB18030 four-byte sequence
            rare += 1
            i += 4
            continue
        if not ((0xA1 <= lead <= 0xA9 or 0xB0 <= lead <= 0xF7) and 0xA1 <= trail <= 0xFE):
            rare += 1
        i += 2
    return total == 0 or rare / total <= RARE_GBK_SHARE


def _decode(data: bytes, encoding: str, source: str) -> str:
    if encoding == "auto":
        encoding = detect_encoding(data, source)
    codec = "utf-8-sig" if encoding == "utf-8" else "gb18030"  # GB18030 is a superset of GBK
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise VectorFileError(msg("%(file)s: not valid %(encoding)s text (byte %(byte)s)",
                                  file=source, encoding=encoding, byte=exc.start),
                              fields={"file": [msg("%(file)s: not %(encoding)s", file=source,
                                                   encoding=encoding)]},
                              field_codes={"file": ["encoding"]}) from None


def _file_error(path: Path, reason: Message | str) -> VectorFileError:
    return VectorFileError(msg("%(file)s: %(problem)s", file=path.name, problem=reason),
                           fields={"file": [reason]}, field_codes={"file": ["file"]})


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
        raise VectorFileError(msg("unknown encoding %(encoding)s; one of %(allowed)s",
                                  encoding=str(encoding)[:40], allowed=", ".join(ENCODINGS)),
                              fields={"encoding": [msg("must be one of %(expected)s",
                                                       expected=", ".join(ENCODINGS))]},
                              field_codes={"encoding": ["choice"]})
    if not path.is_file():
        raise _file_error(path, msg("no such file"))
    limit = max_import_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise _file_error(path, msg("%(size)s bytes is larger than the %(limit)s-byte import "
                                    "limit", size=f"{size:,}", limit=f"{limit:,}"))
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
        raise _file_error(path, msg("unsupported file type %(suffix)s; use .geojson, .gpkg, "
                                    ".shp, .zip (shapefile) or .csv",
                                    suffix=suffix[:20] or "-"))
    frame_crs = data.crs
    declared = _declared_crs(path, frame_crs)
    _refuse_gcj02(path, declared, data.crs, from_gcj02)
    if declared is not None and user_crs is not None and not declared.equals(
            user_crs, ignore_axis_order=True):
        raise CRSError(msg("%(file)s declares %(declared)s but --crs says %(given)s",
                           file=path.name, declared=declared.to_string(),
                           given=user_crs.to_string()),
                       fields={"crs": [msg("conflicts with the file")]},
                       field_codes={"crs": ["crs_mismatch"]})
    source_crs = declared if declared is not None else user_crs
    data.geometries, outside = _to_wgs84(path, data.geometries, source_crs, from_gcj02,
                                         given=declared is None and user_crs is not None,
                                         field=data.location_field)
    for key, messages in outside.items():
        data.row_errors.setdefault(key, []).extend(messages)
    data.crs = "GCJ-02" if from_gcj02 else (source_crs.to_string() if source_crs else None)
    return data


def _parse_user_crs(crs: str | int | CRS | None, from_gcj02: bool) -> CRS | None:
    if from_gcj02:
        # The explicit conversion replaces any CRS: GCJ-02 is lon/lat with an offset.
        if crs is not None and str(crs).strip().lower().replace(" ", "") not in (
                "gcj02", "gcj-02", "gcj_02", "gcj", "epsg:4326", "4326"):
            raise CRSError(msg("--from-gcj02 converts GCJ-02 lon/lat; do not combine it with "
                               "--crs %(crs)s", crs=str(crs)[:80]),
                           fields={"crs": [msg("conflicts with --from-gcj02")]},
                           field_codes={"crs": ["crs_mismatch"]})
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
        raise CRSError(msg("%(file)s: unknown CRS %(crs)s", file=path.name,
                           crs=str(frame_crs)[:80]),
                       fields={"crs": [msg("%(file)s: unknown CRS", file=path.name)]},
                       field_codes={"crs": ["crs_unknown"]}) from None


def _refuse_gcj02(path: Path, declared: CRS | None, raw: Any, from_gcj02: bool) -> None:
    text = f"{raw or ''} {declared.name if declared is not None else ''}".lower()
    if re.search(r"gcj[-_ ]?0?2|gcj", text) and not from_gcj02:
        raise CRSError(msg("%(file)s is in GCJ-02, which is offset by design and not "
                           "accepted; convert it explicitly with --from-gcj02", file=path.name),
                       fields={"crs": [msg("GCJ-02 not accepted without --from-gcj02")]},
                       field_codes={"crs": ["gcj02"]})


def _bounds_text(bounds: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in bounds) + ")"


def _in_china(bounds: np.ndarray) -> np.ndarray:
    """Per geometry: whether its bounds (minx, miny, maxx, maxy) are lon/lat in China."""
    x0, y0, x1, y1 = CHINA_BOUNDS
    return ((bounds[:, 0] >= x0) & (bounds[:, 2] <= x1) & (bounds[:, 1] >= y0)
            & (bounds[:, 3] <= y1))


def _looks_like_metres(bounds: np.ndarray) -> bool:
    return bool(np.nanmax(np.abs(bounds)) > 360.0)


def _to_wgs84(path: Path, geometries: list[BaseGeometry | None], source_crs: CRS | None,
              from_gcj02: bool, *, given: bool = False, field: str = "geometry",
              ) -> tuple[list[BaseGeometry | None], dict[str, list[Message | str]]]:
    """Geometries in EPSG:4326 and the rows whose coordinates are not lon/lat in China.

    When no geometry at all lands in China the CRS is wrong (or missing): that is one
    :class:`CRSError` saying what is wrong; otherwise every row outside China is named.
    ``given``: ``source_crs`` came from ``--crs`` rather than from the file.
    """
    present = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    if not present:
        return geometries, {}
    arr = np.empty(len(present), dtype=object)
    arr[:] = [geometries[i] for i in present]
    raw = shapely.bounds(arr)
    raw_total = shapely.total_bounds(arr)
    where = msg("--crs %(crs)s", crs=source_crs.to_string()) if given and source_crs else (
        msg("the file's CRS %(crs)s", crs=source_crs.to_string()) if source_crs else "")
    if from_gcj02:
        _all_outside(path, raw, raw_total)
        convert = np.vectorize(gcj02_to_wgs84)
        arr = shapely.transform(arr, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
    elif source_crs is None:
        _all_outside(path, raw, raw_total)
    elif is_geographic_equivalent(source_crs):
        if not _in_china(raw).any():
            raise CRSError(
                msg("%(file)s: coordinates %(bounds)s are not lon/lat in China although the "
                    "CRS is %(crs)s; give the right CRS", file=path.name,
                    bounds=_bounds_text(raw_total), crs=source_crs.to_string()),
                fields={"crs": [msg("coordinates do not match the CRS")]},
                field_codes={"crs": ["crs_mismatch"]})
    else:
        if _in_china(raw).all() and not source_crs.is_geographic:
            raise CRSError(
                msg("%(file)s: the coordinates %(bounds)s are longitude/latitude in degrees, "
                    "but %(where)s is a projected CRS in metres; leave --crs out or give "
                    "--crs EPSG:4326 (or EPSG:4490)", file=path.name,
                    bounds=_bounds_text(raw_total), where=where),
                fields={"crs": [msg("the coordinates are degrees, not metres of %(crs)s",
                                    crs=source_crs.to_string())]},
                field_codes={"crs": ["crs_mismatch"]})
        transformer = Transformer.from_crs(source_crs, WGS84, always_xy=True)
        arr = shapely.transform(
            arr, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        converted = shapely.bounds(arr)
        if not _in_china(np.nan_to_num(converted, nan=1e9)).any():
            raise CRSError(
                msg("%(file)s: converted from %(where)s, the coordinates %(bounds)s lie "
                    "outside China; check the CRS", file=path.name, where=where,
                    bounds=_bounds_text(raw_total)),
                fields={"crs": [msg("coordinates do not match the CRS")]},
                field_codes={"crs": ["crs_mismatch"]})
    inside = _in_china(np.nan_to_num(shapely.bounds(arr), nan=1e9))
    row_errors: dict[str, list[Message | str]] = {}
    for k in np.flatnonzero(~inside):
        row_errors[f"row {present[k] + 1}: {field}"] = [
            msg("%(bounds)s is not a plausible longitude/latitude in China",
                bounds=_bounds_text(raw[k]))]
    out = list(geometries)
    for i, geom in zip(present, arr, strict=True):
        out[i] = geom
    return out, row_errors


def _all_outside(path: Path, raw: np.ndarray, total: Sequence[float]) -> None:
    """Refuse lon/lat input (no CRS, or GCJ-02) of which no geometry lies in China."""
    if _in_china(raw).any():
        return
    if _looks_like_metres(raw):
        raise CRSError(
            msg("%(file)s declares no CRS and its coordinates %(bounds)s look like metres of "
                "a projected CRS (such as EPSG:3857 or UTM zone 50N, EPSG:32650), not "
                "longitude/latitude; give that CRS with --crs", file=path.name,
                bounds=_bounds_text(total)),
            fields={"crs": [msg("missing CRS and coordinates are not lon/lat in China")]},
            field_codes={"crs": ["crs_missing"]})
    check_plausible_lonlat(total, path.name)


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
        raise _file_error(path, msg("cannot be read (%(reason)s)", reason=reason[:200])) \
            from None
    geometries: list[BaseGeometry | None] = []
    crs = declared_text
    if "geometry" in frame.columns and hasattr(frame, "geometry"):
        geometries = list(frame.geometry.values)
        if declared_text is None and frame.crs is not None:
            crs = frame.crs
    else:
        geometries = [None] * len(frame)
    return VectorData(path, _frame_rows(frame), geometries, encoding or "utf-8", crs,
                      has_location="geometry" in frame.columns)


def _read_geojson(path: Path, encoding: str) -> VectorData:
    raw = path.read_bytes()
    text = _decode(raw, encoding, path.name)
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        raise _file_error(path, msg("not a GeoJSON object"))
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
        raise _file_error(path, msg("malformed crs member")) from None
    name = (member.get("properties") or {}).get("name")
    if not name:
        raise _file_error(path, msg("crs member without a name"))
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
        raise _file_error(path, msg("not a zip archive")) from None
    with archive:
        names = archive.namelist()
        shps = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
        if len(shps) != 1:
            raise _file_error(path, msg("a zipped shapefile needs exactly one .shp, found "
                                        "%(count)s", count=len(shps)))
        total = sum(i.file_size for i in archive.infolist())
        if total > limit:
            raise _file_error(path, msg("unpacks to %(size)s bytes, above the %(limit)s-byte "
                                        "limit", size=f"{total:,}", limit=f"{limit:,}"))
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
        raise _file_error(path, msg("malformed CSV (%(reason)s)", reason=str(exc)[:200])) \
            from None
    if not header:
        raise _file_error(path, msg("empty CSV file (no header row)"))
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise _file_error(path, msg("duplicate column names in the header"))
    lower = [h.lower() for h in header]
    lon_col = next((header[lower.index(c)] for c in LON_COLUMNS if c in lower), None)
    lat_col = next((header[lower.index(c)] for c in LAT_COLUMNS if c in lower), None)
    if (lon_col is None) != (lat_col is None):
        raise _file_error(path, msg("has a longitude column without latitude or the reverse"))
    rows: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    row_errors: dict[str, list[str]] = {}
    for cells in body:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not data rows
        number = len(rows) + 1
        if len(cells) != len(header):
            row_errors.setdefault(f"row {number}: columns", []).append(
                msg("%(cells)s cells for %(columns)s columns", cells=len(cells),
                    columns=len(header)))
        row = {h: (_unescape_cell(c) if c.strip() else None)
               for h, c in zip(header, cells, strict=False)}
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
                        msg("(%(lon)s, %(lat)s) is not a coordinate pair",
                            lon=str(lon)[:40], lat=str(lat)[:40]))
        rows.append(row)
        geometries.append(geom)
    return VectorData(path, rows, geometries, detected, None, row_errors,
                      has_location=lon_col is not None,
                      location_field=f"{lon_col}/{lat_col}" if lon_col else "geometry")


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
        raise ValidationError(msg("unknown format %(format)s; one of %(allowed)s",
                                  format=str(fmt)[:40], allowed=", ".join(FORMATS)),
                              fields={"format": [msg("must be one of %(expected)s",
                                                     expected=", ".join(FORMATS))]},
                              field_codes={"format": ["choice"]})
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


# Spreadsheets run a cell beginning with these as a formula (CSV injection: a shelter named
# "=HYPERLINK(...)" would become a live link in Excel or WPS); OWASP's advice is a leading '.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: text starting with ``= + - @``, tab
    or CR gets a leading ``'``; numbers (also negative ones, as numbers or as plain numeric
    text) are left as they are."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_LEADS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _unescape_cell(value: str) -> str:
    """A cell as written before :func:`safe_cell` (so an exported CSV imports back unchanged)."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_LEADS):
        return value[1:]
    return value


def _csv_text(rows: Sequence[dict[str, Any]], geometries: Sequence[BaseGeometry | None]) -> str:
    columns = _columns(rows)
    spatial = any(g is not None for g in geometries)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns] + (["lon", "lat"] if spatial else []))
    for row, geom in zip(rows, geometries, strict=True):
        cells = ["" if row.get(c) is None else safe_cell(_cell(_json_value(row.get(c))))
                 for c in columns]
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
