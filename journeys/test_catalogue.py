"""The finance bureau reviews a town department's key evaluation catalogue, approves it and
reads its 5-year coverage plan: every listed item is due in the year the catalogue plans.

嘉定镇街道农业服务中心's 2026 catalogue (submitted in the demo) is used here and by no
other journey.
"""

from __future__ import annotations

from collections import Counter

from playwright.sync_api import expect
from sqlalchemy import text

DEPT = "嘉定镇街道农业服务中心"


def test_finance_approves_a_catalogue_and_reads_its_five_year_plan(page_as, shot, db):
    with db.connect() as c:
        cat = c.execute(text(
            "SELECT c.id, c.cycle_start, c.cycle_years FROM catalogue c "
            "JOIN org_unit o ON o.id = c.org_unit_id WHERE o.name = :d"), {"d": DEPT}).one()
    page = page_as("finance")
    page.locator("#admin-navbar-collapse").get_by_role("link", name="重点绩效评价目录", exact=True).click()
    page.locator("#admin-navbar-collapse").get_by_role("link", name="评价目录", exact=True).click()
    page.get_by_role("link", name=DEPT, exact=True).click()
    expect(page.get_by_role("heading", name=f"重点绩效评价目录: {DEPT}")).to_be_visible()
    expect(page.locator(".jixiao-state")).to_have_text("待财政审核")
    entries = page.locator("table tbody tr")
    expect(entries.first).to_contain_text("2026-")
    codes = [r.locator("td").first.inner_text() for r in entries.all()]
    planned = Counter(r.locator("td").nth(4).inner_text() for r in entries.all())
    assert codes and all(code.startswith(f"{cat.cycle_start}-") for code in codes)
    shot(page, "catalogue_submitted")

    page.get_by_placeholder("意见").fill("目录项目符合规则，同意。")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".alert").filter(has_text="已完成：审核通过。")).to_be_visible()
    expect(page.locator(".jixiao-state")).to_have_text("已通过")
    expect(page.get_by_text("目录项目符合规则，同意。")).to_be_visible()  # in the history

    page.get_by_role("link", name="五年覆盖计划与报告").click()
    expect(page.get_by_role("heading", name=f"五年覆盖计划与报告: {DEPT}")).to_be_visible()
    years = page.locator("table.jixiao-plan tbody tr")
    expect(years).to_have_count(cat.cycle_years)
    due = {r.locator("td").nth(0).inner_text(): int(r.locator("td").nth(1).inner_text())
           for r in years.all()}
    assert list(due) == [str(y) for y in range(cat.cycle_start, cat.cycle_start + cat.cycle_years)]
    assert {y: n for y, n in due.items() if n} == dict(planned)
    expect(page.locator("svg.jixiao-chart")).to_be_visible()
    expect(page.locator(".jixiao-coverage")).to_contain_text(f" / {len(codes)} 个项目")
    shot(page, "catalogue")
