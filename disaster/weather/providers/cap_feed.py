"""``cap-feed``: upstream CAP 1.2 alerts (an Atom feed, a folder of XML files, or one file),
mapped onto communities by polygon, circle or GB/T 2260 geocode.

A community is in an alert's area when its representative point lies in one of the area's
polygons or circles, or its code starts with one of the area's administrative geocodes.
Each document is checked for the elements CAP 1.2 requires (DESIGN.md §4.2); an invalid one
is an error naming it and is skipped, the others still go in.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.functions import ST_AsBinary
from shapely.geometry import Polygon
from sqlalchemy import select

from disaster.communities import Community
from disaster.weather.batch import Batch, FetchContext, UpstreamItem
from disaster.weather.errors import IngestError
from gis.geometry import project_utm

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
STATUS = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPES = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPES = {"Public", "Restricted", "Private"}
HAZARD_WORDS = [("暴雨", "rainstorm"), ("暴雪", "snowstorm"), ("寒潮", "cold_wave"),
                ("大风", "gale"), ("高温", "heat"), ("霜冻", "frost"), ("大雾", "fog"),
                ("台风", "typhoon"), ("rainstorm", "rainstorm"), ("heavy rain", "rainstorm"),
                ("snow", "snowstorm"), ("cold", "cold_wave"), ("gale", "gale"), ("wind", "gale"),
                ("heat", "heat"), ("frost", "frost"), ("fog", "fog"), ("typhoon", "typhoon")]
LEVEL_WORDS = [("红色", "red"), ("橙色", "orange"), ("黄色", "yellow"), ("蓝色", "blue"),
               ("red", "red"), ("orange", "orange"), ("yellow", "yellow"), ("blue", "blue")]
SEVERITY = {"Extreme": "red", "Severe": "orange", "Moderate": "yellow", "Minor": "blue"}


def _parse_xml(data: bytes, name: str) -> ET.Element:
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise IngestError(f"{name}: DOCTYPE/ENTITY declarations are refused", source=name)
    try:
        return ET.fromstring(data)  # noqa: S314 - entity declarations refused above
    except ET.ParseError as exc:
        raise IngestError(f"{name}: not well-formed XML ({exc})", source=name) from exc


def _time(text: str | None, name: str, field: str) -> dt.datetime:
    if not text:
        raise IngestError(f"{name}: missing {field}", source=name)
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IngestError(f"{name}: {field} {text!r} is not a CAP dateTime", source=name) from None
    if value.tzinfo is None:
        raise IngestError(f"{name}: {field} {text!r} has no time zone", source=name)
    return value.astimezone(dt.UTC)


class CapFeedProvider:
    name = "cap-feed"

    def fetch(self, source: str, ctx: FetchContext) -> Batch:
        batch = Batch(source=source)
        docs: list[tuple[str, bytes]] = []
        try:
            if source.startswith(("http://", "https://")):
                docs = self._from_feed(source, self._get(source), batch)
            else:
                path = Path(source)
                if path.is_dir():
                    docs = [(str(p), p.read_bytes()) for p in sorted(path.glob("*.xml"))]
                    for p in sorted(path.glob("*.atom")):
                        docs += self._from_feed(str(p), p.read_bytes(), batch)
                elif path.is_file():
                    data = path.read_bytes()
                    root = _parse_xml(data, str(path))
                    docs = self._from_feed(str(path), data, batch) if root.tag == f"{ATOM}feed" \
                        else [(str(path), data)]
                else:
                    raise IngestError(f"{source}: no such file or folder", source=source)
        except IngestError as exc:
            batch.errors.append(exc)
            return batch
        areas = _community_index(ctx)
        for name, data in docs:
            try:
                batch.alerts.append(self.parse(name, data, areas))
            except IngestError as exc:
                batch.errors.append(exc)
        return batch

    def _get(self, url: str) -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - configured URL
                return resp.read()
        except OSError as exc:
            raise IngestError(f"{url}: {exc}", source=url) from exc

    def _from_feed(self, name: str, data: bytes, batch: Batch) -> list[tuple[str, bytes]]:
        root = _parse_xml(data, name)
        out = []
        for k, entry in enumerate(root.iter(f"{ATOM}entry")):
            inline = entry.find(f"{ATOM}content/{CAP}alert")
            if inline is not None:
                out.append((f"{name}#entry{k + 1}", ET.tostring(inline)))
                continue
            link = next((lk.get("href") for lk in entry.iter(f"{ATOM}link")
                         if "cap" in (lk.get("type") or "") or lk.get("href", "").endswith(".xml")), None)
            if not link:
                batch.errors.append(IngestError(f"{name}: entry {k + 1} has no CAP link", source=name))
                continue
            if link.startswith(("http://", "https://")):
                try:
                    out.append((link, self._get(link)))
                except IngestError as exc:
                    batch.errors.append(exc)
            else:
                target = Path(name).parent / link
                if target.is_file():
                    out.append((str(target), target.read_bytes()))
                else:
                    batch.errors.append(IngestError(f"{name}: entry {k + 1} links to missing {link}",
                                                    source=name))
        return out

    def parse(self, name: str, data: bytes, areas: _Areas) -> UpstreamItem:
        """One CAP document → an upstream alert with its communities (or IngestError)."""
        root = _parse_xml(data, name)
        if root.tag != f"{CAP}alert":
            raise IngestError(f"{name}: root element is not a CAP 1.2 alert", source=name)

        def text(el: ET.Element, tag: str) -> str | None:
            child = el.find(f"{CAP}{tag}")
            return child.text.strip() if child is not None and child.text else None

        problems = [t for t in ("identifier", "sender", "sent", "status", "msgType", "scope")
                    if not text(root, t)]
        if problems:
            raise IngestError(f"{name}: invalid CAP, missing {', '.join(problems)}", source=name)
        if text(root, "status") not in STATUS or text(root, "msgType") not in MSG_TYPES \
                or text(root, "scope") not in SCOPES:
            raise IngestError(f"{name}: invalid CAP status, msgType or scope", source=name)
        sent = _time(text(root, "sent"), name, "sent")
        info = root.find(f"{CAP}info")
        hazard = level = None
        expires = None
        codes: set[str] = set()
        if info is not None:
            missing = [t for t in ("category", "event", "urgency", "severity", "certainty")
                       if not text(info, t)]
            if missing:
                raise IngestError(f"{name}: invalid CAP info, missing {', '.join(missing)}",
                                  source=name)
            words = " ".join(filter(None, [text(info, "event"), text(info, "headline")]))
            hazard = next((h for w, h in HAZARD_WORDS if w in words.lower() or w in words), None)
            level = next((lv for w, lv in LEVEL_WORDS if w in words.lower() or w in words),
                         SEVERITY.get(text(info, "severity") or ""))
            if text(info, "expires"):
                expires = _time(text(info, "expires"), name, "expires")
            for area in info.iter(f"{CAP}area"):
                codes |= areas.match(area, name)
        refs = (text(root, "references") or "").split()
        return UpstreamItem(sender=text(root, "sender") or "", identifier=text(root, "identifier") or "",
                            sent=sent, msg_type=text(root, "msgType") or "", hazard=hazard,
                            level=level, expires=expires, communities=sorted(codes),
                            references=refs, source_name=name)


class _Areas:
    def __init__(self, codes: list[str], points: np.ndarray) -> None:
        self.codes = codes
        self.points = points
        self.tree = shapely.STRtree(points) if len(points) else None

    def match(self, area: ET.Element, name: str) -> set[str]:
        out: set[str] = set()
        for poly in area.iter(f"{CAP}polygon"):
            try:
                pairs = [tuple(map(float, p.split(","))) for p in (poly.text or "").split()]
                shape = Polygon([(lon, lat) for lat, lon in pairs])
            except (ValueError, TypeError) as exc:
                raise IngestError(f"{name}: bad polygon ({exc})", source=name) from exc
            if len(pairs) < 4 or not shape.is_valid:
                raise IngestError(f"{name}: polygon needs ≥4 closed lat,lon pairs", source=name)
            out |= self._inside(shape)
        for circle in area.iter(f"{CAP}circle"):
            m = re.match(r"^\s*(-?[\d.]+),(-?[\d.]+)\s+([\d.]+)\s*$", circle.text or "")
            if not m:
                raise IngestError(f"{name}: bad circle {circle.text!r}", source=name)
            lat, lon, radius_km = map(float, m.groups())
            out |= self._within_km(lon, lat, radius_km)
        for geo in area.iter(f"{CAP}geocode"):
            value = (geo.findtext(f"{CAP}value") or "").strip()
            if re.fullmatch(r"\d{6}|\d{9}|\d{12}", value):
                # GB/T 2260: 340000 a province, 341300 a city (covers 3413xx), 341302 a county
                prefix = value
                if len(value) == 6 and value[2:] == "0000":
                    prefix = value[:2]
                elif len(value) == 6 and value[4:] == "00":
                    prefix = value[:4]
                out |= {c for c in self.codes if c.startswith(prefix)}
        return out

    def _inside(self, shape: Polygon) -> set[str]:
        if self.tree is None:
            return set()
        hits = self.tree.query(shape, predicate="contains")
        return {self.codes[i] for i in hits}

    def _within_km(self, lon: float, lat: float, km: float) -> set[str]:
        if not len(self.points):
            return set()
        x, y = project_utm(shapely.get_x(self.points), shapely.get_y(self.points))
        cx, cy = project_utm(np.array([lon]), np.array([lat]))
        d = np.hypot(np.asarray(x) - cx[0], np.asarray(y) - cy[0]) / 1000.0
        return {self.codes[i] for i in np.flatnonzero(d <= km)}


def _community_index(ctx: FetchContext) -> _Areas:
    rows = ctx.session.execute(select(Community.code, ST_AsBinary(Community.point))
                               .order_by(Community.code)).all()
    rows = [(c, p) for c, p in rows if p is not None]
    pts = shapely.from_wkb([bytes(p) for _, p in rows]) if rows else np.array([], dtype=object)
    return _Areas([c for c, _ in rows], np.asarray(pts, dtype=object) if rows else np.array([], dtype=object))

