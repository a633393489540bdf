"""Benchmark: one hourly warning evaluation, beside rasterstats and exactextract.

Cases (communities are synthesised for b and c: a jittered lattice of quadrilaterals that
tiles the region like real village boundaries do):
  a) the 宿州 sample communities on a 0.01° grid;
  b) a province: 20,000 communities on a 4,000 × 4,000 grid;
  c) the nation: 600,000 communities on a 0.01° grid of China (6,200 × 3,600).
"Same work" for the comparators: per community, the maximum of the 3-, 6- and 12-hour rain
accumulations ending at T (the rainstorm criteria). Ours additionally applies the four CMA
levels. The label raster is built once per grid geometry (cached) and timed separately.
Then, for 宿州 on SpatiaLite: from a new hourly file's arrival to the notifications stored.

    .venv/bin/python bench/warning_eval.py [--cases a,b,c,arrival] [--rasterstats-limit-c N]
                                           [--numpy] [--no-comparators]

The evaluation runs in the compiled kernel (disaster.warnings.kernel) when numba is
installed; ``--numpy`` forces the numpy path. The first evaluation of a run may compile the
kernel (cached on disk afterwards): the reported time is the best of three.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from disaster.warnings import engine
from disaster.warnings.levels import Hazard
from disaster.warnings.rules import DEFAULT_RULES
from disaster.weather.grids import GridSpec

WGS84 = "EPSG:4326"
T = dt.datetime(2020, 8, 1, 12, tzinfo=dt.UTC)


def lattice(nx: int, ny: int, x0: float, y0: float, dx: float, dy: float, seed: int = 1) -> np.ndarray:
    """nx × ny quadrilaterals from a jittered lattice (they tile the box, no gaps)."""
    rng = np.random.default_rng(seed)
    xs = x0 + dx * np.arange(nx + 1)[None, :] + rng.uniform(-0.3, 0.3, (ny + 1, nx + 1)) * dx
    ys = y0 + dy * np.arange(ny + 1)[:, None] + rng.uniform(-0.3, 0.3, (ny + 1, nx + 1)) * dy
    xs[:, 0], xs[:, -1], ys[0, :], ys[-1, :] = x0, x0 + nx * dx, y0, y0 + ny * dy
    i, j = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    corners = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)]
    coords = np.stack([np.stack([xs[a, b], ys[a, b]], -1) for a, b in corners], axis=-2)
    coords = coords.reshape(-1, 4, 2)
    return shapely.polygons(coords)


def rain(hours: int, shape: tuple[int, int], seed: int = 2) -> list[np.ndarray]:
    """Hourly rain fields (flat float32) with a storm core; cheap to make at national size."""
    rng = np.random.default_rng(seed)
    h, w = shape
    base = rng.gamma(1.0, 4.0, size=h * w).astype(np.float32)
    yy = (np.arange(h, dtype=np.float32) / h)[:, None]
    xx = (np.arange(w, dtype=np.float32) / w)[None, :]
    out = []
    for k in range(hours):
        d2 = ((xx - 0.3 - 0.03 * k) / 0.05) ** 2 + ((yy - 0.5) / 0.08) ** 2
        core = (60.0 * np.exp(-d2)).astype(np.float32)
        out.append((np.roll(base, k * 7919) * 0.3 + core.ravel()).astype(np.float32))
    return out


def ours(spec: GridSpec, polys: np.ndarray, hours: list[np.ndarray]) -> dict:
    pts = shapely.point_on_surface(polys)
    t0 = time.perf_counter()
    index = engine.build_label_index(spec, polys, pts)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    compact = [index.compact(h) for h in hours]  # done once per hourly grid, on arrival
    gather = (time.perf_counter() - t0) / len(hours)
    series = {"precip_mm": engine.Series({T - k * engine.HOUR: compact[-1 - k]
                                          for k in range(len(hours))}, index.size)}
    rules = {Hazard.RAINSTORM: [r for r in DEFAULT_RULES if r.hazard == Hazard.RAINSTORM]}
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = engine.evaluate_grid(rules, series, index, T)
        runs.append(time.perf_counter() - t0)
    levels = np.bincount(np.maximum(res[0].ranks, 0), minlength=5)
    return {"build": build, "eval": min(runs), "levels": levels.tolist(), "gather": gather}


def window_sums(hours: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
    acc = np.zeros_like(hours[0])
    out = {}
    for k in range(12):
        acc = acc + hours[-1 - k]
        if k + 1 in (3, 6, 12):
            out[k + 1] = acc.reshape(shape).copy()
    return [out[3], out[6], out[12]]


def with_exactextract(spec: GridSpec, polys: np.ndarray, fields: list[np.ndarray]) -> float:
    """exactextract reading the arrays directly (NumPyRasterSource: no GDAL I/O timed)."""
    import geopandas as gpd
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    gdf = gpd.GeoDataFrame({"id": np.arange(len(polys))}, geometry=list(polys), crs=WGS84)
    a, _, c, _, e, f = spec.transform
    xmin, xmax, ymax = c, c + a * spec.width, f
    ymin = f + e * spec.height
    total = 0.0
    for field in fields:
        src = NumPyRasterSource(field, xmin, ymin, xmax, ymax, nodata=-1)
        t0 = time.perf_counter()
        exact_extract(src, gdf, ["max"], output="pandas")
        total += time.perf_counter() - t0
    return total


def with_rasterstats(spec: GridSpec, polys: np.ndarray, fields: list[np.ndarray],
                     limit: int | None) -> tuple[float, int]:
    from rasterstats import zonal_stats

    sub = list(polys if limit is None else polys[:limit])
    total = 0.0
    for f in fields:
        t0 = time.perf_counter()
        zonal_stats(sub, f, affine=spec.affine, stats=["max"], nodata=-1)
        total += time.perf_counter() - t0
    return total, len(sub)


def case(name: str, spec: GridSpec, polys: np.ndarray, rs_limit: int | None, ee: bool = True,
         comparators: bool = True) -> None:
    shape = (spec.height, spec.width)
    t0 = time.perf_counter()
    hours = rain(12, shape)
    gen = time.perf_counter() - t0
    r = ours(spec, polys, hours)
    print(f"[{name}] {len(polys):,} communities on {spec.width:,} × {spec.height:,} "
          f"({spec.size / 1e6:.1f} M cells); data made in {gen:.1f} s")
    print(f"[{name}]   label raster (one-off, cached per grid geometry): {r['build']:.2f} s; "
          f"reordering each new hourly grid once on arrival: {r['gather']:.3f} s")
    path = "compiled kernel" if engine.USE_KERNEL else "numpy"
    print(f"[{name}]   ours ({path}), one hourly evaluation (all four rainstorm levels): "
          f"{r['eval']:.4f} s; communities per level none..red {r['levels']}")
    if not comparators:
        return
    fields = window_sums(hours, shape)
    if ee:
        t_ee = with_exactextract(spec, polys, fields)
        print(f"[{name}]   exactextract, max of 3 accumulations: {t_ee:.2f} s "
              f"(ours is {t_ee / r['eval']:.0f}× faster)")
    t_rs, n = with_rasterstats(spec, polys, fields, rs_limit)
    if n < len(polys):
        est = t_rs * len(polys) / n
        print(f"[{name}]   rasterstats, max of 3 accumulations: {t_rs:.2f} s for {n:,} communities "
              f"→ ≈{est:.0f} s for all (linear extrapolation; ours {est / r['eval']:.0f}× faster)")
    else:
        print(f"[{name}]   rasterstats, max of 3 accumulations: {t_rs:.2f} s "
              f"(ours is {t_rs / r['eval']:.0f}× faster)")


def suzhou_polys() -> np.ndarray:
    from disaster.sample import generate_sample

    data = generate_sample()
    return np.asarray([c["geometry"] for c in data.communities], dtype=object)


def grid_for(polys: np.ndarray, cell: float) -> GridSpec:
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    w, h = int(np.ceil((x1 - x0) / cell)) + 2, int(np.ceil((y1 - y0) / cell)) + 2
    return GridSpec(WGS84, (cell, 0.0, x0 - cell, 0.0, -cell, y1 + cell), w, h)


def arrival() -> None:
    """宿州 on SpatiaLite: a new hourly GeoTIFF arrives → ingested, evaluated, notified."""
    from sqlalchemy import func, select

    from disaster.access import cli_actor
    from disaster.notify.models import Notification
    from disaster.warnings.service import ingest_and_evaluate
    from disaster.weather.providers.grid_files import write_geotiff
    from gis.db import make_engine, make_session_factory, unit_of_work
    from web.migrate import upgrade
    from web.models import import_all_models
    from web.sample_loader import load_sample

    import_all_models()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        eng = make_engine(url)
        upgrade(eng)
        sessions = make_session_factory(eng)
        with unit_of_work(sessions) as s:
            load_sample(s, cli_actor())
        from geoalchemy2.functions import ST_AsBinary

        from disaster.communities import Community
        with sessions() as s:
            polys = shapely.from_wkb([bytes(g) for g in s.scalars(select(ST_AsBinary(Community.geom)))])
        spec = grid_for(polys, 0.01)
        shape = (spec.height, spec.width)
        hours = rain(4, shape)
        folder = Path(tmp) / "grids"
        folder.mkdir()
        for k in range(3):
            end = T - dt.timedelta(hours=2 - k)
            write_geotiff(folder / f"precip_mm_{end:%Y%m%dT%H%M}Z.tif", hours[k].reshape(shape),
                          spec.transform)
        with unit_of_work(sessions) as s:  # the earlier hours: state before the new file
            ingest_and_evaluate(s, "grid-files", str(folder), now=T)
        end = T + dt.timedelta(hours=1)
        heavy = (hours[3] * 3).reshape(shape)
        write_geotiff(folder / f"precip_mm_{end:%Y%m%dT%H%M}Z.tif", heavy, spec.transform)
        t0 = time.perf_counter()
        with unit_of_work(sessions) as s:
            _, counts = ingest_and_evaluate(s, "grid-files", str(folder), now=end)
        took = time.perf_counter() - t0
        with sessions() as s:
            notes = s.scalar(select(func.count(Notification.id)))
        print(f"[arrival] 宿州 ({len(polys):,} communities, {spec.width} × {spec.height} grid, "
              f"SpatiaLite): file arrival → warnings evaluated, {counts} messages, {notes} "
              f"notifications stored and committed in {took:.2f} s")
        eng.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="a,b,c,arrival")
    ap.add_argument("--rasterstats-limit-c", type=int, default=20000)
    ap.add_argument("--numpy", action="store_true",
                    help="evaluate on the numpy path even when numba is installed")
    ap.add_argument("--no-comparators", action="store_true",
                    help="skip exactextract and rasterstats (only time ours)")
    args = ap.parse_args()
    if args.numpy:
        engine.USE_KERNEL = False
    cmp = not args.no_comparators
    cases = args.cases.split(",")
    if "a" in cases:
        polys = suzhou_polys()
        case("a 宿州", grid_for(polys, 0.01), polys, None, comparators=cmp)
    if "b" in cases:
        polys = lattice(200, 100, 116.0, 31.0, 4.0 / 200, 4.0 / 100)
        case("b province", GridSpec(WGS84, (0.001, 0.0, 116.0, 0.0, -0.001, 35.0), 4000, 4000), polys, None,
             comparators=cmp)
    if "c" in cases:
        polys = lattice(1000, 600, 73.0, 18.0, 62.0 / 1000, 36.0 / 600)
        case("c nation", GridSpec(WGS84, (0.01, 0.0, 73.0, 0.0, -0.01, 54.0), 6200, 3600), polys,
             args.rasterstats_limit_c, comparators=cmp)
    if "arrival" in cases:
        arrival()


if __name__ == "__main__":
    main()
