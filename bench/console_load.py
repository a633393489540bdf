"""Time to a drawn map console in headless Chromium, and the bytes it transfers.

Two data sets: the 宿州 sample (about 1,300 communities, through ``web.sample_loader``) and a
generated province-sized set of 20,000 communities (irregular 14-vertex polygons tiling a
rectangle the size of Anhui). Targets (issue 3): under 1.5 s and under 2 MB for 20,000.

"Drawn" is the moment the communities overlay has its features on the map (SVG paths or, for
large sets, one canvas of ``DisasterConsole.polygonLayer``) after the next two animation
frames, measured from navigation start in the page (``performance.now()``), with a cold
browser cache every run; each run starts once the previous page's requests have finished.
The server's geometry cache is warmed first, as ``disaster serve`` and each gunicorn worker
do as they start. Bytes are the sum of ``transferSize`` of the page and every resource
(compressed, headers included).

Usage: ``.venv/bin/python bench/console_load.py [--database URL] [--runs 3]
[--only suzhou|province] [--screenshots DIR]`` (default: throwaway SpatiaLite databases in a
temporary folder).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely  # imported before SpatiaLite loads, so shapely's own GEOS is the one it calls
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon, box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from disaster import accounts
from disaster.access import cli_actor
from disaster.areas import Area, AreaLevel
from disaster.communities import Community
from gis.db import make_engine
from web.api.geojson import warm_in_background
from web.app import create_app
from web.config import Settings
from web.migrate import upgrade
from web.server import ServerThread

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PASSWORD = "Bench2026pass"  # noqa: S105 - a throwaway benchmark user
# Anhui's extent, roughly: 114.9–119.6°E, 29.4–34.6°N.
PROVINCE = (114.9, 29.4, 119.6, 34.6)


def load_suzhou(session) -> int:  # type: ignore[no-untyped-def]
    from web.sample_loader import load_sample

    load_sample(session, cli_actor())
    return session.query(Community).count()


EDGE_POINTS = 4  # interior points per edge: 20-vertex cells, like digitised village outlines


def _jagged_cell(x0: float, y0: float, dx: float, dy: float, h: np.ndarray, v: np.ndarray,
                 i: int, j: int) -> Polygon:
    """Cell (i, j) with wavy edges; neighbours share each edge's points, so cells tile."""
    ks = range(1, EDGE_POINTS + 1)
    f = [k / (EDGE_POINTS + 1) for k in ks]
    pts = [(x0, y0)]
    pts += [(x0 + dx * t, y0 + h[i, j, k - 1]) for k, t in zip(ks, f, strict=True)]
    pts += [(x0 + dx, y0)]
    pts += [(x0 + dx + v[i + 1, j, k - 1], y0 + dy * t) for k, t in zip(ks, f, strict=True)]
    pts += [(x0 + dx, y0 + dy)]
    pts += [(x0 + dx * t, y0 + dy + h[i, j + 1, k - 1])
            for k, t in reversed(list(zip(ks, f, strict=True)))]
    pts += [(x0, y0 + dy)]
    pts += [(x0 + v[i, j, k - 1], y0 + dy * t) for k, t in reversed(list(zip(ks, f, strict=True)))]
    return Polygon(pts)


def load_province(session, n: int = 20_000) -> int:  # type: ignore[no-untyped-def]
    """``n`` communities on a grid over the province; 100 per township, 20 townships a county."""
    w, s, e, nn = PROVINCE
    cols = round((n * (e - w) / (nn - s)) ** 0.5)
    rows = int(np.ceil(n / cols))
    dx, dy = (e - w) / cols, (nn - s) / rows
    rng = np.random.default_rng(7)
    session.add(Area(code="340000", name="省", level=AreaLevel.CITY, parent_code=None,
                     geom=from_shape(MultiPolygon([box(w, s, e, nn)]), srid=4326)))
    session.flush()
    cells = [(i, j) for j in range(rows) for i in range(cols)][:n]
    block = 10  # 10 × 10 cells a township
    townships: dict[tuple[int, int], str] = {}
    counties: dict[tuple[int, int], str] = {}
    for i, j in cells:
        tkey = (i // block, j // block)
        ckey = (i // (block * 5), j // (block * 4))
        if ckey not in counties:
            code = f"34{len(counties) + 1:04d}"
            counties[ckey] = code
            x0, y0 = w + ckey[0] * block * 5 * dx, s + ckey[1] * block * 4 * dy
            session.add(Area(code=code, name=f"县{code}", level=AreaLevel.COUNTY,
                             parent_code="340000", geom=from_shape(MultiPolygon(
                                 [box(x0, y0, min(e, x0 + block * 5 * dx),
                                      min(nn, y0 + block * 4 * dy))]), srid=4326)))
        if tkey not in townships:
            code = f"{counties[ckey]}{len(townships) % 999 + 1:03d}"
            townships[tkey] = code
    session.flush()
    for (ti, tj), code in townships.items():
        x0, y0 = w + ti * block * dx, s + tj * block * dy
        ckey = (ti // 5, tj // 4)
        session.add(Area(code=code, name=f"镇{code}", level=AreaLevel.TOWNSHIP,
                         parent_code=counties[ckey], geom=from_shape(MultiPolygon(
                             [box(x0, y0, min(e, x0 + block * dx), min(nn, y0 + block * dy))]),
                             srid=4326)))
    session.flush()
    h = rng.uniform(-0.15, 0.15, size=(cols + 2, rows + 2, EDGE_POINTS)) * dy
    v = rng.uniform(-0.15, 0.15, size=(cols + 2, rows + 2, EDGE_POINTS)) * dx
    for k, (i, j) in enumerate(cells):
        township = townships[(i // block, j // block)]
        x0, y0 = w + i * dx, s + j * dy
        poly = shapely.make_valid(_jagged_cell(x0, y0, dx, dy, h, v, i, j))
        if poly.geom_type != "Polygon":
            poly = box(x0, y0, x0 + dx, y0 + dy)
        session.add(Community(
            code=f"{township}{k % 1000:03d}", name=f"村{k}", township_code=township,
            county_code=township[:6], population=int(rng.integers(300, 5000)),
            households=int(rng.integers(100, 1800)), geom=from_shape(MultiPolygon([poly]),
                                                                       srid=4326),
            point=from_shape(poly.representative_point(), srid=4326)))
        if k % 2000 == 1999:
            session.flush()
    session.flush()
    return len(cells)


DRAWN = """async () => {
  const dc = window.DisasterConsole;
  const entry = () => dc && dc.overlays.find(o => o.id === 'communities');
  const deadline = performance.now() + 120000;
  while (!(entry() && entry().loaded)) {
    if (entry() && entry().error) { return {error: String(entry().error.message)}; }
    if (performance.now() > deadline) { return {error: 'communities not drawn within 120 s'}; }
    await new Promise(r => setTimeout(r, 5));
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  let bytes = nav.transferSize, layer = 0;
  for (const r of resources) {
    bytes += r.transferSize;
    if (r.name.includes('/api/v1/communities')) { layer += r.transferSize; }
  }
  let features = 0;
  entry().container.eachLayer(l => {
    if (l.featureCount) { features += l.featureCount(); }
    else if (l.getLayers) { features += l.getLayers().length; }
  });
  return {ms: performance.now(), bytes, layer, features, requests: resources.length + 1};
}"""


def measure(base: str, runs: int, path: str = "/", screenshot: Path | None = None) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        state = context.storage_state()
        context.close()
        for _ in range(runs + 1):  # the first run is reported apart (first of this server)
            context = browser.new_context(storage_state=state,
                                          viewport={"width": 1600, "height": 900})
            page = context.new_page()
            page.goto(base + path, wait_until="commit")
            page.wait_for_function("window.DisasterConsole && window.DisasterConsole.map",
                                   timeout=60000)
            result = page.evaluate(DRAWN)
            if "error" in result:
                raise RuntimeError(result["error"])
            print(f"  run: {result['ms'] / 1000:.2f} s, {result['bytes'] / 1e6:.2f} MB",
                  flush=True)
            results.append(result)
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
            # Let the other panels' requests finish, so the next run starts on an idle
            # server (as a duty officer opening the console would) instead of behind them.
            page.wait_for_load_state("networkidle")
            context.close()
        browser.close()
    return results


def run(name: str, url: str | None, home: Path, runs: int,
        screenshots: Path | None = None) -> None:
    if url is None:
        url = f"sqlite:///{home / (name + '.sqlite')}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(Settings(home=home, database_url=url, secret_key="bench"))  # noqa: S106 - throwaway
    sessions = app.extensions["disaster_runtime"].sessions
    started = time.perf_counter()
    with sessions() as session:
        n = load_suzhou(session) if name == "suzhou" else load_province(session)
        accounts.add_user(session, cli_actor(), "bench", "duty_officer", PASSWORD)
        session.commit()
    print(f"[{name}] loaded {n:,} communities in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    warm_in_background(app).join()
    print(f"[{name}] geometry cache warmed in {time.perf_counter() - started:.1f} s (as "
          f"`disaster serve` and each gunicorn worker do as they start)")
    with ServerThread(app, threads=8) as server:
        for label, path in (("core layers only (/?plugins=10-core)", "/?plugins=10-core"),
                            ("full console with every plugin (/)", "/")):
            shot = None
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                shot = screenshots / f"console-{name}-{path.strip('/?').replace('=', '-') or 'full'}.png"
            report(name, label, measure(server.url, runs, path, shot))
    app.extensions["disaster_runtime"].engine.dispose()


def report(name: str, label: str, results: list[dict]) -> None:
    cold, warm = results[0], results[1:]
    ms = statistics.median(r["ms"] for r in warm)
    total = statistics.median(r["bytes"] for r in warm)
    layer = statistics.median(r["layer"] for r in warm)
    each = ", ".join(f"{r['ms'] / 1000:.2f}" for r in warm)
    print(f"[{name}] {label}: {warm[0]['features']:,} communities drawn, "
          f"{warm[0]['requests']} requests")
    print(f"[{name}]   time to drawn map: median {ms / 1000:.2f} s over {len(warm)} runs "
          f"({each}; first run after the server started: {cold['ms'] / 1000:.2f} s)")
    print(f"[{name}]   bytes transferred: {total / 1e6:.2f} MB, of which the communities "
          f"layer {layer / 1e6:.2f} MB", flush=True)


def main() -> None:
    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # queue-depth chatter
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="migrated, EMPTY database URL (default: SpatiaLite)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["suzhou", "province"])
    parser.add_argument("--screenshots", type=Path, help="folder for a screenshot of each page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("suzhou", "province"):
            if args.only in (None, name):
                run(name, args.database, Path(tmp), args.runs, args.screenshots)


if __name__ == "__main__":
    main()
