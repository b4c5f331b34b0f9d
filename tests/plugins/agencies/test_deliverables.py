"""Deliverables: uploaded by the agency through the core's checked uploads, kept apart
from work logs, visible to the commissioning party and to no other agency or department."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import Attachment
from tests.support import csrf_from

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


def _api_upload(app, eng_id: int, headers: dict, content: bytes, name: str):
    return app.test_client().post(f"/api/v1/engagements/{eng_id}/deliverables", headers=headers,
                                  data={"file": (io.BytesIO(content), name)},
                                  content_type="multipart/form-data")


def test_deliverables_through_the_api_with_a_personal_token(app, world, token_for):
    eng, other_eng = world.engagement_ids
    mine = token_for("agency01")
    r = _api_upload(app, eng, mine, b"%PDF-1.4 api report", "中期报告.pdf")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["filename"] == "中期报告.pdf" and body["size"] == len(b"%PDF-1.4 api report")
    c = app.test_client()
    listed = c.get(f"/api/v1/engagements/{eng}/deliverables", headers=mine).get_json()
    assert [d["id"] for d in listed] == [body["id"]]
    got = c.get(f"/api/v1/engagements/{eng}/deliverables/{body['id']}", headers=mine)
    assert got.status_code == 200 and got.data == b"%PDF-1.4 api report"
    # the commissioning department reads it; it may not upload (no agency permission)
    dept = token_for("dept01")
    assert c.get(f"/api/v1/engagements/{eng}/deliverables/{body['id']}",
                 headers=dept).data == b"%PDF-1.4 api report"
    assert _api_upload(app, eng, dept, b"%PDF-1.4 x", "x.pdf").status_code == 403
    # another agency: not its engagement, by list, download, or upload
    theirs = token_for("agency02")
    assert c.get(f"/api/v1/engagements/{eng}/deliverables", headers=theirs).status_code == 404
    assert c.get(f"/api/v1/engagements/{eng}/deliverables/{body['id']}",
                 headers=theirs).status_code == 404
    assert _api_upload(app, eng, theirs, b"%PDF-1.4 y", "y.pdf").status_code == 404
    # an id of another engagement's file under one's own engagement is not found either
    assert c.get(f"/api/v1/engagements/{other_eng}/deliverables/{body['id']}",
                 headers=theirs).status_code == 404
    assert len(_deliverables(app, eng)) == 1


def test_api_refuses_forbidden_files_and_closed_engagements(app, world, token_for):
    eng = world.engagement_ids[0]
    mine = token_for("agency01")
    r = _api_upload(app, eng, mine, b"MZ\x90\x00", "tool.exe")
    assert r.status_code == 422 and "file" in r.get_json()["details"]
    r = _api_upload(app, eng, mine, b"MZ\x90\x00", "report.pdf")  # a program named .pdf
    assert r.status_code == 422
    assert _deliverables(app, eng) == []
    from core.models import utcnow
    from plugins.agencies.models import Engagement

    with app.app_context():
        db.session.get(Engagement, eng).closed_at = utcnow()
        db.session.commit()
    r = _api_upload(app, eng, mine, b"%PDF-1.4 late", "late.pdf")
    assert r.status_code == 409 and _deliverables(app, eng) == []


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("name", ["../../../../tmp/jixiao-evil.pdf", "..\\..\\jixiao-evil.pdf",
                                  "/etc/cron.d/jixiao-evil.pdf", "C:\\Windows\\jixiao-evil.pdf"])
def test_a_file_name_with_a_path_is_kept_as_a_name_only(app, login, world, name):
    """A path in the uploaded file name never decides where the file is written."""
    from core.services.attachments import path_of, storage_dir

    eng = world.engagement_ids[0]
    r = _upload(login("agency01"), eng, PDF, name)
    assert r.status_code == 200 and "上传" in r.text
    stored = [d for d in _deliverables(app, eng) if d.filename.endswith("jixiao-evil.pdf")]
    assert len(stored) == 1
    assert "/" not in stored[0].filename and "\\" not in stored[0].filename
    with app.app_context():
        path = path_of(stored[0])
        assert path.parent == storage_dir() and path.read_bytes() == PDF
        assert "evil" not in path.name
    assert not Path("/tmp/jixiao-evil.pdf").exists()
    with app.app_context():  # the next case starts again from no deliverable of that name
        db.session.execute(delete(Attachment).where(Attachment.id == stored[0].id))
        db.session.commit()
    path.unlink()
