"""Inline SVG for the printable situation report: a map and a timeline chart, no CDN, no JS.

Printed reports must work offline and look the same on paper: both figures are generated on
the server as plain SVG with escaped text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from markupsafe import Markup, escape
from shapely.geometry.base import BaseGeometry

LEVEL_COLOURS = {"blue": "#1e6fd9", "yellow": "#f2c200", "orange": "#f27f0c", "red": "#d7191c"}
REPORT_COLOURS = {"initial": "#4d4d4d", "update": "#7f7f7f", "final": "#b0b0b0"}
# Affected-people classes of the map: upper bounds and fills (white → dark red).
IMPACT_BREAKS = (0, 100, 1000, 5000)
IMPACT_FILLS = ("#f4f4f4", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000")


def impact_class(affected: np.ndarray) -> np.ndarray:
    """0 for none, 1..4 for the classes bounded by :data:`IMPACT_BREAKS`."""
    return np.searchsorted(np.asarray(IMPACT_BREAKS), np.asarray(affected), side="left")


class _Projection:
    """Equirectangular at the map's mean latitude: fine at city scale and for print."""

    def __init__(self, bounds: Sequence[float], width: float) -> None:
        minx, miny, maxx, maxy = bounds
        self.minx, self.maxy = minx, maxy
        self.kx = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * self.kx, 1e-9)
        self.scale = width / span_x
        self.height = (maxy - miny) * self.scale

    def path(self, geom: BaseGeometry) -> str:
        parts = []
        for poly in getattr(geom, "geoms", [geom]):
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                if len(xy) < 3:
                    continue
                px = (xy[:, 0] - self.minx) * self.kx * self.scale
                py = (self.maxy - xy[:, 1]) * self.scale
                pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True))
                parts.append(f"M{pts}Z")
        return "".join(parts)


def map_svg(community_geoms: np.ndarray, affected: np.ndarray, silent: np.ndarray,
            outlines: Sequence[BaseGeometry] = (), labels: Sequence[tuple[str, BaseGeometry]] = (),
            width: int = 640, legend: Sequence[str] = ()) -> Markup:
    """Communities coloured by affected people, silent ones outlined, county outlines on top.

    Parameters
    ----------
    community_geoms, affected, silent
        Polygons, affected people (modelled or reported, the larger) and the silent flag.
    outlines, labels
        County outlines, and (name, geometry) pairs labelled at their representative points.
    legend
        Five labels for the impact classes (translated by the caller).
    """
    present = np.array([g is not None and not g.is_empty for g in community_geoms], dtype=bool)
    if not present.any():
        return Markup("")
    geoms = community_geoms[present]
    proj = _Projection(shapely.total_bounds(geoms), width)
    tolerance = 0.6 / proj.scale  # about half a pixel
    simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
    classes = impact_class(affected[present])
    height = int(proj.height) + 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sitrep-map" viewBox="0 0 {width} '
           f'{height + 70}" width="100%" role="img">']
    for cls in range(len(IMPACT_FILLS)):
        d = "".join(proj.path(g) for g in simplified[classes == cls])
        if d:
            out.append(f'<path d="{d}" fill="{IMPACT_FILLS[cls]}" stroke="#9a9a9a" '
                       f'stroke-width="0.3"/>')
    silent_d = "".join(proj.path(g) for g in simplified[silent[present]])
    if silent_d:
        out.append(f'<path d="{silent_d}" fill="none" stroke="#000" stroke-width="1.4" '
                   f'stroke-dasharray="3 2"/>')
    for outline in outlines:
        if outline is not None:
            out.append(f'<path d="{proj.path(shapely.simplify(outline, tolerance))}" fill="none" '
                       f'stroke="#222" stroke-width="1.2"/>')
    for name, geom in labels:
        if geom is None:
            continue
        p = geom.representative_point()
        x = (p.x - proj.minx) * proj.kx * proj.scale
        y = (proj.maxy - p.y) * proj.scale
        out.append(f'<text x="{x:.0f}" y="{y:.0f}" font-size="12" text-anchor="middle" '
                   f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(name)}</text>')
    for i, text in enumerate(legend[: len(IMPACT_FILLS)]):
        x = 10 + i * (width - 20) / len(IMPACT_FILLS)
        out.append(f'<rect x="{x:.0f}" y="{height + 20}" width="16" height="12" '
                   f'fill="{IMPACT_FILLS[i]}" stroke="#777"/>'
                   f'<text x="{x + 20:.0f}" y="{height + 31}" font-size="11">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()


def timeline_svg(data: dict, width: int = 640, height: int = 220,
                 titles: dict[str, str] | None = None) -> Markup:
    """Stacked bars of warnings issued per bucket (by level) beside reports filed (by kind)."""
    labels: list[str] = data.get("labels", [])
    n = len(labels)
    if n == 0:
        return Markup("")
    titles = titles or {}
    warnings = {k: np.asarray(v) for k, v in data.get("warnings", {}).items()}
    reports = {k: np.asarray(v) for k, v in data.get("reports", {}).items()}
    w_total = sum(warnings.values(), np.zeros(n))
    r_total = sum(reports.values(), np.zeros(n))
    top = max(1.0, float(max(w_total.max(initial=0), r_total.max(initial=0))))
    left, plot_h = 36, height - 70
    slot = (width - left - 10) / n
    bar = max(1.0, slot * 0.4)

    def y(v: float) -> float:
        return 10 + plot_h * (1 - v / top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sitrep-chart" viewBox="0 0 {width} '
           f'{height}" width="100%" role="img">',
           f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" stroke="#333"/>']
    for tick in (0, top / 2, top):
        out.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" '
                   f'text-anchor="end">{tick:.0f}</text>')
    for series, colours, offset in ((warnings, LEVEL_COLOURS, 0.08), (reports, REPORT_COLOURS, 0.52)):
        base = np.zeros(n)
        for key, colour in colours.items():
            values = series.get(key)
            if values is None:
                continue
            for i in np.flatnonzero(values):
                x = left + i * slot + slot * offset
                out.append(f'<rect x="{x:.1f}" y="{y(base[i] + values[i]):.1f}" width="{bar:.1f}" '
                           f'height="{y(base[i]) - y(base[i] + values[i]):.1f}" fill="{colour}">'
                           f'<title>{escape(labels[i])} {escape(titles.get(key, key))}: '
                           f'{int(values[i])}</title></rect>')
            base = base + values
    every = max(1, math.ceil(n / 8))
    for i in range(0, n, every):
        out.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{10 + plot_h + 16}" '
                   f'font-size="10" text-anchor="middle">{escape(labels[i])}</text>')
    legend_items = [(titles.get(k, k), c) for k, c in LEVEL_COLOURS.items() if k in warnings]
    legend_items += [(titles.get(k, k), c) for k, c in REPORT_COLOURS.items() if k in reports]
    for j, (text, colour) in enumerate(legend_items):
        x = left + j * 90
        out.append(f'<rect x="{x}" y="{height - 22}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{x + 14}" y="{height - 13}" font-size="10">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text above went through escape()
