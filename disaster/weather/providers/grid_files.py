"""``grid-files``: hourly single-band GeoTIFFs ``VARIABLE_YYYYMMDDTHHMMZ.tif`` or one NetCDF.

The time in a file name is the END of the hour it covers (UTC). NetCDF files need a CF
time axis (``units = "hours since …"``); each variable named as in CONTRACT.md is read.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from disaster.warnings.rules import VARIABLES
from disaster.weather.batch import Batch, FetchContext, GridItem
from disaster.weather.errors import IngestError
from disaster.weather.grids import GridSpec, read_geotiff, to_float32

NAME = re.compile(r"^(?P<var>[a-z0-9_]+?)_(?P<ts>\d{8}T\d{4})Z\.tiff?$", re.IGNORECASE)
CF_UNITS = re.compile(r"^\s*(?P<unit>seconds|minutes|hours|days)\s+since\s+(?P<ref>.+?)\s*$")


def parse_name(name: str) -> tuple[str, dt.datetime]:
    """Variable and valid time from a file name, or :class:`IngestError` naming the file."""
    m = NAME.match(name)
    if not m:
        raise IngestError(f"{name}: not named VARIABLE_YYYYMMDDTHHMMZ.tif", source=name)
    var = m["var"].lower()
    if var not in VARIABLES:
        raise IngestError(f"{name}: unknown variable {var!r}; one of {', '.join(VARIABLES)}",
                          source=name)
    try:
        when = dt.datetime.strptime(m["ts"], "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
    except ValueError:
        raise IngestError(f"{name}: invalid time {m['ts']!r}", source=name) from None
    if when.minute:
        raise IngestError(f"{name}: hourly grids must end on the hour", source=name)
    return var, when


class GridFilesProvider:
    name = "grid-files"

    def fetch(self, source: str, ctx: FetchContext) -> Batch:
        path = Path(source)
        batch = Batch(source=str(path))
        if not path.exists():
            batch.errors.append(IngestError(f"{path}: no such file or folder", source=str(path)))
            return batch
        if path.is_file():
            if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
                self._netcdf(path, batch)
            else:
                self._tiff(path, batch)
            return batch
        for item in sorted(path.iterdir()):
            if item.suffix.lower() in (".tif", ".tiff"):
                self._tiff(item, batch)
            elif item.suffix.lower() in (".nc", ".nc4"):
                self._netcdf(item, batch)
        return batch

    def _tiff(self, path: Path, batch: Batch) -> None:
        try:
            var, when = parse_name(path.name)
            spec, values = read_geotiff(path)
        except IngestError as exc:
            exc.source = str(path)
            batch.errors.append(exc)
            return
        batch.grids.append(GridItem(var, when, spec, values, str(path)))

    def _netcdf(self, path: Path, batch: Batch) -> None:
        try:
            with rasterio.open(path) as top:
                subs = list(top.subdatasets)
                if not subs:  # one variable: GDAL opens it directly
                    subs = [str(path)]
            found = False
            for sub in subs:
                with rasterio.open(sub) as probe:
                    var = probe.tags(1).get("NETCDF_VARNAME", "") if probe.count else ""
                if var not in VARIABLES:
                    continue
                found = True
                self._netcdf_var(path, sub, var, batch)
            if not found:
                raise IngestError(f"{path.name}: no variable named one of {', '.join(VARIABLES)}",
                                  source=str(path))
        except IngestError as exc:
            exc.source = str(path)
            batch.errors.append(exc)
        except (RasterioError, OSError) as exc:
            batch.errors.append(IngestError(f"{path.name}: cannot read NetCDF ({exc})",
                                            source=str(path)))

    def _netcdf_var(self, path: Path, sub: str, var: str, batch: Batch) -> None:
        with rasterio.open(sub) as ds:
            tags = ds.tags()
            units = tags.get("time#units")
            if not units:
                raise IngestError(f"{path.name}:{var}: no CF time axis (time#units)",
                                  source=str(path))
            m = CF_UNITS.match(units)
            if not m:
                raise IngestError(f"{path.name}:{var}: unsupported time units {units!r}",
                                  source=str(path))
            ref = _parse_ref(m["ref"], path)
            step = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[m["unit"]]
            crs = ds.crs.to_wkt() if ds.crs else "EPSG:4326"  # CF lat/lon grids carry no CRS
            transform = tuple(ds.transform)[:6]
            # GDAL returns north-up grids for NetCDF with ascending latitude.
            spec = GridSpec(crs, transform, ds.width, ds.height)
            for band in range(1, ds.count + 1):
                btags = ds.tags(band)
                value = btags.get("NETCDF_DIM_time")
                if value is None:
                    raise IngestError(f"{path.name}:{var}: band {band} has no time value",
                                      source=str(path))
                when = ref + dt.timedelta(seconds=float(value) * step)
                arr = ds.read(band, masked=True)
                batch.grids.append(GridItem(var, when, spec, to_float32(arr),
                                            f"{path}#{var}@{when:%Y%m%dT%H%MZ}"))


def _parse_ref(text: str, path: Path) -> dt.datetime:
    text = text.strip().replace("T", " ").rstrip("Z").strip()
    text = re.sub(r"\s*(UTC|GMT|\+00:?00)$", "", text)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise IngestError(f"{path.name}: cannot parse CF reference time {text!r}", source=str(path))


def write_geotiff(path: Path, values: np.ndarray, transform: tuple[float, ...],
                  crs: str = "EPSG:4326", nodata: float | None = None) -> Path:
    """Write one band (tests, the scenario and benchmarks use it)."""
    from affine import Affine

    h, w = values.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1,
                       dtype="float32", crs=crs, transform=Affine(*transform[:6]),
                       nodata=nodata) as ds:
        ds.write(values.astype(np.float32), 1)
    return path
