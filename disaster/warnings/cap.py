"""CAP 1.2 XML for our alert messages and an Atom feed of them (DESIGN.md §4.2).

Each message carries one ``info`` (zh-CN) and one ``area`` per community with its
simplified polygon ("lat,lon" pairs, closed) and its codes as ``geocode``: the 12-digit
statistical code and the county's GB/T 2260 code.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

import shapely
from geoalchemy2.functions import ST_AsBinary
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from disaster.communities import Community
from disaster.warnings import certainty as certainty_mod
from disaster.warnings.levels import HAZARD_NAMES_ZH, LEVEL_NAMES_ZH, WarningLevel
from disaster.warnings.models import Alert, MsgType

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM = "http://www.w3.org/2005/Atom"
BEIJING = dt.timezone(dt.timedelta(hours=8))
# Simplification tolerance in degrees (≈100 m): CAP polygons are for display and matching.
TOLERANCE = 0.001
_URGENCY = {WarningLevel.BLUE: "Future", WarningLevel.YELLOW: "Expected",
            WarningLevel.ORANGE: "Immediate", WarningLevel.RED: "Immediate"}
_EVENT_CODE = {"rainstorm": "11B03", "snowstorm": "11B04", "cold_wave": "11B05",
               "gale": "11B06", "heat": "11B09", "frost": "11B16", "fog": "11B17",
               "typhoon": "11B01"}  # GB/T 35965.1 appendix codes of 气象灾害 events


def cap_time(value: dt.datetime) -> str:
    """CAP dateTime: seconds precision with an explicit offset, shown in Beijing time."""
    return value.astimezone(BEIJING).replace(microsecond=0).isoformat()


def polygon_text(geom: Polygon | MultiPolygon) -> str | None:
    """The largest part's exterior, simplified, as closed space-separated "lat,lon" pairs."""
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    simple = shapely.simplify(geom, TOLERANCE, preserve_topology=True)
    if simple.is_empty or not isinstance(simple, Polygon):
        simple = geom
    coords = list(simple.exterior.coords)
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    if len(coords) < 4:
        return None
    return " ".join(f"{y:.5f},{x:.5f}" for x, y in coords)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def community_areas(session: Session, codes: Sequence[str]) -> dict[str, tuple[str, str, object]]:
    """``{code: (name, county_code, geometry)}`` for the given communities."""
    out = {}
    codes = list(codes)
    for i in range(0, len(codes), 500):
        for code, name, county, wkb in session.execute(select(
                Community.code, Community.name, Community.county_code,
                ST_AsBinary(Community.geom)).where(Community.code.in_(codes[i:i + 500]))):
            out[code] = (name, county, shapely.from_wkb(bytes(wkb)) if wkb is not None else None)
    return out


def build_cap(alert: Alert, areas: dict[str, tuple[str, str, object]],
              referenced: Iterable[Alert], certainty: str | None = None) -> bytes:
    """The CAP 1.2 document of one message (``certainty``: see disaster.warnings.certainty)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_time(alert.sent))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", alert.msg_type.value)
    _sub(root, "scope", "Public")
    refs = list(referenced)
    if refs:
        _sub(root, "references", " ".join(f"{r.sender},{r.identifier},{cap_time(r.sent)}"
                                          for r in refs))
    info = _sub(root, "info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", "Met")
    _sub(info, "event", f"{HAZARD_NAMES_ZH[alert.hazard]}{LEVEL_NAMES_ZH[alert.level]}预警")
    cancel = alert.msg_type == MsgType.CANCEL
    _sub(info, "responseType", "AllClear" if cancel else "Prepare")
    _sub(info, "urgency", "Past" if cancel else _URGENCY[alert.level])
    _sub(info, "severity", alert.level.cap_severity)
    _sub(info, "certainty", "Observed" if cancel else (certainty or "Likely"))
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "GB/T 35965.1")
    _sub(code, "value", _EVENT_CODE.get(alert.hazard.value, "11B00"))
    _sub(info, "effective", cap_time(alert.sent))
    _sub(info, "expires", cap_time(alert.expires))
    _sub(info, "senderName", "应急管理局预警信息发布系统")
    _sub(info, "headline", alert.headline)
    _sub(info, "description", alert.description)
    if not cancel:
        _sub(info, "instruction", "信息员请立即叫应（确认收到），组织巡查和转移准备。")
    for name, value in (("hazard", alert.hazard.value), ("level", alert.level.value),
                        ("metric", alert.metric)):
        if value:
            p = _sub(info, "parameter")
            _sub(p, "valueName", name)
            _sub(p, "value", value)
    for c in alert.communities:
        name, county, geom = areas.get(c, (c, alert.county_code, None))
        area = _sub(info, "area")
        _sub(area, "areaDesc", name)
        poly = polygon_text(geom) if geom is not None else None  # type: ignore[arg-type]
        if poly:
            _sub(area, "polygon", poly)
        g = _sub(area, "geocode")
        _sub(g, "valueName", "统计用区划代码")
        _sub(g, "value", c)
        g = _sub(area, "geocode")
        _sub(g, "valueName", "GB/T 2260")
        _sub(g, "value", county)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def alert_xml(session: Session, alert: Alert) -> bytes:
    """CAP XML of a stored message (areas and references looked up)."""
    refs = []
    if alert.references:
        by_id = {a.identifier: a for a in session.scalars(
            select(Alert).where(Alert.identifier.in_(alert.references)))}
        refs = [by_id[i] for i in alert.references if i in by_id]
    return build_cap(alert, community_areas(session, alert.communities), refs,
                     certainty_mod.of_alert(session, alert.id))


def atom_feed(session: Session, alerts: Sequence[Alert], base_url: str) -> bytes:
    """An Atom feed of ``alerts`` linking each entry to its CAP document."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    base = base_url.rstrip("/")
    sub(feed, "id", f"{base}/api/v1/alerts/feed.atom")
    sub(feed, "title", "预警信息 (CAP 1.2)")
    updated = max((a.sent for a in alerts), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    sub(feed, "updated", cap_time(updated))
    sub(feed, "link", href=f"{base}/api/v1/alerts/feed.atom", rel="self")
    for a in alerts:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:cap:{a.sender}:{a.identifier}")
        sub(entry, "title", a.headline)
        sub(entry, "updated", cap_time(a.sent))
        author = sub(entry, "author")
        sub(author, "name", a.sender)
        sub(entry, "summary", a.description)
        sub(entry, "link", href=f"{base}/api/v1/alerts/{a.id}.xml", rel="alternate",
            type="application/cap+xml")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
