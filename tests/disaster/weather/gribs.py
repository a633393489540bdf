"""Writing GRIB2 files with GDAL for tests and the benchmark (one message per field).

Each message is written through rasterio's GRIB driver from an in-memory GeoTIFF with the
identification (``IDS``) and product definition (``PDS_PDTN``,
``PDS_TEMPLATE_ASSEMBLED_VALUES``) creation options, then messages are concatenated into
one file as a model run's file holds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.shutil import copy

ECMWF_TP = (98, 1, 193)   # centre, category, number: tp in metres
CMA_APCP = (38, 1, 8)     # Beijing (CMA) APCP, kg m-2


@dataclass
class Field:
    """One GRIB message: ``values`` (rows north to south unless the transform says not)."""

    values: np.ndarray
    run: dt.datetime
    end_hours: int
    start_hours: int = 0          # accumulations: the interval's start (0 = since the run)
    param: tuple[int, int, int] = ECMWF_TP
    member: int | None = None
    members: int = 51
    process: int = 2              # code table 4.3: 2 forecast, 0 analysis
    accumulated: bool = True


def _pds(f: Field) -> tuple[int, str]:
    _centre, cat, num = f.param
    head = [cat, num, f.process, 0, 0, 0, 0, 1, f.start_hours if f.accumulated else f.end_hours,
            1, 0, 0, 255, 0, 0]
    ens = [3 if f.member else 0, f.member or 0, f.members] if f.member is not None else []
    if not f.accumulated:
        return (1 if ens else 0), " ".join(map(str, head + ens))
    end = f.run + dt.timedelta(hours=f.end_hours)
    stat = [end.year, end.month, end.day, end.hour, 0, 0, 1, 0, 1, 2, 1,
            f.end_hours - f.start_hours, 1, 0]
    return (11 if ens else 8), " ".join(map(str, head + ens + stat))


def write_grib(path: Path, fields: list[Field], transform: tuple, crs: str = "EPSG:4326",
               packing: dict | None = None) -> Path:
    """Write ``fields`` as one GRIB2 file (default IEEE floats: values round-trip exactly;
    ``packing`` e.g. ``{"DATA_ENCODING": "SIMPLE_PACKING", "NBITS": 16}`` as models send)."""
    packing = packing or {"DATA_ENCODING": "IEEE_FLOATING_POINT"}
    chunks = []
    for f in fields:
        h, w = f.values.shape
        pdtn, pds = _pds(f)
        ids = (f"CENTER={f.param[0]} SUBCENTER=0 MASTER_TABLE=2 SIGNF_REF_TIME=1 "
               f"REF_TIME={f.run:%Y-%m-%dT%H:%M:%SZ} PROD_STATUS=0 "
               f"TYPE={0 if f.process == 0 else (4 if f.member is not None else 1)}")
        with MemoryFile() as mem:
            with mem.open(driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs,
                          transform=Affine(*transform[:6])) as ds:
                ds.write(f.values.astype(np.float32), 1)
            tmp = path.with_name(f".{path.name}.part.grb2")
            copy(mem.name, str(tmp), driver="GRIB", IDS=ids, PDS_PDTN=pdtn,
                 PDS_TEMPLATE_ASSEMBLED_VALUES=pds, **packing)
            chunks.append(tmp.read_bytes())
            tmp.unlink()
    path.write_bytes(b"".join(chunks))
    return path
