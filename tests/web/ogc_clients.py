"""Real OGC API clients for the tests and the benchmark: GDAL's OAPIF driver and OWSLib.

GDAL runs in a child process: pyogrio keeps the GIL while GDAL waits on HTTP, so a server in
the same process (``web.server.ServerThread``) could never answer it. The child writes what
GDAL read to a GeoPackage, read back here from disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

_CHILD = """
import json, sys, time
import pyogrio
args = json.loads(sys.argv[1])
kwargs = {"layer": args["layer"]}
if args.get("bbox"):
    kwargs["bbox"] = tuple(args["bbox"])
if args.get("page_size"):
    kwargs["PAGE_SIZE"] = str(args["page_size"])
started = time.perf_counter()
df = pyogrio.read_dataframe("OAPIF:" + args["url"], **kwargs)
elapsed = time.perf_counter() - started
for column in df.columns:
    if df[column].dtype == object and column != "geometry":
        df[column] = df[column].map(lambda v: json.dumps(list(v), ensure_ascii=False)
                                    if hasattr(v, "__len__") and not isinstance(v, str) else v)
pyogrio.write_dataframe(df, args["out"], driver="GPKG", layer="read")
print(json.dumps({"seconds": elapsed, "rows": len(df)}))
"""


class GdalError(RuntimeError):
    """GDAL could not read the layer (its message is the text)."""


def gdal_layers(url: str, token: str | None = None) -> list[str]:
    """Layer names GDAL's OAPIF driver lists at the landing page ``url``."""
    code = ("import json, sys, pyogrio; print(json.dumps([str(n) for n, _ in "
            "pyogrio.list_layers('OAPIF:' + sys.argv[1])]))")
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                          env=_env(token), timeout=300, check=False)
    if done.returncode:
        raise GdalError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout)


def gdal_read(url: str, layer: str, *, token: str | None = None,
              bbox: tuple[float, float, float, float] | None = None,
              page_size: int | None = None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read one collection through GDAL (OAPIF); returns the frame and ``{seconds, rows}``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "read.gpkg")
        args = {"url": url, "layer": layer, "bbox": bbox, "page_size": page_size, "out": out}
        done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(args)],
                              capture_output=True, text=True, env=_env(token), timeout=600,
                              check=False)
        if done.returncode:
            lines = (done.stderr or "failed").strip().splitlines()
            raise GdalError(lines[-1])
        stats = json.loads(done.stdout.strip().splitlines()[-1])
        frame = pyogrio.read_dataframe(out) if stats["rows"] else gpd.GeoDataFrame()
    return frame, stats


def _env(token: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["GDAL_HTTP_TIMEOUT"] = "120"
    for name in ("GDAL_HTTP_HEADERS", "GDAL_HTTP_HEADER_FILE", "GDAL_HTTP_AUTH",
                 "GDAL_HTTP_BEARER"):
        env.pop(name, None)
    if token:
        # GDAL configuration options, read from the environment like any other. Not
        # GDAL_HTTP_HEADERS: the OAPIF driver of GDAL 3.12 sends its own Accept header and
        # drops that option's headers (as GDAL issue 11385 reports for ESRIJSON), while
        # GDAL_HTTP_AUTH=BEARER sends ``Authorization: Bearer`` on every request.
        env["GDAL_HTTP_AUTH"] = "BEARER"
        env["GDAL_HTTP_BEARER"] = token
    return env
