"""Every Excel import route judges a file by its content, not its name, and writes nothing when
it refuses; a request over MAX_CONTENT_LENGTH gets a page in Chinese, not Werkzeug's English one.

(Attachments — deliverables, work log files, evidence — go through core.services.attachments,
tested in tests/core/services/test_attachments.py and through their routes in the plugins' tests.)
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditLog
from tests.support import csrf_from

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
NOT_A_WORKBOOK = "该文件不是 Excel 工作簿"
IMPORTS = ["/admin/targetsheet/import/", "/admin/indicatortemplate/import/",
           "/admin/monitoringrecord/import/", "/admin/fee_schedule/import/"]


def _audit_entries(app) -> int:
    """Every change is in the audit log: an unchanged count means nothing was written."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditLog))


def _form(page: str) -> dict:
    data = {"csrf_token": csrf_from(page)}
    rounds = re.search(r'<select[^>]*name="round".*?<option value="(\d+)"', page, re.S)
    if rounds:
        data["round"] = rounds.group(1)
    return data


@pytest.mark.parametrize("path", IMPORTS)
@pytest.mark.parametrize(("content", "name"), [(PDF, "指标.xlsx"), (EXE, "导入.xlsx"),
                                               (b"", "empty.xlsx")])
def test_an_import_that_is_not_a_workbook_is_refused_and_nothing_written(
        app, login, path, content, name):
    client = login("finance")
    page = client.get(path)
    assert page.status_code == 200, path
    before = _audit_entries(app)
    r = client.post(path, data={**_form(page.text), "file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200
    assert NOT_A_WORKBOOK in r.text, path
    assert _audit_entries(app) == before


def test_a_json_fee_schedule_nested_too_deep_is_refused_in_chinese(app, login):
    client = login("finance")
    path = "/admin/fee_schedule/import/"
    before = _audit_entries(app)
    r = client.post(path, data={"csrf_token": csrf_from(client.get(path).text),
                                "file": (io.BytesIO(b"[" * 100_000), "schedule.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    assert "不是有效的 JSON" in r.text
    assert _audit_entries(app) == before


@pytest.fixture
def small_requests(app, make_app):
    """An app that takes requests of at most 64 KB."""
    return make_app(MAX_CONTENT_LENGTH=64 * 1024)


def test_an_upload_over_the_request_limit_gets_a_chinese_page(small_requests):
    client = small_requests.test_client()
    page = client.get("/login")
    client.post("/login", data={"username": "finance", "password": "Jixiao@2026",
                                "csrf_token": csrf_from(page.text)})
    path = "/admin/targetsheet/import/"
    before = _audit_entries(small_requests)
    r = client.post(path, data={"csrf_token": csrf_from(client.get(path).text),
                                "file": (io.BytesIO(b"0" * 100 * 1024), "big.xlsx")},
                    content_type="multipart/form-data",
                    headers={"Referer": f"http://localhost{path}"})
    assert r.status_code == 413
    assert "上传的文件过大" in r.text and "64 KB" in r.text
    assert f'href="http://localhost{path}"' in r.text  # back to the form
    assert "Content-Security-Policy" in r.headers
    assert _audit_entries(small_requests) == before
    # (the API answers 413 in its JSON format: tests/core/web/test_api.py)
