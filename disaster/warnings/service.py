"""One warning evaluation against the database, and ingestion followed by evaluation."""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.functions import ST_AsBinary
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from disaster.communities import Community
from disaster.warnings import alerts as alerts_mod
from disaster.warnings import engine, ensemble, impact_matrix
from disaster.warnings import rules as rules_mod
from disaster.warnings.levels import Hazard, WarningLevel
from disaster.weather.grids import GridSpec, unpack
from disaster.weather.ingest import IngestReport, ingest
from disaster.weather.models import UpstreamAlert, WeatherGrid
from gis.types import utcnow

log = logging.getLogger(__name__)
HOUR = dt.timedelta(hours=1)
_GRID_CACHE: OrderedDict[tuple[int, str, int], np.ndarray] = OrderedDict()


@dataclass
class CommunitySet:
    codes: list[str]
    polygons: np.ndarray
    points: np.ndarray
    fingerprint: str


_COMMUNITIES: dict[str, CommunitySet] = {}


def load_communities(session: Session) -> CommunitySet:
    """Codes, polygons and points of every community (parsed once per fingerprint)."""
    rows = session.execute(select(Community.code, ST_AsBinary(Community.geom),
                                  ST_AsBinary(Community.point)).order_by(Community.code)).all()
    fp = engine.fingerprint((c, g, p) for c, g, p in rows)
    hit = _COMMUNITIES.get(fp)
    if hit is not None:
        return hit
    codes = [r[0] for r in rows]
    polys = shapely.from_wkb([bytes(r[1]) if r[1] is not None else None for r in rows])
    points = shapely.from_wkb([bytes(r[2]) if r[2] is not None else None for r in rows])
    missing = shapely.is_missing(points) & ~shapely.is_missing(polys)
    if missing.any():
        points[missing] = shapely.point_on_surface(polys[missing])
    _COMMUNITIES.clear()
    _COMMUNITIES[fp] = CommunitySet(codes, polys, points, fp)
    return _COMMUNITIES[fp]


def _compact(row: WeatherGrid, index: engine.LabelIndex) -> np.ndarray:
    """The grid's values in the label index's community order (cached per grid and index)."""
    key = (row.id, row.content_hash, id(index))
    if key in _GRID_CACHE:
        _GRID_CACHE.move_to_end(key)
        return _GRID_CACHE[key]
    arr = index.compact(unpack(row.data))
    _GRID_CACHE[key] = arr
    while len(_GRID_CACHE) > 512:
        _GRID_CACHE.popitem(last=False)
    return arr


def compute_levels(session: Session, now: dt.datetime) -> dict[Hazard, alerts_mod.Desired]:
    """Per hazard with data: the level of every covered community at ``now``."""
    rules = rules_mod.load_rules(session)
    by_hazard = engine.hazard_rules(rules)
    if not by_hazard:
        return {}
    span = max(r.window_hours for r in rules) + 24  # days_max looks back whole days
    comm = load_communities(session)
    rows = session.scalars(select(WeatherGrid).where(
        WeatherGrid.valid_time > now - span * HOUR, WeatherGrid.valid_time <= now + span * HOUR,
        WeatherGrid.available_at <= now).order_by(WeatherGrid.valid_time)).all()
    by_geom: dict[str, list[WeatherGrid]] = {}
    for r in rows:
        by_geom.setdefault(r.geometry_key, []).append(r)
    n = len(comm.codes)
    best: dict[Hazard, tuple[np.ndarray, np.ndarray, dict[int, str]]] = {}
    stacks: dict[Hazard, np.ndarray] = {}    # ensemble: members × communities level ranks
    observed: dict[Hazard, np.ndarray] = {}  # ranks met by the hours up to ``now`` alone
    for rows_g in by_geom.values():
        first = rows_g[0]
        spec = GridSpec(first.crs, tuple(first.transform) if first.transform else None,
                        first.width, first.height,
                        tuple(first.point_codes) if first.point_codes is not None else None)
        index = engine.LABELS.get(spec, comm.fingerprint, comm.polygons, comm.points, comm.codes)
        series: dict[str, engine.Series] = {}
        for r in rows_g:
            series.setdefault(r.variable, engine.Series({}, index.size)).hours[r.valid_time] = \
                _compact(r, index)
        series, members = ensemble.split(series)
        if members:
            for hazard, stack in ensemble.member_ranks(by_hazard, members, index, now).items():
                prev = stacks.get(hazard)
                stacks[hazard] = stack if prev is None or prev.shape != stack.shape \
                    else np.maximum(prev, stack)
        for res in engine.evaluate_grid(by_hazard, ensemble.observed_only(series, now), index, now):
            prev = observed.get(res.hazard)
            observed[res.hazard] = res.ranks if prev is None else np.maximum(prev, res.ranks)
        for res in engine.evaluate_grid(by_hazard, series, index, now):
            if res.hazard not in best:
                best[res.hazard] = (res.ranks.copy(), res.peaks.copy(), dict(res.metrics))
                continue
            ranks, peaks, metrics = best[res.hazard]
            higher = res.ranks > ranks
            ranks[higher] = res.ranks[higher]
            peaks[higher] = res.peaks[higher]
            metrics.update(res.metrics)
    upstream = _upstream_levels(session, now, comm.codes)
    matrices = impact_matrix.enabled(session)
    exposure: list = []  # risk and population, computed once if a matrix needs them
    out: dict[Hazard, alerts_mod.Desired] = {}
    for hazard in set(best) | set(upstream) | set(stacks):
        ranks, peaks, metrics = best.get(hazard, (np.full(n, -1, np.int16), np.full(n, np.nan), {}))
        stack = stacks.get(hazard)
        if stack is not None:
            # Where no deterministic forecast covers a community the members decide its level.
            alone = ranks < 0
            ranks[alone] = ensemble.level_from_members(stack)[alone]
        seen = observed.get(hazard)
        labels: dict[str, tuple[str, str]] = {}
        cfg = matrices.get(hazard)
        trigger_share = None
        if cfg is not None:
            ranks, labels, trigger_share = _matrix_levels(session, cfg, ranks, stack, seen,
                                                          comm.codes, exposure)
        up = upstream.get(hazard)
        if up is not None:
            ranks = np.maximum(ranks, up)  # upstream evaluated everywhere (0 where not warned)
        # On a matrix the level is no criterion of its own: the members' share meeting the
        # trigger is the probability; otherwise the share meeting the level itself.
        share = trigger_share if cfg is not None else \
            ensemble.probability_of(stack, ranks) if stack is not None else None
        levels: dict[str, WarningLevel | None] = {}
        peak_out: dict[str, float | None] = {}
        metric_out: dict[str, str | None] = {}
        prob_out: dict[str, float | None] = {}
        observed_out: dict[str, bool] = {}
        for i in np.flatnonzero(ranks >= 0):
            code = comm.codes[i]
            levels[code] = alerts_mod.rank_to_level(int(ranks[i]))
            p = peaks[i]
            peak_out[code] = None if not np.isfinite(p) else float(p)
            metric_out[code] = metrics.get(int(ranks[i]))
            if share is not None and np.isfinite(share[i]):
                prob_out[code] = round(float(share[i]), 4)
            if seen is not None and ranks[i] > 0 and seen[i] >= ranks[i]:
                observed_out[code] = True
        out[hazard] = alerts_mod.Desired(levels, peak_out, metric_out, prob_out, observed_out,
                                         {c: lb for c, lb in labels.items() if c in levels})
    return out


def _matrix_levels(session: Session, cfg: dict, ranks: np.ndarray, stack: np.ndarray | None,
                   seen: np.ndarray | None, codes: list[str], exposure: list
                   ) -> tuple[np.ndarray, dict[str, tuple[str, str]], np.ndarray | None]:
    """Levels from the hazard's likelihood × impact matrix (disaster.warnings.impact_matrix),
    the (likelihood, impact) of each community and the members' share meeting the trigger."""
    if not exposure:
        exposure.extend(impact_matrix.community_exposure(session, codes))
    trigger = WarningLevel(cfg["trigger"]).rank
    share = ensemble.probability_of(stack, np.full(ranks.size, trigger, np.int16)) \
        if stack is not None else None
    levels, labels = impact_matrix.classify(cfg, ranks, share, seen, *exposure)
    if share is not None:
        share = np.where(levels > 0, share, np.nan)
    return levels, {codes[i]: lb for i, lb in enumerate(labels) if lb is not None}, share


def _upstream_levels(session: Session, now: dt.datetime, codes: list[str]) -> dict[Hazard, np.ndarray]:
    """Rank per community from upstream CAP alerts in force at ``now``."""
    rows = session.scalars(select(UpstreamAlert).where(
        UpstreamAlert.sent <= now, UpstreamAlert.hazard.is_not(None),
        or_(UpstreamAlert.expires.is_(None), UpstreamAlert.expires > now - dt.timedelta(days=2)))).all()
    if not rows:
        return {}
    where = {c: i for i, c in enumerate(codes)}
    out: dict[Hazard, np.ndarray] = {}
    for a in rows:
        hazard = Hazard(a.hazard)
        arr = out.setdefault(hazard, np.zeros(len(codes), dtype=np.int16))
        if a.status != "active" or a.level is None or (a.expires is not None and a.expires <= now):
            continue
        rank = WarningLevel(a.level).rank
        for c in a.communities:
            if c in where:
                arr[where[c]] = max(arr[where[c]], rank)
    return out


def evaluate(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Expire old messages, release overdue approvals, evaluate and apply; returns counts."""
    now = now or utcnow()
    rules_mod.ensure_defaults(session)
    alerts_mod.expire_alerts(session, now)
    alerts_mod.release_due(session, now)
    desired = compute_levels(session, now)
    return alerts_mod.apply_levels(session, desired, now)


def ingest_and_evaluate(session: Session, provider: str, source: str, *,
                        now: dt.datetime | None = None, replay: bool = False,
                        options: dict | None = None) -> tuple[IngestReport, dict[str, int]]:
    """``weather ingest``: ingest, then evaluate at ``now`` — or with ``replay`` at the end
    of each newly ingested hour, in order, as the scheduler would have when it arrived."""
    now = now or utcnow()
    report = ingest(session, provider, source, now=now, replay=replay, options=options)
    totals = {"issued": 0, "updated": 0, "cancelled": 0}
    times = report.new_hours if replay else [now]
    for t in times:
        counts = evaluate(session, t)
        for k in totals:
            totals[k] += counts[k]
    return report, totals
