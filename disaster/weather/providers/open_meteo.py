"""``open-meteo``: an Open-Meteo-compatible forecast endpoint queried at the communities'
representative points (``--source`` is the base URL).

Hourly ``precipitation`` is the sum over the preceding hour, so its time stamp is the end of
the hour, as CONTRACT.md wants. Requests carry a timeout and are retried with exponential
back-off; if any batch of points finally fails, the whole fetch is one error naming the URL
and nothing of it is ingested.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import numpy as np
import shapely
from geoalchemy2.functions import ST_AsBinary
from sqlalchemy import select

from disaster.communities import Community
from disaster.weather.batch import Batch, FetchContext, GridItem
from disaster.weather.errors import IngestError
from disaster.weather.grids import GridSpec

log = logging.getLogger(__name__)
# Open-Meteo hourly variable → our variable(s). Hourly temperature bounds the daily extremes.
VARIABLES = {"precipitation": ["precip_mm"], "wind_speed_10m": ["wind_ms"],
             "wind_gusts_10m": ["gust_ms"], "temperature_2m": ["t2m_c", "tmin_c", "tmax_c"],
             "visibility": ["visibility_m"]}
BATCH = 100


class OpenMeteoProvider:
    name = "open-meteo"

    def __init__(self, timeout: float = 10.0, retries: int = 3, backoff: float = 0.5) -> None:
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def url(self, base: str, lats: list[float], lons: list[float]) -> str:
        base = base.rstrip("/")
        if not base.endswith("/forecast"):
            base += "/v1/forecast"
        query = {"latitude": ",".join(f"{v:.4f}" for v in lats),
                 "longitude": ",".join(f"{v:.4f}" for v in lons),
                 "hourly": ",".join(VARIABLES), "wind_speed_unit": "ms", "timezone": "GMT",
                 "past_days": "1", "forecast_days": "2"}
        return f"{base}?{urllib.parse.urlencode(query)}"

    def get_json(self, url: str, timeout: float | None = None, retries: int | None = None) -> Any:
        """GET with timeout and retries (back-off 0.5 s, 1 s, 2 s…); IngestError at the end."""
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        last = ""
        attempt = 0
        for attempt in range(max(1, retries)):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - configured URL
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code != 429:
                    break  # a client error will not go away by retrying
            except (TimeoutError, OSError, urllib.error.URLError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except ValueError as exc:
                last = f"invalid JSON ({exc})"
                break
            log.warning("open-meteo %s: attempt %d failed: %s", url.split("?")[0], attempt + 1, last)
        raise IngestError(f"{url.split('?')[0]}: {last} after {attempt + 1} attempt(s)", source=url)

    def fetch(self, source: str, ctx: FetchContext) -> Batch:
        rows = ctx.session.execute(select(Community.code, ST_AsBinary(Community.point))
                                   .order_by(Community.code)).all()
        rows = [(c, shapely.from_wkb(bytes(p))) for c, p in rows if p is not None]
        batch = Batch(source=source)
        if not rows:
            return batch
        codes = tuple(c for c, _ in rows)
        spec = GridSpec(None, None, len(codes), 1, codes)
        timeout = float(ctx.options.get("timeout", self.timeout))
        retries = int(ctx.options.get("retries", self.retries))
        series: dict[str, dict[dt.datetime, np.ndarray]] = {}
        for i in range(0, len(rows), BATCH):
            chunk = rows[i:i + BATCH]
            url = self.url(source, [p.y for _, p in chunk], [p.x for _, p in chunk])
            data = self.get_json(url, timeout, retries)
            docs = data if isinstance(data, list) else [data]
            if len(docs) != len(chunk):
                raise IngestError(f"{source}: {len(docs)} locations answered for {len(chunk)} asked",
                                  source=source)
            for j, doc in enumerate(docs):
                self._one(doc, i + j, len(codes), series, source)
        for var, hours in series.items():
            for when, values in sorted(hours.items()):
                batch.grids.append(GridItem(var, when, spec, values,
                                            f"{source}#{var}@{when:%Y%m%dT%H%MZ}"))
        return batch

    def _one(self, doc: Any, index: int, n: int, series: dict, source: str) -> None:
        try:
            hourly = doc["hourly"]
            times = [dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC) for t in hourly["time"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise IngestError(f"{source}: response without a valid hourly.time ({exc})",
                              source=source) from exc
        for name, targets in VARIABLES.items():
            values = hourly.get(name)
            if values is None:
                continue
            if len(values) != len(times):
                raise IngestError(f"{source}: hourly.{name} has {len(values)} values for "
                                  f"{len(times)} times", source=source)
            for t, v in zip(times, values, strict=True):
                for var in targets:
                    arr = series.setdefault(var, {}).setdefault(t, np.full(n, np.nan, np.float32))
                    arr[index] = np.nan if v is None else float(v)
