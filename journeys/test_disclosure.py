"""A visitor, not logged in, reads the public disclosure pages and downloads the open data of
a department: the CSV and XLSX files parse and hold exactly what the page shows, and
nothing that is still under review."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import text

YEAR = 2025  # the closed demo year: targets and evaluation results published
DEPT = "区民政局"


def _download(page, link: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link, exact=True).click()
    download = info.value
    return download.suggested_filename, download.path().read_bytes()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), "UTF-8 with BOM, so Excel reads the Chinese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_a_visitor_reads_a_department_and_downloads_its_open_data(visitor, shot, db):
    with db.connect() as c:
        counts = dict(c.execute(text(
            "SELECT p.state, COUNT(*) FROM publication p JOIN org_unit o "
            "ON o.id = p.department_id WHERE o.name = :d AND p.fiscal_year = :y "
            "AND p.kind = 'EVALUATION_RESULT' GROUP BY p.state"), {"d": DEPT, "y": YEAR}).all())
    published = counts.pop("APPROVED")
    assert sum(counts.values()) > 0, "the demo has results of this department under review"

    page = visitor()
    missing = page.goto(f"/disclosure/{YEAR}/NO-SUCH-DEPT/")  # a wrong address: a Chinese page
    assert missing.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    page.get_by_role("link", name="返回信息公开首页").click()
    expect(page.get_by_role("heading", name="预算绩效信息公开")).to_be_visible()
    page.get_by_role("link", name=f"{YEAR} 年度").click()
    expect(page.get_by_role("heading", name=f"{YEAR} 年度")).to_be_visible()
    expect(page.get_by_role("link", name="绩效目标 CSV")).to_be_visible()  # district-wide
    shot(page, "disclosure_year")
    page.get_by_role("link", name=DEPT, exact=True).click()
    expect(page.get_by_role("heading", name=f"{DEPT} · {YEAR} 年度")).to_be_visible()
    assert "/login" not in page.url
    page.wait_for_load_state()  # the page is streamed: read it once it has all arrived
    expect(page.locator("table.jixiao-results tbody tr")).to_have_count(published)

    # what the page shows: item targets (code and name), evaluation results (title, score)
    heads = page.locator(".jixiao-targets h3, .jixiao-policies h3").all_inner_texts()
    shown_codes = {h.split(" ", 1)[0] for h in heads}
    results = page.locator("table.jixiao-results tbody tr")
    shown_results = sorted((r.locator("td").nth(0).inner_text().split("\n")[0].strip(),
                            Decimal(r.locator("td").nth(3).inner_text())) for r in results.all())
    assert shown_codes
    assert len(shown_results) == published  # nothing under review

    # targets as CSV and XLSX: one row per indicator, the same items as on the page
    name, data = _download(page, "绩效目标 CSV")
    assert name.endswith(".csv")
    rows = _csv(data)
    assert rows[0][:5] == ["年度", "部门编码", "部门", "公开类别", "项目编码"]
    assert {r[2] for r in rows[1:]} == {DEPT}
    assert {r[4] for r in rows[1:]} == shown_codes
    indicators = page.locator(".jixiao-targets tbody tr, .jixiao-policies tbody tr").count()
    assert len(rows) - 1 == indicators
    name, data = _download(page, "绩效目标 XLSX")
    assert name.endswith(".xlsx")
    sheet = _xlsx(data)
    assert sheet[0] == rows[0] and {r[4] for r in sheet[1:]} == shown_codes
    assert len(sheet) == len(rows)

    # results as CSV and XLSX: the same titles and scores, nothing unpublished
    for link in ("评价结果 CSV", "评价结果 XLSX"):
        name, data = _download(page, link)
        table = _csv(data) if name.endswith(".csv") else _xlsx(data)
        header = table[0]
        title, score = header.index("评价对象"), header.index("得分")
        assert len(table) - 1 == published, link
        assert sorted((r[title], Decimal(r[score])) for r in table[1:]) == shown_results, link

    # one section at a time
    page.get_by_role("link", name="评价结果", exact=True).click()
    expect(page.locator(".jixiao-targets")).to_have_count(0)
    expect(page.locator("table.jixiao-results tbody tr")).to_have_count(len(shown_results))
    shot(page, "disclosure_results")
    page.get_by_role("link", name="项目绩效目标", exact=True).click()
    expect(page.locator(".jixiao-targets").first).to_be_visible()
    shot(page, "disclosure")
