"""Key pre-assessment: the experts of a panel score on their own; the panel score appears only
when the last one has submitted.

In the demo, one key pre-assessment of 2026 is still being scored: one expert has
submitted, expert01 and the others have not. expert01 opens the assignment under
事前绩效评估 → 专家评审, saves a draft, then submits (final): the other experts'
scores stay hidden and the finance bureau sees who is still to score. Each remaining
expert of the panel then submits; the last submission completes the panel and the
bureau sees the panel score (trimmed mean for five experts) and the suggested conclusion.
The bureau then concludes: a conclusion other than the band's is refused without the
panel's reason, partial support above the requested amount is refused, and the final
conclusion with its recommended amount locks the pre-assessment and goes into its report.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import text

OPINION = "项目立项依据充分，绩效目标基本合理；建议细化实施进度安排。"
JUDGEMENT = "专家组认为实施内容可分期安排，本年度先实施一期，预算按一期工作量核定。"
ADJUST = "部分支持（调整后支持）"


def _reviews(page):
    page.locator("#admin-navbar-collapse").get_by_role("link", name="事前绩效评估", exact=True).click()
    page.locator("#admin-navbar-collapse").get_by_role("link", name="专家评审", exact=True).click()
    return page.locator("table tbody tr")


def _open_pending(page, code: str | None = None) -> str | None:
    """Open the reviewer's unsubmitted review (of ``code`` if given); its item code."""
    rows = _reviews(page)
    for n in range(rows.count()):
        row = rows.nth(n)
        if row.locator("td").last.inner_text().strip():
            continue  # submitted
        link = row.get_by_role("link", name=re.compile(code or r"\d{4}-[A-Z0-9]+-\d{5}"))
        if link.count():
            found = re.search(r"\d{4}-[A-Z0-9]+-\d{5}", link.inner_text()).group(0)
            link.click()
            expect(page.get_by_role("heading", name=re.compile(f"专家评审: {found}"))
                   ).to_be_visible()
            return found
    return None


def _score(page, points: list[str], opinion: str) -> Decimal:
    inputs = page.locator("table.jixiao-my-scores input")
    expect(inputs).to_have_count(len(points))
    for n, value in enumerate(points):
        inputs.nth(n).fill(value)
    page.locator("textarea[name=opinion]").fill(opinion)
    return sum(Decimal(p) for p in points if p)


def test_experts_score_a_key_preassessment_and_the_panel_completes(page_as, shot, db):
    expert = page_as("expert01")

    # 1. expert01's assignment: the sheet to score; the others' scores are not shown
    code = _open_pending(expert)
    assert code is not None, "expert01 has no review to score in the demo"
    expect(expert.locator(".jixiao-panel-pending")).to_be_visible()
    expect(expert.locator("table.jixiao-panel")).to_have_count(0)
    points = ["8", "9", "8.5", "9", "7.5", "8", "9", "8", "8.5", "9"]
    total = _score(expert, points[:5] + [""] * 5, "")  # half done: saved as a draft
    expert.get_by_role("button", name="保存", exact=True).click()
    expect(expert.get_by_text("评分已保存。")).to_be_visible()
    total = _score(expert, points, OPINION)
    expert.get_by_role("button", name="提交（不可再改）").click()
    expect(expert.get_by_text(re.compile("您已于 .* 提交评分。"))).to_be_visible()
    expect(expert.locator(".jixiao-my-total")).to_have_text(f"{total:.2f}")
    expect(expert.get_by_role("button", name="提交（不可再改）")).to_have_count(0)
    expect(expert.locator(".jixiao-panel-pending")).to_be_visible()
    shot(expert, "preassessment_1_expert_submitted")

    # 2. the bureau sees who has scored, not what they gave
    finance = page_as("finance")
    finance.goto("/admin/preassessment/")
    finance.get_by_placeholder(re.compile("项目编码")).fill(code)
    finance.get_by_placeholder(re.compile("项目编码")).press("Enter")
    finance.get_by_role("link", name=re.compile(code)).click()
    panel = finance.locator("table.jixiao-reviews tbody tr")
    pending = [panel.nth(n).locator("td").first.inner_text() for n in range(panel.count())
               if panel.nth(n).locator("td").nth(1).inner_text().strip() == "-"]
    assert pending and "评审专家1" not in pending
    for n in range(panel.count()):
        expect(panel.nth(n).locator("td").nth(2)).to_have_text("")  # totals hidden
    expect(finance.locator(".jixiao-panel-score")).to_have_count(0)
    shot(finance, "preassessment_2_panel_pending")

    # 3. every other expert of the panel scores and submits
    others = 0
    for n in range(2, 6):
        page = page_as(f"expert{n:02d}")
        if _open_pending(page, code) is None:
            continue  # not on this panel, or already submitted
        _score(page, [str(8 + (n + k) % 3 * Decimal("0.5")) for k in range(10)],
               f"评审专家{n}：同意立项，建议加强成本测算。")
        page.get_by_role("button", name="提交（不可再改）").click()
        expect(page.get_by_text(re.compile("您已于 .* 提交评分。"))).to_be_visible()
        others += 1
    assert others == len(pending)

    # 4. the last submission completed the panel: the bureau sees every score and the result
    finance.reload()
    expect(finance.locator(".jixiao-panel-score")).to_have_text(re.compile(r"\d+\.\d{2}"))
    for n in range(panel.count()):
        expect(panel.nth(n).locator("td").nth(2)).to_have_text(re.compile(r"\d+\.\d{2}"))
    expect(finance.locator(".jixiao-suggested")).to_have_text(
        re.compile("予以支持|调整后支持|不予支持"))
    shot(finance, "preassessment")

    # the experts now see the panel too
    expert.reload()
    expect(expert.locator("table.jixiao-panel")).to_contain_text("评审专家1")
    expect(expert.locator(".jixiao-panel-score")).to_be_visible()

    # 5. the bureau concludes against the band: refused until the panel's reason is given;
    #    partial support must stay below the request; final locks it and goes into the report
    with db.connect() as c:
        requested = Decimal(str(c.execute(text(
            "SELECT b.amount FROM budget_item b WHERE b.code = :code"), {"code": code}).scalar()))
    band = finance.locator(".jixiao-suggested").inner_text()
    chosen = "予以支持" if band == ADJUST else ADJUST
    form = finance.locator("form").filter(has=finance.locator("select[name=conclusion]"))
    form.locator("select[name=conclusion]").select_option(label=chosen)
    if chosen == ADJUST:
        form.locator("input[name=recommended_amount]").fill(f"{requested:.2f}")
    form.get_by_role("button", name="定稿").click()
    expect(finance.locator(".alert-danger").filter(has_text=f"分数档次“{band}”不一致")
           ).to_be_visible()
    if chosen == ADJUST:
        expect(finance.locator(".alert-danger").filter(has_text="小于申报金额")).to_be_visible()
    recommended = (requested / 2).quantize(Decimal("0.01")) if chosen == ADJUST else requested
    form = finance.locator("form").filter(has=finance.locator("select[name=conclusion]"))
    form.locator("select[name=conclusion]").select_option(label=chosen)
    form.locator("input[name=recommended_amount]").fill(f"{recommended:.2f}")
    form.locator("textarea[name=note]").fill(JUDGEMENT)
    form.get_by_role("button", name="定稿").click()
    expect(finance.locator(".alert").filter(has_text="评估结论已保存。")).to_be_visible()
    conclusion = finance.locator(".jixiao-conclusion")
    expect(conclusion).to_contain_text(chosen)
    expect(conclusion).to_contain_text(f"{recommended:,.2f}")
    expect(finance.locator("select[name=conclusion]")).to_have_count(0)  # final: no more form
    with db.connect() as c:
        stored = c.execute(text(
            "SELECT p.conclusion, p.recommended_amount, p.final_at FROM preassessment p "
            "JOIN budget_item b ON b.id = p.budget_item_id WHERE b.code = :code"),
            {"code": code}).one()
    assert Decimal(str(stored.recommended_amount)) == recommended and stored.final_at is not None
    shot(finance, "preassessment_3_concluded")
    finance.get_by_role("link", name="评估报告").click()
    expect(finance.locator("body")).to_contain_text(chosen)
    expect(finance.locator("body")).to_contain_text(JUDGEMENT)
