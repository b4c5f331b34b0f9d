"""Deliverables: uploaded by the agency through the core's checked uploads, kept apart
from work logs, visible to the commissioning party and to no other agency or department."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from core.extensions import db
from core.models import Attachment
from tests.conftest import csrf_from

KIND = "engagement_deliverable"


def _deliverables(app, eng_id: int) -> list[Attachment]:
    with app.app_context():
        rows = list(db.session.scalars(select(Attachment).where(
            Attachment.object_type == KIND, Attachment.object_id == eng_id)))
        db.session.expunge_all()
        return rows


def _upload(client, eng_id: int, content: bytes, name: str, token: str | None = None):
    token = token or csrf_from(client.get(f"/portal/engagements/{eng_id}").text)
    return client.post(f"/portal/engagements/{eng_id}/deliverables", data={
        "csrf_token": token, "deliverable": (io.BytesIO(content), name)},
        content_type="multipart/form-data", follow_redirects=True)


def test_agency_uploads_a_deliverable_the_commissioning_party_sees(app, login, world):
    eng = world.engagement_ids[0]
    agency = login("agency01")
    r = _upload(agency, eng, b"%PDF-1.4 final report", "评价报告.pdf")
    assert r.status_code == 200 and "评价报告.pdf" in r.text
    [file] = _deliverables(app, eng)
    # a deliverable is not a work log's attachment
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id)).where(
            Attachment.object_type == "work_log", Attachment.id == file.id)) == 0
    assert agency.get(f"/portal/files/{file.id}").data == b"%PDF-1.4 final report"
    # the commissioning department (D01) sees it on the review page and downloads it
    dept = login("dept01")
    page = dept.get(f"/admin/engagement/review/?id={eng}")
    assert page.status_code == 200 and "评价报告.pdf" in page.text
    assert dept.get(f"/attachments/{file.id}").data == b"%PDF-1.4 final report"
    assert login("finance").get(f"/attachments/{file.id}").status_code == 200
    # another department and another agency do not
    assert login("dept02").get(f"/attachments/{file.id}").status_code == 404
    other = login("agency02")
    assert other.get(f"/portal/files/{file.id}").status_code == 404
    assert other.get(f"/attachments/{file.id}").status_code in (403, 404)


def test_forbidden_or_fake_deliverables_are_refused_and_nothing_written(app, login, world):
    eng = world.engagement_ids[0]
    c = login("agency01")
    r = _upload(c, eng, b"MZ\x90\x00", "tool.exe")
    assert r.status_code == 200 and "exe" in r.text
    _upload(c, eng, b"not a pdf", "fake.pdf")
    _upload(c, eng, b"", "")
    assert _deliverables(app, eng) == []


def test_no_upload_to_another_agencys_or_a_closed_engagement(app, login, world):
    from plugins.agencies.models import Engagement

    c = login("agency01")
    theirs = world.engagement_ids[1]
    page = c.get(f"/portal/engagements/{world.engagement_ids[0]}")
    r = c.post(f"/portal/engagements/{theirs}/deliverables", data={
        "csrf_token": csrf_from(page.text),
        "deliverable": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 404
    assert _deliverables(app, theirs) == []
    with app.app_context():
        db.session.get(Engagement, world.engagement_ids[0]).closed_at = db.func.now()
        db.session.commit()
    r = _upload(c, world.engagement_ids[0], b"%PDF-1.4 late", "late.pdf",
                token=csrf_from(page.text))
    assert r.status_code == 200
    assert _deliverables(app, world.engagement_ids[0]) == []
