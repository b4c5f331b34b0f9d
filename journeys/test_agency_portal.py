"""An agency's user logs service work and uploads a deliverable in the agency portal, and
cannot open another agency's engagement by guessing its id.

agency01 belongs to the first demo agency (上海信衡绩效评价咨询有限公司); its engagement
WT-2026-002 (a department's monitoring support, approved and open) is used here and by no
other journey.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import text

CODE = "WT-2026-002"
NOTE = "抽查3个街镇的项目台账与资金拨付凭证"
REPORT = "监控技术支持阶段性报告.pdf"


def _engagement(db, code: str):
    with db.connect() as c:
        return c.execute(text("SELECT id, agency_id, title FROM engagement WHERE code = :c"),
                         {"c": code}).one()


def test_agency_logs_work_uploads_a_deliverable_and_cannot_open_another_agencys(
        page_as, shot, db):
    own = _engagement(db, CODE)
    with db.connect() as c:
        other = c.execute(text(
            "SELECT id, code, title FROM engagement WHERE agency_id <> :a ORDER BY id LIMIT 1"),
            {"a": own.agency_id}).one()
        other_notes = c.execute(text("SELECT notes FROM work_log WHERE engagement_id = :e"),
                                {"e": other.id}).scalars().all()

    page = page_as("agency01")
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="委托项目")).to_be_visible()
    expect(page.locator(".jixiao-agency")).to_have_text("上海信衡绩效评价咨询有限公司")
    rows = page.locator("table.jixiao-engagements tbody tr")
    expect(rows.filter(has_text=CODE)).to_have_count(1)
    expect(rows.filter(has_text=other.code)).to_have_count(0)
    shot(page, "agency_portal_engagements")

    page.get_by_role("link", name=CODE).click()
    expect(page.get_by_role("heading", name=re.compile(CODE))).to_be_visible()
    expect(page.locator(".jixiao-state")).to_have_text("进行中")
    team = page.get_by_label("工作人员").locator("option").all_inner_texts()
    assert team, "the engagement has a team to choose from"

    # log a day of site work, with the field notes as an attachment, and submit it
    page.get_by_label("工作日期").fill("2026-09-15")
    page.get_by_label("工作人员").select_option(label=team[1])
    page.get_by_label("工时").fill("6.5")
    page.get_by_label("工作类型").select_option(label="现场核查")
    page.get_by_label("地点").fill("江桥镇")
    page.get_by_label("备注").fill(NOTE)
    page.get_by_label("附件").set_input_files(files=[{
        "name": "现场核查记录.txt", "mimeType": "text/plain",
        "buffer": "现场核查记录：台账与凭证一致。".encode()}])
    page.get_by_label("立即提交（不再作为草稿）").check()
    page.get_by_role("button", name="记录工作").click()
    expect(page.get_by_role("alert")).to_have_text("工作日志已记录。")
    logged = page.locator("table.jixiao-logs tbody tr").filter(has_text=NOTE)
    expect(logged).to_have_count(1)
    for cell in ("2026-09-15", team[1], "6.50", "现场核查", "江桥镇", "现场核查记录.txt", "已提交"):
        expect(logged).to_contain_text(cell)

    # a bad day is refused in Chinese, naming the field, and nothing is added
    page.get_by_label("工作日期").fill("2027-01-05")
    page.get_by_label("工时").fill("2")
    page.get_by_role("button", name="记录工作").click()
    expect(page.get_by_role("alert")).to_contain_text("工作日期")
    expect(page.locator("table.jixiao-logs tbody tr").filter(has_text="2027-01-05")) \
        .to_have_count(0)

    # the deliverable
    page.locator("input[name=deliverable]").set_input_files(files=[{
        "name": REPORT, "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n% monitoring report\n%%EOF\n"}])
    page.get_by_role("button", name="上传交付成果").click()
    expect(page.get_by_role("alert")).to_have_text("交付成果已上传。")
    expect(page.locator("ul.jixiao-deliverables")).to_contain_text(REPORT)
    with page.expect_download() as download:
        page.get_by_role("link", name=REPORT).click()
    assert download.value.suggested_filename == REPORT
    shot(page, "agency_portal_logged")

    with db.connect() as c:
        stored = c.execute(text(
            "SELECT hours, submitted_at FROM work_log WHERE engagement_id = :e AND notes = :n"),
            {"e": own.id, "n": NOTE}).one()
    assert str(stored.hours) in ("6.5", "6.50") and stored.submitted_at is not None

    # guessing another agency's engagement id: refused, nothing of it shown
    response = page.goto(f"/portal/engagements/{other.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    body = page.locator("body").inner_text()
    assert other.code not in body and other.title not in body
    assert not any(n and n in body for n in other_notes)
    expect(page.get_by_role("link", name="返回我的委托")).to_be_visible()
    shot(page, "agency_portal")

    # 退出 logs out: the login page, and the portal asks for a login again
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/login"))
