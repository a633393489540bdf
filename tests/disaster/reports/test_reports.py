"""Filing reports: validation by field, one 初报, cumulative 续报, 核报 closes, idempotency,
scope, photos without metadata."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import select

from disaster.audit import AuditEntry
from disaster.errors import (
    DisasterConflict,
    DisasterPermissionDenied,
    DisasterValidationError,
)
from disaster.events import DisasterEvent, create_event
from disaster.reports.latest import latest_figures
from disaster.reports.models import Report, ReportPhoto
from disaster.reports.services import list_reports, submit_report

NOW = dt.datetime(2026, 7, 10, 2, 0, tzinfo=dt.UTC)


def payload(community: str, kind: str = "initial", **figures) -> dict:
    return {"community": community, "kind": kind, "hazard": "rainstorm",
            "occurred_at": "2026-07-10T08:30:00+08:00", **figures}


def test_zero_report_is_a_report(session, region):
    report, replayed = submit_report(session, region.officer, payload(region.communities[0]),
                                     now=NOW)
    assert not replayed
    assert report.affected_people == 0 and report.kind.value == "initial"
    assert report.is_latest


@pytest.mark.parametrize(("figures", "field"), [
    ({"affected_people": -1}, "affected_people"),
    ({"affected_people": 10, "dead": 6, "missing": 5}, "dead"),
    ({"affected_people": 10, "dead": 6, "missing": 5}, "missing"),
    ({"affected_people": 10, "evacuated": 11}, "evacuated"),
    ({"affected_people": 10, "needing_aid": 11}, "needing_aid"),
    ({"crop_affected_ha": 5, "crop_damaged_ha": 6}, "crop_damaged_ha"),
    ({"crop_affected_ha": 9, "crop_damaged_ha": 6, "crop_lost_ha": 7}, "crop_lost_ha"),
    ({"collapsed_households": 3, "collapsed_rooms": 2}, "collapsed_rooms"),
    ({"severely_damaged_households": 3, "severely_damaged_rooms": 1}, "severely_damaged_rooms"),
    ({"generally_damaged_households": 1}, "generally_damaged_rooms"),
    ({"dead": 1.5, "affected_people": 5}, "dead"),
    ({"affected_people": "many"}, "affected_people"),
    ({"occurred_at": "2026-07-10T12:00:00+08:00"}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"kind": "draft"}, "kind"),
    ({"hazard": "meteor"}, "hazard"),
    ({"location": {"type": "Point", "coordinates": [118.5, 33.6]}}, "location"),
    ({"location": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}, "location"),
])
def test_invalid_figures_are_refused_naming_the_field(session, region, figures, field):
    data = payload(region.communities[0]) | figures
    with pytest.raises(DisasterValidationError) as err:
        submit_report(session, region.officer, data, now=NOW)
    assert field in err.value.fields
    assert err.value.status == 422
    assert session.scalar(select(Report.id)) is None


def test_unknown_community_is_refused(session, region):
    with pytest.raises(DisasterValidationError) as err:
        submit_report(session, region.officer, payload("341302001999"), now=NOW)
    assert "community" in err.value.fields


def test_location_inside_the_community_is_accepted(session, region):
    # Communities are 0.01° squares from (117.01, 33.60): the first one's interior.
    data = payload(region.communities[0],
                   location={"type": "Point", "coordinates": [117.015, 33.605]})
    report, _ = submit_report(session, region.officer, data, now=NOW)
    assert report.location is not None


def test_officer_cannot_report_for_another_community(session, region):
    with pytest.raises(DisasterPermissionDenied):
        submit_report(session, region.officer, payload(region.communities[4]), now=NOW)
    assert session.scalar(select(Report.id)) is None


def test_one_initial_per_event_and_community(session, region):
    submit_report(session, region.officer, payload(region.communities[0]), now=NOW)
    with pytest.raises(DisasterConflict) as err:
        submit_report(session, region.officer, payload(region.communities[0]), now=NOW)
    assert "kind" in err.value.fields


def test_update_without_initial_is_refused(session, region):
    create_event(session, region.duty, hazard="rainstorm",
                 started_at=NOW - dt.timedelta(hours=3))
    with pytest.raises(DisasterConflict):
        submit_report(session, region.officer, payload(region.communities[0], "update"),
                      now=NOW)


def test_updates_replace_figures_and_final_closes(session, region):
    code = region.communities[0]
    submit_report(session, region.officer, payload(code, affected_people=100, dead=1), now=NOW)
    submit_report(session, region.officer, payload(code, "update", affected_people=150, dead=2),
                  now=NOW + dt.timedelta(hours=1))
    figures = latest_figures(session)[code]
    assert figures["affected_people"] == 150 and figures["dead"] == 2  # replaced, not added
    submit_report(session, region.officer, payload(code, "final", affected_people=160, dead=2),
                  now=NOW + dt.timedelta(hours=2))
    assert session.query(Report).filter(Report.is_latest.is_(True)).count() == 1
    with pytest.raises(DisasterConflict):
        submit_report(session, region.officer, payload(code, "update", affected_people=170),
                      now=NOW + dt.timedelta(hours=3))


def test_initial_without_event_opens_one_for_the_county(session, region):
    report, _ = submit_report(session, region.officer, payload(region.communities[0]), now=NOW)
    event = session.get(DisasterEvent, report.event_id)
    assert event.source == "report" and event.area_codes == ["341302"]
    # The next community's 初报 joins the same event.
    other, _ = submit_report(session, region.officer, payload(region.communities[1]), now=NOW)
    assert other.event_id == event.id


def test_idempotency_key_replay_returns_the_first_result(session, region):
    data = payload(region.communities[0], affected_people=5)
    first, replayed = submit_report(session, region.officer, data, idempotency_key="k-1", now=NOW)
    again, replayed_again = submit_report(session, region.officer, data, idempotency_key="k-1",
                                          now=NOW)
    assert not replayed and replayed_again and again.id == first.id
    assert session.query(Report).count() == 1


def test_idempotency_key_of_another_user_is_a_conflict(session, region):
    submit_report(session, region.officer, payload(region.communities[0]), idempotency_key="k-2",
                  now=NOW)
    with pytest.raises(DisasterConflict):
        submit_report(session, region.duty, payload(region.communities[0]),
                      idempotency_key="k-2", now=NOW)


def test_every_report_is_audited(session, region):
    report, _ = submit_report(session, region.officer, payload(region.communities[0]), now=NOW)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "report.initial"))
    assert entry.entity_id == str(report.id) and entry.actor_name == "officer"


def test_officer_reads_only_reports_of_own_communities(session, region):
    submit_report(session, region.officer, payload(region.communities[0]), now=NOW)
    submit_report(session, region.duty, payload(region.communities[4]), now=NOW)
    mine = list_reports(session, region.officer)
    assert [r["community"] for r in mine] == [region.communities[0]]
    assert len(list_reports(session, region.duty)) == 2
    with pytest.raises(DisasterPermissionDenied):
        list_reports(session, region.officer, community=region.communities[4])


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"            # Make
    exif[0x8825] = {2: (33.0, 36.0, 0.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_stored_without_metadata(session, region):
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif()  # the upload does carry EXIF
    report, _ = submit_report(session, region.officer, payload(region.communities[0]),
                              photos=[raw], now=NOW)
    photo = session.scalar(select(ReportPhoto).where(ReportPhoto.report_id == report.id))
    stored = Image.open(io.BytesIO(photo.data))
    assert photo.content_type == "image/jpeg" and stored.size == (64, 48)
    assert not stored.getexif() and "exif" not in stored.info


def test_photo_that_is_not_jpeg_or_png_is_refused(session, region):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    with pytest.raises(DisasterValidationError) as err:
        submit_report(session, region.officer, payload(region.communities[0]),
                      photos=[out.getvalue()], now=NOW)
    assert "photos[0]" in err.value.fields
    assert session.scalar(select(Report.id)) is None
