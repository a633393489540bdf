"""Grid geometry, raster reading and compact storage of hourly grids.

Values are kept as float32 with NaN where the source had nodata or NaN, so that nodata is
never mistaken for zero or for a huge value (CONTRACT.md, grid-files).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from disaster.weather.errors import IngestError


@dataclass(frozen=True)
class GridSpec:
    """Where the cells of a grid are: a raster (CRS, affine transform, size) or points.

    For point providers ``codes`` lists the community code of each cell and the raster
    fields are unused.
    """

    crs: str | None
    transform: tuple[float, ...] | None
    width: int
    height: int
    codes: tuple[str, ...] | None = None

    @property
    def key(self) -> str:
        """Stable identity of the geometry: label rasters are cached under it."""
        h = hashlib.sha256()
        if self.codes is not None:
            h.update(b"points\0" + "\0".join(self.codes).encode())
        else:
            h.update(f"{self.crs}|{[round(v, 10) for v in self.transform or ()]}|"
                     f"{self.width}x{self.height}".encode())
        return h.hexdigest()[:40]

    @property
    def size(self) -> int:
        return self.width * self.height

    @property
    def affine(self) -> Affine:
        assert self.transform is not None
        return Affine(*self.transform[:6])


def read_geotiff(path: Path) -> tuple[GridSpec, np.ndarray]:
    """Read band 1 of a GeoTIFF as float32 with NaN for nodata.

    Raises
    ------
    IngestError
        The file is unreadable, truncated, has no CRS or no georeferencing.
    """
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise IngestError(f"{path.name}: the grid has no CRS", source=str(path))
            if ds.transform == Affine.identity():
                raise IngestError(f"{path.name}: the grid has no georeferencing",
                                  source=str(path))
            arr = ds.read(1, masked=True)
            spec = GridSpec(ds.crs.to_wkt(), tuple(ds.transform)[:6], ds.width, ds.height)
    except IngestError:
        raise
    except (RasterioError, OSError, ValueError) as exc:
        raise IngestError(f"{path.name}: cannot read the grid ({exc})".replace("\n", " "),
                          source=str(path)) from exc
    return spec, to_float32(arr)


def to_float32(arr: np.ndarray | np.ma.MaskedArray) -> np.ndarray:
    """Flatten to float32 with NaN where masked or non-finite."""
    data = np.ma.filled(np.ma.asarray(arr).astype(np.float32), np.nan)
    data[~np.isfinite(data)] = np.nan
    return np.ascontiguousarray(data.ravel())


def pack(values: np.ndarray) -> bytes:
    """Compress a float32 vector for storage (decoded once per evaluation and cached)."""
    return zlib.compress(np.ascontiguousarray(values, dtype=np.float32).tobytes(), 1)


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), dtype=np.float32)


def content_hash(values: np.ndarray, spec: GridSpec, variable: str) -> str:
    """Hash of the values and their geometry: re-ingesting the same data is recognised."""
    h = hashlib.sha256()
    h.update(f"{variable}|{spec.key}|".encode())
    h.update(np.ascontiguousarray(values, dtype=np.float32).tobytes())
    return h.hexdigest()
