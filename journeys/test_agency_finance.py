"""The finance bureau quotes an engagement's service fee, closes the engagement and assesses
the agency: quote lines with their formulas, the deviation's reason and approval, the
party score and the spot-check, the year's agency rating; the agency (agency03) appeals its
score, finance upholds the appeal with a corrected score, and the rating is published,
after which the assessment can no longer change.

WT-2026-004 (the bureau's re-evaluation by 东方资产评估有限公司, approved and open, its demo
quote a draft) is used here and by no other journey; WT-2026-005 (submitted, held up by a
conflict of interest) is only looked at and refused approval.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import text

CODE = "WT-2026-004"
AGENCY = "东方资产评估有限公司"
HELD_UP = "WT-2026-005"  # submitted; a team member worked at the department commissioning it
REASON = "再评价涉及两个部门，现场核查点多，合同金额高于测算金额。"
AGENCY_USER = "agency03"  # a member of 东方资产评估有限公司 in the demo
APPEAL = "证据充分性一项已在补充材料中提供现场照片和访谈记录，请复核。"
DECISION = "补充材料核实无误，证据充分性调整为优。"
REJECTION = "延期系机构自身原因，委托方补充资料未影响进度，时效性扣分维持。"


def _run_confirmed(page) -> None:
    """Confirm a long action, wait for its background job, go back to the year's overview."""
    page.locator(".jixiao-confirm-start").click()
    expect(page.locator(".jixiao-job-summary")).to_be_visible(timeout=60_000)
    page.goto("/admin/agency_scoring_overview/?year=2026")


def _refused(page, reason: str) -> None:
    """A long action refused: on its confirmation page, or as the job's reason in words."""
    page.wait_for_load_state()
    start = page.locator(".jixiao-confirm-start")
    if start.count() and start.is_enabled():
        start.click()
        expect(page.locator(".jixiao-job-error")).to_contain_text(reason, timeout=60_000)
    else:
        expect(page.locator(".alert-danger").filter(has_text=reason)).to_be_visible()


def _menu(page, group: str, entry: str) -> None:
    page.locator("#admin-navbar-collapse").get_by_role("link", name=group, exact=True).click()
    page.locator("#admin-navbar-collapse").get_by_role("link", name=entry, exact=True).click()


def _row(page, text_: str):
    return page.locator("form.jixiao-score-form tbody tr").filter(has_text=text_)


def test_finance_quotes_closes_and_assesses_an_engagement(page_as, shot, db):
    with db.connect() as c:
        eng = c.execute(text("SELECT id, contract_amount FROM engagement WHERE code = :c"),
                        {"c": CODE}).one()
        evaluated = c.execute(text(
            "SELECT SUM(b.amount) FROM engagement_item ei JOIN budget_item b "
            "ON b.id = ei.budget_item_id WHERE ei.engagement_id = :e"), {"e": eng.id}).scalar()
    page = page_as("finance")

    # 1. the quote: inputs, then every line with its formula
    _menu(page, "第三方机构", "服务费测算")
    expect(page.get_by_role("heading", name="服务费用测算")).to_be_visible()
    page.get_by_label("评价对象类型").select_option(label="项目")
    page.get_by_label("阶段").select_option(label="再评价")
    page.get_by_label("评价金额（元）").fill(f"{Decimal(evaluated):.2f}")
    page.get_by_label(re.compile(r"^高级 \(")).fill("8")
    page.get_by_label(re.compile(r"^中级 \(")).fill("12")
    page.get_by_label(re.compile(r"^初级 \(")).fill("16")
    page.get_by_label("专家 1").select_option(value="高级职称")
    page.get_by_placeholder("天数").first.fill("1.5")
    page.get_by_placeholder("人数").first.fill("3")
    page.get_by_placeholder("函评次数").first.fill("1")
    page.get_by_placeholder("项目").first.fill("差旅费")
    page.get_by_placeholder("金额（元）").first.fill("1200.00")
    choice = page.get_by_label("委托项目")
    choice.select_option(label=choice.locator("option", has_text=CODE).inner_text())
    page.get_by_role("button", name="测算", exact=True).click()
    sheet = page.locator(".jixiao-quote-sheet")
    expect(sheet).to_contain_text("JD-FWF r1")
    lines = sheet.locator("table.jixiao-quote-lines tbody tr")
    expect(lines.first).to_be_visible()
    assert lines.count() >= 6
    formulas = sheet.locator("table.jixiao-quote-lines code").all_inner_texts()
    assert any("8 × 2000.00" in f for f in formulas), formulas  # senior days × day rate
    assert any("0.70" in f for f in formulas), formulas  # the re-evaluation coefficient
    total = sheet.locator(".jixiao-total").inner_text()
    shot(page, "agency_fees_quote")

    # 2. stored for the engagement: far below the contract, so a reason and approval
    page.get_by_label("合同金额偏离的理由").fill(REASON)
    page.get_by_role("button", name="保存到委托").click()
    expect(page.locator(".alert").filter(has_text=f"委托 {CODE} 的测算已保存。")).to_be_visible()
    expect(page.locator(".jixiao-total")).to_have_text(total)
    expect(page.locator(".jixiao-state")).to_have_text("须说明理由并经财政审批")
    expect(page.get_by_text(f"{Decimal(eng.contract_amount):,.2f}")).to_be_visible()
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".jixiao-state")).to_have_text("待财政审批")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".jixiao-state")).to_have_text("财政已批准")
    expect(page.locator("ul.jixiao-history")).to_contain_text(REASON)
    shot(page, "agency_fees_sheet")

    # 3. commissioning: the registry, and an engagement held up by a conflict of interest
    _menu(page, "第三方机构", "机构名录")
    expect(page.locator("table").get_by_text(AGENCY, exact=True)).to_be_visible()
    shot(page, "agency_registry")
    _menu(page, "第三方机构", "委托项目")
    page.get_by_role("link", name=HELD_UP, exact=True).click()
    expect(page.locator(".jixiao-state")).to_have_text("已提交")
    expect(page.locator(".jixiao-problems")).to_contain_text("应当回避")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".alert-danger").filter(has_text="应当回避")).to_be_visible()
    expect(page.locator(".jixiao-state")).to_have_text("已提交")  # refused: still submitted
    shot(page, "agency_engagement_review")

    # 4. closing the engagement (the review page of 第三方机构 › 委托项目)
    _menu(page, "第三方机构", "委托项目")
    page.get_by_role("link", name=CODE, exact=True).click()
    expect(page.locator(".jixiao-state")).to_have_text("进行中")
    page.get_by_role("button", name="结束委托").click()
    expect(page.locator(".alert").filter(has_text="已完成：结束委托。")).to_be_visible()
    expect(page.locator(".jixiao-state")).to_have_text("已结束")
    shot(page, "agency_engagement_closed")

    # 5. the assessment opened on closing: the party scores, then the spot-check
    _menu(page, "第三方机构", "委托考核")
    page.get_by_role("link", name=CODE, exact=True).click()
    expect(page.locator(".jixiao-result")).to_have_text("待评分")
    form = page.locator("form.jixiao-score-form")
    expect(form.locator("tbody tr")).to_have_count(10)
    expect(_row(page, "团队与合同一致")).to_contain_text("有工作记录")  # portal evidence
    for item, level in (("报告质量", "A"), ("证据充分性", "B"), ("结论合理性", "A"),
                        ("人员资质", "A"), ("沟通配合", "B")):
        _row(page, item).locator("select").select_option(value=level)
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator(".alert").filter(has_text="评分已保存。")).to_be_visible()
    result = page.locator(".jixiao-result")
    expect(result).to_contain_text(re.compile(r"\d+(\.\d+)? · [优良中差]"))
    expect(page.locator("table.jixiao-trace")).to_have_count(1)
    for item, level in (("报告规范性", "A"), ("证据充分性", "B"), ("结论可靠性", "A")):
        _row(page, item).locator("select").select_option(value=level)
    page.get_by_role("button", name="保存评分").click()
    expect(page.locator(".alert").filter(has_text="评分已保存。")).to_be_visible()
    expect(result).to_contain_text("抽查")
    expect(page.locator("table.jixiao-trace")).to_have_count(2)
    shown = result.locator("strong").inner_text()
    with db.connect() as c:
        stored = c.execute(text(
            "SELECT score, grade, party_total, spot_total FROM agency_assessment "
            "WHERE engagement_id = :e"), {"e": eng.id}).one()
    assert Decimal(shown) == Decimal(str(stored.score))
    assert stored.party_total is not None and stored.spot_total is not None
    shot(page, "agency_scoring_assessment")

    # 6. the year's rating: computed, the agency ranked with its score and grade
    _menu(page, "第三方机构", "考核概览")
    page.get_by_label("年度", exact=True).fill("2026")
    page.get_by_role("button", name="计算评级").click()
    _run_confirmed(page)
    ranked = page.locator("table.jixiao-ranking tbody tr").filter(has_text=AGENCY)
    expect(ranked).to_have_count(1)
    expect(ranked).to_contain_text("草稿")
    expect(ranked.locator("td").nth(6)).to_have_text(re.compile(r"^[优良中差]$"))
    shot(page, "agency_finance")

    # 7. the agency appeals its score, from its own login (no decision form for it)
    agency = page_as(AGENCY_USER)
    expect(agency).to_have_url(re.compile(r"/portal/$"))  # an agency user lands on its portal
    agency.goto("/admin/")
    _menu(agency, "第三方机构", "委托考核")
    agency.get_by_role("link", name=CODE, exact=True).click()
    agency.locator("textarea[name=reason]").fill(APPEAL)
    agency.get_by_role("button", name="申诉", exact=True).click()
    expect(agency.locator(".alert").filter(has_text="申诉已提交。")).to_be_visible()
    expect(agency.locator("ul.jixiao-appeals")).to_contain_text(APPEAL)
    expect(agency.get_by_role("button", name="采纳")).to_have_count(0)
    expect(agency.get_by_role("button", name="申诉", exact=True)).to_have_count(0)  # once only

    # 8. finance upholds it with a corrected score; the grade follows the score
    _menu(page, "第三方机构", "委托考核")
    page.get_by_role("link", name=CODE, exact=True).click()
    appeals = page.locator("ul.jixiao-appeals")
    expect(appeals).to_contain_text(APPEAL)
    appeals.get_by_placeholder("处理意见").fill(DECISION)
    appeals.get_by_placeholder("复核得分").fill("97.00")
    appeals.get_by_role("button", name="采纳").click()
    expect(page.locator(".alert").filter(has_text="处理意见已保存。")).to_be_visible()
    expect(page.locator(".jixiao-result")).to_contain_text("97.00 · 优")
    expect(page.locator("ul.jixiao-appeals")).to_contain_text(DECISION)
    with db.connect() as c:
        assessment = c.execute(text(
            "SELECT a.score, a.grade, p.status, p.score_before FROM agency_assessment a "
            "JOIN agency_appeal p ON p.assessment_id = a.id WHERE a.engagement_id = :e"),
            {"e": eng.id}).one()
    assert Decimal(str(assessment.score)) == Decimal("97.00")
    assert assessment.score_before is not None and str(assessment.status).lower() == "upheld"
    shot(page, "agency_scoring_appeal")

    # 9. publishing waits for every appeal of the year: the demo's own appeal of another
    #    engagement is still pending, so finance rejects it (with reasons), then publishes
    _menu(page, "第三方机构", "考核概览")
    page.get_by_label("年度", exact=True).fill("2026")
    page.get_by_role("button", name="发布（定稿）").click()
    _refused(page, "1 项申诉尚未处理")
    _menu(page, "第三方机构", "申诉")
    pending = page.locator("table tbody tr").filter(has_text="待处理")
    expect(pending).to_have_count(1)
    pending.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    appeals = page.locator("ul.jixiao-appeals")
    appeals.get_by_placeholder("处理意见").fill(REJECTION)
    appeals.get_by_role("button", name="驳回").click()
    expect(page.locator(".alert").filter(has_text="处理意见已保存。")).to_be_visible()
    expect(page.locator("ul.jixiao-appeals")).to_contain_text(REJECTION)
    _menu(page, "第三方机构", "考核概览")
    page.get_by_label("年度", exact=True).fill("2026")
    page.get_by_role("button", name="发布（定稿）").click()
    _run_confirmed(page)
    ranked = page.locator("table.jixiao-ranking tbody tr").filter(has_text=AGENCY)
    expect(ranked).to_contain_text("已发布")
    shot(page, "agency_rating_published")
    page.get_by_label("年度", exact=True).fill("2026")
    page.get_by_role("button", name="计算评级").click()  # refused: the rating is final
    _refused(page, "年度评级已发布")
    with db.connect() as c:
        assert Decimal(str(c.execute(text(
            "SELECT score FROM agency_assessment WHERE engagement_id = :e"),
            {"e": eng.id}).scalar())) == Decimal("97.00")
        assert not c.execute(text("SELECT count(*) FROM agency_appeal "
                                  "WHERE lower(status) = 'pending'")).scalar()
