"""Benchmark: from one ECMWF-open-data-sized GRIB2 file to warnings.

The file is generated into a temporary folder: a 0.25° global grid (1440 × 721) with 49
steps of ``tp`` (metres accumulated since the run start, 0–144 h every 3 h, as ECMWF open
data HRES sends it), simple packing with 16 bits. Then:
  a) 宿州 (the sample communities on SpatiaLite): ``ingest_and_evaluate(grib2)``, i.e. frame
     and decode every message, keep the window, de-accumulate to 144 hourly grids, store
     them with their run, evaluate every hazard and issue the CAP messages;
  b) a province of 20,000 communities (no database: provider functions and engine directly):
     decode, window, de-accumulate, label index, one evaluation.
Beside them: the time cfgrib/xarray alone take to read the same ``tp`` (if installed).

    .venv/bin/python bench/grib_ingest.py [--steps 49]
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
from disaster.weather.grib import params
from disaster.weather.providers import grib2
from tests.disaster.weather.gribs import Field, write_grib

RUN = dt.datetime(2020, 8, 1, 0, tzinfo=dt.UTC)
CELL = 0.25
GLOBAL = (CELL, 0.0, -180.0 - CELL / 2, 0.0, -CELL, 90.0 + CELL / 2)  # as ECMWF open data


def make_file(folder: Path, steps: int) -> Path:
    """Accumulated ``tp`` with a storm crossing eastern China (cheap to make at 1 M cells)."""
    h, w = 721, 1440
    rng = np.random.default_rng(4)
    lat = 90 - CELL * np.arange(h)[:, None]
    lon = -180 + CELL * np.arange(w)[None, :]
    base = rng.gamma(0.6, 0.4, size=(h, w)).astype(np.float32)  # mm per 3 h, everywhere
    total = np.zeros((h, w), dtype=np.float64)
    fields = []
    for k in range(1, steps + 1):
        cx, cy = 116.0 + 0.3 * k, 33.6 + 0.5 * np.sin(k / 5)
        core = 70.0 * np.exp(-(((lon - cx) / 1.5) ** 2 + ((lat - cy) / 1.0) ** 2))
        total += base + core  # mm
        fields.append(Field(total / 1000.0, RUN, 3 * k))
    return write_grib(folder / "20200801000000-144h-oper-fc.grib2", fields, GLOBAL,
                      packing={"DATA_ENCODING": "SIMPLE_PACKING", "NBITS": 16})


def suzhou(path: Path) -> tuple[float, dict]:
    """The 宿州 sample on SpatiaLite: grib2 ingestion and evaluation, timed."""
    from sqlalchemy import func, select

    from disaster.access import cli_actor
    from disaster.communities import Community
    from disaster.notify.models import Notification
    from disaster.warnings.models import Alert
    from disaster.warnings.service import evaluate
    from disaster.weather.ingest import ingest
    from gis.db import make_engine, make_session_factory, unit_of_work
    from web.migrate import upgrade
    from web.models import import_all_models
    from web.sample_loader import load_sample

    import_all_models()
    with tempfile.TemporaryDirectory() as tmp:
        eng = make_engine(f"sqlite:///{tmp}/bench.sqlite")
        upgrade(eng)
        sessions = make_session_factory(eng)
        with unit_of_work(sessions) as s:
            load_sample(s, cli_actor())
        with unit_of_work(sessions) as s:
            communities = s.scalar(select(func.count(Community.id)))
            t0 = time.perf_counter()
            report = ingest(s, "grib2", str(path), now=RUN)
            read = time.perf_counter() - t0
            counts = evaluate(s, RUN)
            took = time.perf_counter() - t0
            alerts = s.scalar(select(func.count(Alert.id)))
            notes = s.scalar(select(func.count(Notification.id)))
        eng.dispose()
    return took, {"stored": report.stored, "read": read, "communities": communities,
                  "alerts": int(alerts or 0), "notifications": int(notes or 0), **counts}


def province(path: Path) -> tuple[float, list[int], int]:
    """20,000 communities over Anhui-sized bounds, without a database."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from warning_eval import lattice  # the same synthetic village lattice as warning_eval

    polys = lattice(125, 160, 114.9, 29.4, 4.8 / 125, 5.3 / 160)
    points = shapely.point_on_surface(polys)
    rules = {Hazard.RAINSTORM: [r for r in DEFAULT_RULES if r.hazard == Hazard.RAINSTORM]}
    t0 = time.perf_counter()
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    errors: list = []
    msgs = grib2.read_messages(path, params.load_table(), grib2.Window4326(x0, y0, x1, y1),
                               errors)
    items = grib2.hourly(msgs)
    spec = items[0].spec
    index = engine.build_label_index(spec, polys, points)
    series = {"precip_mm": engine.Series({i.valid_time: index.compact(i.values) for i in items},
                                         index.size)}
    res = engine.evaluate_grid(rules, series, index, RUN)
    took = time.perf_counter() - t0
    levels = np.bincount(np.maximum(res[0].ranks, 0), minlength=5).tolist()
    return took, levels, len(items)


def cfgrib_read(path: Path) -> str:
    try:
        import xarray as xr
    except ImportError:
        return "not installed"
    try:
        import cfgrib  # noqa: F401
    except ImportError:
        return "not installed"
    t0 = time.perf_counter()
    ds = xr.open_dataset(path, engine="cfgrib", backend_kwargs={"indexpath": ""})
    ds[next(iter(ds.data_vars))].load()
    return f"{time.perf_counter() - t0:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=49)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = make_file(Path(tmp), args.steps)
        size = path.stat().st_size / 1e6
        print(f"GRIB2 file: 1440 × 721 (0.25° global), {args.steps} steps of tp, {size:.0f} MB, "
              f"made in {time.perf_counter() - t0:.1f} s")
        took, c = suzhou(path)
        print(f"[宿州] {c['communities']:,} communities, GRIB2 to warnings: {took:.2f} s = "
              f"{c['read']:.2f} s decode, window, de-accumulate and store {c['stored']} hourly "
              f"grids + {took - c['read']:.2f} s evaluate and issue {c['issued']} CAP messages "
              f"({c['notifications']:,} officer notifications)")
        took, levels, hours = province(path)
        print(f"[province] 20,000 communities, GRIB2 to levels: {took:.2f} s "
              f"({hours} hourly grids); communities per level none..red {levels}")
        print(f"cfgrib/xarray alone reading the same tp: {cfgrib_read(path)}")


if __name__ == "__main__":
    main()
