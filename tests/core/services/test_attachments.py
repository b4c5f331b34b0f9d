"""Uploads are checked (size, type, content) before anything is written; downloads are scoped."""

from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import quote

import pytest
from flask_babel import force_locale
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from core.extensions import db
from core.models import Attachment, OrgUnit, User
from core.scope import ScopeError
from core.services.attachments import AttachmentError, path_of, save_attachment, storage_dir

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


def _zip(**members: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name.replace("__", "/"), data)
    return buf.getvalue()


DOCX = _zip(**{"[Content_Types].xml": b"<Types/>", "word__document.xml": b"<w:document/>"})
XLSX = _zip(**{"[Content_Types].xml": b"<Types/>", "xl__workbook.xml": b"<workbook/>"})


def _upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def _org(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _state() -> tuple[int, set[str]]:
    """(attachment rows, files on disk): what a refused upload must leave untouched."""
    folder = storage_dir()
    files = {p.name for p in folder.iterdir()} if folder.exists() else set()
    rows = db.session.scalar(select(func.count()).select_from(Attachment)
                             .execution_options(jixiao_unscoped=True))
    return rows, files


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
        db.session.rollback()


def _save(data: bytes, filename: str, org: str = "D01U01", **kwargs) -> Attachment:
    return save_attachment(_upload(data, filename), "budget_item", 1, _org(org).id,
                           _user("unit0101"), **kwargs)


@pytest.mark.parametrize(("data", "filename", "content_type"), [
    (PDF, "绩效自评报告.pdf", "application/pdf"),
    (PNG, "photo.PNG", "image/png"),
    (JPEG, "现场照片.jpg", "image/jpeg"),
    (DOCX, "目标表.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (XLSX, "指标.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (_zip(a=b"1"), "材料.zip", "application/zip"),
    ("说明：项目已完成。".encode("gb18030"), "说明.txt", "text/plain; charset=utf-8"),
])
def test_a_good_upload_is_stored_with_its_hash(ctx, data, filename, content_type):
    attachment = _save(data, filename)
    db.session.commit()
    stored = db.session.get(Attachment, attachment.id)
    assert stored.filename == filename
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.content_type == content_type
    assert stored.uploaded_by_id == _user("unit0101").id
    assert stored.org_unit_id == _org("D01U01").id
    path = path_of(stored)
    assert path.parent == storage_dir()
    assert path.read_bytes() == data
    assert filename.rsplit(".", 1)[0] not in path.name  # a random name, not the user's


REFUSED = [
    # (content, file name, English message)
    (PDF, "", "Report: choose a file to upload."),
    (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe",
     "Report: files of type “exe” are not accepted (allowed: pdf, doc, docx, xls, xlsx, png, "
     "jpg, jpeg, zip, txt)."),
    (PDF, "no-extension", "Report: files of type “-” are not accepted (allowed: pdf, doc, "
     "docx, xls, xlsx, png, jpg, jpeg, zip, txt)."),
    (b"", "empty.pdf", "Report: the file is empty."),
    (b"MZ\x90\x00" + b"\x00" * 60, "report.pdf",
     "Report: the content of the file is not a valid “pdf” file."),
    (PDF, "photo.png", "Report: the content of the file is not a valid “png” file."),
    (PNG, "photo.jpg", "Report: the content of the file is not a valid “jpg” file."),
    (_zip(a=b"1"), "table.docx", "Report: the content of the file is not a valid “docx” file."),
    (DOCX, "table.xlsx", "Report: the content of the file is not a valid “xlsx” file."),
    (PDF, "old.doc", "Report: the content of the file is not a valid “doc” file."),
    (b"PK\x03\x04broken", "bundle.zip", "Report: the content of the file is not a valid “zip” file."),
    (b"text\x00with\x00nul", "notes.txt", "Report: the content of the file is not a valid “txt” file."),
]


@pytest.mark.parametrize(("data", "filename", "message"), REFUSED)
def test_a_bad_upload_is_refused_and_nothing_is_written(ctx, data, filename, message):
    before = _state()
    with pytest.raises(AttachmentError) as exc:
        _save(data, filename, field="Report")
    with force_locale("en"):
        assert str(exc.value) == message
    db.session.commit()
    assert _state() == before


def test_an_oversized_upload_is_refused(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "ATTACHMENT_MAX_BYTES", 2 * 1024 * 1024)
    big = PDF + b"0" * (2 * 1024 * 1024)
    before = _state()
    with pytest.raises(AttachmentError) as exc:
        _save(big, "big.pdf", field="Report")
    with force_locale("en"):
        assert str(exc.value) == "Report: the file is larger than the limit of 2 MB."
    db.session.commit()
    assert _state() == before
    # exactly at the limit is fine
    _save(big[:2 * 1024 * 1024], "exact.pdf")
    db.session.commit()


def test_the_field_name_defaults_to_attachment(ctx):
    with pytest.raises(AttachmentError) as exc:
        _save(b"", "a.pdf")
    with force_locale("en"):
        assert str(exc.value) == "Attachment: the file is empty."


def test_an_upload_outside_the_users_scope_leaves_no_file(app):
    with app.test_request_context(), app.app_context():
        other_dept_unit = _org("D02U01").id
        dept01 = _user("dept01")
        login_user(dept01)
        before = _state()
        with pytest.raises(ScopeError):
            save_attachment(_upload(PDF, "r.pdf"), "budget_item", 1, other_dept_unit, dept01)
        db.session.rollback()
        assert _state() == before


def test_a_rolled_back_upload_removes_its_file(ctx):
    before = _state()
    attachment = _save(PDF, "draft.pdf")
    assert path_of(attachment).exists()
    db.session.rollback()
    assert _state() == before


def test_an_upload_never_committed_removes_its_file(app):
    with app.app_context():
        before = _state()
        path = path_of(_save(PDF, "forgotten.pdf"))
        assert path.exists()
    # the request (app context) ended without a commit
    with app.app_context():
        assert _state() == before


# --- download ------------------------------------------------------------------------------

@pytest.fixture
def stored(app):
    with app.app_context():
        attachment = _save(PDF, "区教育局自评报告.pdf")
        db.session.commit()
        return attachment.id


def test_a_user_in_scope_downloads_the_file(login, stored):
    for username in ("unit0101", "dept01", "finance"):
        response = login(username).get(f"/attachments/{stored}")
        assert response.status_code == 200, username
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert quote("区教育局自评报告.pdf") in disposition
        assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("username", ["dept02", "unit0102", "town01", "expert01", "agency01"])
def test_a_user_out_of_scope_gets_404(login, stored, username):
    assert login(username).get(f"/attachments/{stored}").status_code == 404


def test_download_needs_login_and_a_real_id(client, login, stored):
    response = client.get(f"/attachments/{stored}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login("finance").get("/attachments/999999").status_code == 404
