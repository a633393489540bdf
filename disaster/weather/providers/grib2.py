"""``grib2``: model runs and analyses as GRIB2 files (a file, a folder or a URL template).

Read with GDAL's GRIB driver through rasterio (no further native library). Each message is
mapped onto an engine variable by :mod:`disaster.weather.grib.params`; run time and step
come from the message (``GRIB_REF_TIME``, ``GRIB_FORECAST_SECONDS``, ``GRIB_VALID_TIME``),
never from the file name. Accumulated quantities are de-accumulated to hourly amounts:
the amount of a step is the difference of consecutive accumulations (never negative: a
decrease from packing noise counts as 0), spread evenly over the hours of the step (a
3-hour step of 6 mm gives 2 mm in each of its hours). Only the window around the
communities is kept; 0–360° longitudes are shifted onto the communities' −180–180°.
Messages are framed by their own lengths first, so a truncated or corrupt message is
reported by number and the good ones are still used.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from geoalchemy2.functions import ST_AsBinary
from rasterio.errors import RasterioError
from rasterio.windows import Window
from sqlalchemy import select

from disaster.communities import Community
from disaster.weather.batch import Batch, FetchContext, GridItem
from disaster.weather.errors import IngestError
from disaster.weather.grib import params as params_mod
from disaster.weather.grib import runs
from disaster.weather.grids import GridSpec

HOUR = dt.timedelta(hours=1)
NO_RUN = dt.datetime.min.replace(tzinfo=dt.UTC)
SUFFIXES = (".grib2", ".grb2", ".grib", ".grb")
# GRIB code table 4.3: 0 analysis, 8 observation; 4.1/4.11 carry ensemble members.
OBSERVED_PROCESSES = (0, 8)
ENSEMBLE_TEMPLATES = (1, 11)
STATISTICAL_TEMPLATES = (8, 11)
WGS84 = "EPSG:4326"


@dataclass
class RunItem(GridItem):
    """An hourly grid with where it came from (recorded in ``weather_grid_origins``)."""

    run_time: dt.datetime = NO_RUN
    step_hours: float = 0.0
    observed: bool = False
    member: int | None = None


@dataclass
class Message:
    """One decoded GRIB message, converted to engine units, over the window only."""

    variable: str
    kind: str
    run_time: dt.datetime
    start: dt.datetime
    end: dt.datetime
    observed: bool
    member: int | None
    spec: GridSpec
    values: np.ndarray  # flat float32, NaN = missing
    name: str
    # Fetched again only as the total the next step is differenced against (no hours).
    baseline: bool = False


@dataclass
class Window4326:
    lon0: float
    lat0: float
    lon1: float
    lat1: float


def split_messages(path: Path) -> tuple[list[tuple[int, int]], list[str]]:
    """(offset, length) of every complete GRIB message, and one error per bad one.

    A message is complete when its indicator says ``GRIB``, its length fits in the file and
    it ends with ``7777``; after a bad frame the next ``GRIB`` marker is searched for.
    """
    good: list[tuple[int, int]] = []
    bad: list[str] = []
    size = path.stat().st_size
    with path.open("rb") as fh:
        data_at = 0
        n = 0
        while data_at < size:
            fh.seek(data_at)
            head = fh.read(16)
            if len(head) < 16 or head[:4] != b"GRIB":
                nxt = _find(fh, data_at + 1, size)
                if nxt is None:
                    if n == 0 or head.strip(b"\0"):
                        bad.append(f"{path.name}: bytes after message {n} are not GRIB")
                    break
                data_at = nxt
                continue
            n += 1
            edition = head[7]
            length = int.from_bytes(head[8:16], "big") if edition == 2 else \
                int.from_bytes(head[4:7], "big")
            if data_at + length > size:
                bad.append(f"{path.name} message {n}: truncated ({size - data_at} of {length} bytes)")
                break
            fh.seek(data_at + length - 4)
            if fh.read(4) != b"7777":
                bad.append(f"{path.name} message {n}: corrupt (no end marker)")
                nxt = _find(fh, data_at + 4, size)
                if nxt is None:
                    break
                data_at = nxt
                continue
            good.append((data_at, length))
            data_at += length
    return good, bad


def _find(fh, start: int, size: int) -> int | None:
    """Offset of the next ``GRIB`` marker at or after ``start``."""
    pos = start
    while pos < size:
        fh.seek(pos)
        chunk = fh.read(1 << 20)
        if not chunk:
            return None
        i = chunk.find(b"GRIB")
        if i >= 0:
            return pos + i
        pos += max(1, len(chunk) - 3)
    return None


def _window(ds, bounds: Window4326 | None) -> tuple[Window, Affine, float]:
    """The cells covering ``bounds`` (one cell margin) and their transform in −180–180°."""
    t = ds.transform
    shift = 0.0
    if bounds is None:  # no communities, or a projected grid: read whole, as it is
        return Window(0, 0, ds.width, ds.height), t, shift
    lon0, lon1 = bounds.lon0, bounds.lon1
    if lon0 < t.c and lon0 + 360 < t.c + ds.width * t.a:
        # A 0–360° grid and communities west of Greenwich: read them at lon + 360°, then
        # move the window back so that it lines up with the communities' −180–180°.
        lon0, lon1, shift = lon0 + 360, lon1 + 360, -360.0
    inv = ~t
    c0, r0 = inv @ (lon0, bounds.lat1)
    c1, r1 = inv @ (lon1, bounds.lat0)
    col0 = max(0, math.floor(min(c0, c1)) - 1)
    col1 = min(ds.width, math.ceil(max(c0, c1)) + 1)
    row0 = max(0, math.floor(min(r0, r1)) - 1)
    row1 = min(ds.height, math.ceil(max(r0, r1)) + 1)
    if col1 <= col0 or row1 <= row0:
        raise IngestError(f"{ds.name}: the grid does not cover the communities", source=ds.name)
    win = Window(col0, row0, col1 - col0, row1 - row0)
    moved = Affine(t.a, t.b, t.c + col0 * t.a + row0 * t.b, t.d, t.e,
                   t.f + col0 * t.d + row0 * t.e)
    return win, moved, shift


def _stamp(tags: dict[str, str], key: str) -> dt.datetime:
    text = (tags.get(key) or "").split()[0] if tags.get(key) else ""
    if not text.lstrip("-").isdigit():
        raise ValueError(f"no {key}")
    return dt.datetime.fromtimestamp(int(text), tz=dt.UTC)


def read_messages(path: Path, table: list[params_mod.ParamRow], bounds: Window4326 | None,
                  errors: list[IngestError], observed: bool = False,
                  label: str | None = None, baseline: bool = False) -> list[Message]:
    """Every mapped message of one file; bad messages become errors naming their number."""
    label = label or str(path)
    good, bad = split_messages(path)
    errors.extend(IngestError(b, source=label) for b in bad)
    if not good:
        if not bad:
            errors.append(IngestError(f"{path.name}: no GRIB messages", source=label))
        return []
    # Contiguous runs of complete messages open as one dataset each (GDAL refuses a file
    # whose last message is cut short); message numbers stay those of the file.
    groups: list[list[tuple[int, int, int]]] = []
    for no, (off, length) in enumerate(good, start=1):
        if groups and groups[-1][-1][1] + groups[-1][-1][2] == off:
            groups[-1].append((no, off, length))
        else:
            groups.append([(no, off, length)])
    out: list[Message] = []
    with rasterio.Env(GRIB_NORMALIZE_UNITS="NO"):
        for group in groups:
            first = group[0]
            span = group[-1][1] + group[-1][2] - first[1]
            whole = first[1] == 0 and span == path.stat().st_size
            target = str(path) if whole else f"/vsisubfile/{first[1]}_{span},{path}"
            try:
                out += _read_dataset(target, path.name, [g[0] for g in group], table, bounds,
                                     errors, observed, label)
            except (RasterioError, OSError) as exc:
                if len(group) == 1:
                    errors.append(IngestError(f"{path.name} message {first[0]}: cannot be decoded "
                                              f"({exc})".replace("\n", " "), source=label))
                    continue
                for no, off, length in group:  # find the bad one, keep the others
                    try:
                        out += _read_dataset(f"/vsisubfile/{off}_{length},{path}", path.name, [no],
                                             table, bounds, errors, observed, label)
                    except (RasterioError, OSError) as exc2:
                        errors.append(IngestError(f"{path.name} message {no}: cannot be decoded "
                                                  f"({exc2})".replace("\n", " "), source=label))
    for m in out:
        m.baseline = baseline
    return out


def _read_dataset(target: str, name: str, numbers: list[int], table: list[params_mod.ParamRow],
                  bounds: Window4326 | None, errors: list[IngestError], observed: bool,
                  label: str) -> list[Message]:
    out: list[Message] = []
    with rasterio.open(target, driver="GRIB") as ds:
        if ds.crs is None:
            raise IngestError(f"{name}: the grid has no CRS", source=label)
        if not ds.crs.is_geographic:
            bounds = None  # projected grids (Lambert CMA products) are read whole
        win, transform, shift = _window(ds, bounds)
        transform = Affine(transform.a, transform.b, transform.c + shift, transform.d,
                           transform.e, transform.f)
        crs = WGS84 if ds.crs.is_geographic else ds.crs.to_wkt()
        spec = GridSpec(crs, tuple(transform)[:6], int(win.width), int(win.height))
        for band in range(1, ds.count + 1):
            no = numbers[band - 1] if band - 1 < len(numbers) else numbers[-1]
            where = f"{name} message {no}"
            try:
                tags = ds.tags(band)
                row = params_mod.match(table, params_mod.message_keys(tags))
                if row is None:
                    continue
                values = [int(v) for v in (tags.get("GRIB_PDS_TEMPLATE_ASSEMBLED_VALUES") or "").split()]
                pdtn = int(tags.get("GRIB_PDS_PDTN") or 0)
                ref = _stamp(tags, "GRIB_REF_TIME")
                end = _stamp(tags, "GRIB_VALID_TIME")
                fsec = int((tags.get("GRIB_FORECAST_SECONDS") or "0").split()[0])
                # Template 4.8/4.11: the interval starts at the forecast time; other
                # templates carrying an accumulation count from the run start.
                start = ref + dt.timedelta(seconds=fsec) if pdtn in STATISTICAL_TEMPLATES else ref
                member = values[16] if pdtn in ENSEMBLE_TEMPLATES and len(values) > 16 else None
                obs = observed or (len(values) > 2 and values[2] in OBSERVED_PROCESSES)
                arr = ds.read(band, window=win, masked=True).astype(np.float64)
                data = np.ma.filled(arr * row.factor + row.offset, np.nan).astype(np.float32)
                data[~np.isfinite(data)] = np.nan
                out.append(Message(row.variable, row.kind, ref, start, end, obs, member, spec,
                                   np.ascontiguousarray(data.ravel()), f"{label}#{no}"))
            except (RasterioError, ValueError, OSError) as exc:
                errors.append(IngestError(f"{where}: cannot be decoded ({exc})".replace("\n", " "),
                                          source=label))
    return out


def hourly(messages: list[Message], available: dt.timedelta | None = None) -> list[RunItem]:
    """Hourly grids from the messages of each run, variable and member (module docstring)."""
    groups: dict[tuple, list[Message]] = defaultdict(list)
    for m in messages:
        groups[(m.variable, m.run_time, m.member, m.observed, m.spec.key)].append(m)
    out: list[RunItem] = []
    for (var, run, member, observed, _key), msgs in groups.items():
        name = var if member is None else f"{var}@{member}"
        if msgs[0].kind != "sum":
            for m in sorted(msgs, key=lambda m: m.end):
                if not m.baseline:
                    out.append(_item(name, m.end, m, m.values, run, observed, member))
            continue
        # Accumulations since the run start are differenced in order of their ends;
        # interval accumulations (start after the run start) are taken as they are.
        last_end, last_total = run, None
        for m in sorted(msgs, key=lambda m: (m.end, m.start)):
            if m.start <= run:
                if m.end <= last_end:
                    continue
                amount = m.values if last_total is None else m.values - last_total
                begin = last_end
                last_end, last_total = m.end, m.values
                if m.baseline:
                    continue
            else:
                if m.baseline:
                    continue
                amount, begin = m.values, m.start
            hours = round((m.end - begin) / HOUR)
            if hours < 1:
                continue
            per_hour = np.where(np.isnan(amount), np.nan, np.maximum(amount, 0) / hours)
            per_hour = per_hour.astype(np.float32)
            for k in range(1, hours + 1):
                out.append(_item(name, begin + k * HOUR, m, per_hour, run, observed, member))
    return out


def _item(name: str, when: dt.datetime, m: Message, values: np.ndarray, run: dt.datetime,
          observed: bool, member: int | None) -> RunItem:
    return RunItem(name, when, m.spec, values, m.name, run_time=run,
                   step_hours=(m.end - run) / HOUR, observed=observed, member=member)


def supersede(session, provider: str, items: list[RunItem]) -> tuple[list[RunItem], int]:
    """Keep per hour the best item (observed, then newest run) unless a better one is held."""
    best: dict[tuple, RunItem] = {}
    for i in items:
        key = (i.variable, i.valid_time, i.spec.key)
        cur = best.get(key)
        if cur is None or runs.rank(i.observed, i.run_time) > runs.rank(cur.observed, cur.run_time):
            best[key] = i
    have = runs.held(session, provider, set(best))
    kept = [i for k, i in best.items() if k not in have
            or runs.rank(i.observed, i.run_time) >= runs.rank(have[k].observed, have[k].run_time)]
    return kept, len(items) - len(kept)


def community_bounds(session) -> Window4326 | None:
    """Bounding box of every community (EPSG:4326), or None without communities."""
    wkb = [bytes(g) for g in session.execute(select(ST_AsBinary(Community.geom))).scalars()
           if g is not None]
    if not wkb:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(shapely.from_wkb(wkb))
    return Window4326(float(x0), float(y0), float(x1), float(y1))


@dataclass
class Grib2Provider:
    """Options: ``params`` (extra mapping CSV), ``observed`` (the source is analyses),
    for URL templates ``cycle_hours`` (6), ``steps`` ("0-72/3"), ``delay_hours`` (8),
    ``runs`` (how many recent runs to look for, 2)."""

    name: str = "grib2"

    def fetch(self, source: str, ctx: FetchContext) -> Batch:
        batch = Batch(source=source)
        try:
            table = params_mod.load_table(ctx.options.get("params"))
        except IngestError as exc:
            batch.errors.append(exc)
            return batch
        observed = bool(ctx.options.get("observed", False))
        bounds = community_bounds(ctx.session)
        messages: list[Message] = []
        with tempfile.TemporaryDirectory(prefix="grib2-") as tmp:
            for path, label, baseline in self._files(source, ctx, Path(tmp), batch):
                messages += read_messages(path, table, bounds, batch.errors, observed, label,
                                          baseline)
        items = hourly(messages)
        for item in items:
            # A forecast is known from its run on; an observation from the end of its hour.
            known = item.valid_time if item.observed else item.run_time
            item.available_at = min(known, ctx.now)
        kept, dropped = supersede(ctx.session, self.name, items)
        if dropped:
            batch.notes.append(f"{dropped} hourly grids kept from a newer run or an observation")
        batch.grids = list(kept)
        batch.after_store = lambda session, stored, now: runs.record(
            session, self.name, source, [i for i in stored if isinstance(i, RunItem)], now)
        return batch

    def _files(self, source: str, ctx: FetchContext, tmp: Path, batch: Batch
               ) -> list[tuple[Path, str, bool]]:
        """(file, label, baseline only) of every file the source names."""
        if "://" in source:
            return self._download(source, ctx, tmp, batch)
        path = Path(source)
        if path.is_file():
            return [(path, str(path), False)]
        if path.is_dir():
            return [(p, str(p), False) for p in sorted(path.iterdir())
                    if p.suffix.lower() in SUFFIXES and p.is_file()]
        batch.errors.append(IngestError(f"{path}: no such file or folder", source=str(path)))
        return []

    def _download(self, template: str, ctx: FetchContext, tmp: Path, batch: Batch
                  ) -> list[tuple[Path, str, bool]]:
        """The steps of the newest run published: ``{run:%Y%m%d}``, ``{run:%H}``, ``{step}``.

        Steps already held from that run are not fetched again, except the one before the
        first missing step (accumulations are differenced against it); an older run is tried only
        while nothing of a newer one is found; a step not published yet (HTTP 404, missing
        file) is a note, not an error.
        """
        opts = ctx.options
        cycle = int(opts.get("cycle_hours", 6))
        delay = float(opts.get("delay_hours", 8))
        steps = parse_steps(str(opts.get("steps", "0-72/3")))
        latest = ctx.now - dt.timedelta(hours=delay)
        latest = latest.replace(hour=latest.hour - latest.hour % cycle, minute=0, second=0,
                                microsecond=0)
        out: list[tuple[Path, str, bool]] = []
        for back in range(int(opts.get("runs", 2))):
            run = latest - dt.timedelta(hours=cycle * back)
            held = runs.steps_held(ctx.session, self.name, template, run)
            found = bool(held)
            missing = [st for st in steps if st not in held]
            # Accumulations are differenced against the step before: fetch that one again.
            anchors = {max((h for h in held if h < st), default=None) for st in missing}
            for step in steps:
                if step in held and step not in anchors:
                    continue
                url = template.format(run=run, step=step)
                target = tmp / f"{run:%Y%m%d%H}_{step:03d}.grib2"
                try:
                    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - configured URL
                        target.write_bytes(resp.read())
                except urllib.error.HTTPError as exc:
                    if exc.code == 404:
                        batch.notes.append(f"{url}: not published yet")
                    else:
                        batch.errors.append(IngestError(f"{url}: {exc}", source=url))
                    continue
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    reason = getattr(exc, "reason", exc)
                    if isinstance(reason, FileNotFoundError):
                        batch.notes.append(f"{url}: not published yet")
                    else:
                        batch.errors.append(IngestError(f"{url}: {exc}", source=url))
                    continue
                found = True
                out.append((target, url, step in held))
            if found:
                break
        return out


def parse_steps(text: str) -> list[int]:
    """``"0-72/3,78-144/6"`` → hours."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        rng, _, every = part.partition("/")
        lo, _, hi = rng.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1, int(every or 1)))
    return sorted(set(out))

