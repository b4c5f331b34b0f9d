"""Finance creates a year's self-evaluations (批量创建自评): the page first says how many
will be made, then the job runs in the background while the progress bar fills, and the
summary appears at 100 %. The bar's page survives a reload, and the job is listed under
"我的后台任务"."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import text


def test_finance_confirms_a_long_action_and_watches_it_finish(page_as, shot, db):
    page = page_as("finance")
    for year in (2026, 2025, 2024):  # the first demo year with evaluations still to create
        page.goto(f"/admin/selfevaluation/create-year/?year={year}")
        if page.locator(".jixiao-confirm-start").is_enabled():
            break
    changes = page.locator(".jixiao-confirm-changes").inner_text()
    count = int(re.search(r"创建 (\d+) 份单位自评", changes).group(1))
    assert count > 0
    with db.connect() as c:
        before = c.execute(text("SELECT COUNT(*) FROM self_evaluation")).scalar_one()
    page.locator(".jixiao-confirm-start").click()

    expect(page).to_have_url(re.compile(r"/admin/backgroundjob/progress/\?id=\d+"))
    expect(page.locator("h1")).to_have_text(f"批量创建 {year} 年度单位自评")
    page.reload()  # the progress page holds up to a reload, running or ended
    bar = page.locator(".progress-bar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(bar).to_have_text("100%")
    expect(page.locator(".jixiao-job-summary")).to_have_text(
        f"已为 {year} 年度创建 {count} 份单位自评。")
    expect(page.locator(".jixiao-job-count")).to_have_text(f"{count} / {count}")
    with db.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM self_evaluation")).scalar_one() == \
            before + count
    shot(page, "long_action")

    page.get_by_role("link", name="我的后台任务").first.click()
    row = page.locator("table.model-list tbody tr").first
    expect(row).to_contain_text(f"批量创建 {year} 年度单位自评")
    expect(row).to_contain_text("已完成")
