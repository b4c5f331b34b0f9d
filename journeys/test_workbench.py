"""The workbench in chromium at 1280×800: the finance bureau's menu on one line, the home
page of a department and of a unit (pictures for docs/guide/workbench.md), a bar that opens
its filtered list under breadcrumbs."""

from __future__ import annotations

from playwright.sync_api import expect

SMALL_SCREEN = {"width": 1280, "height": 800}


def test_the_finance_menu_fits_on_one_line(page_as):
    page = page_as("finance")
    page.set_viewport_size(SMALL_SCREEN)
    page.goto("/admin/")
    entries = page.locator("nav.navbar .navbar-nav > li")
    tops = {round(entries.nth(i).bounding_box()["y"]) for i in range(entries.count())}
    assert len(tops) == 1, tops
    page.get_by_role("link", name="更多").click()
    expect(page.get_by_role("link", name="审计日志")).to_be_visible()


def test_a_department_and_a_unit_see_their_stages(page_as, shot):
    for username, picture in (("dept01", "workbench_home_department"),
                              ("unit0101", "workbench_home_unit")):
        page = page_as(username)
        page.set_viewport_size(SMALL_SCREEN)
        page.goto("/admin/")
        targets = page.locator('.jixiao-stage[data-stage="targets"]')
        expect(targets).to_contain_text("截止")
        shot(page, picture)
        bar = targets.locator("a.jixiao-bar").last
        counted = bar.locator("span span").nth(1).inner_text().split(" / ")[1]
        bar.click()
        crumbs = page.locator(".jixiao-breadcrumbs li")
        expect(crumbs.first).to_have_text("首页")
        expect(crumbs.last).to_have_text("绩效目标表")
        expect(page.locator(".nav-link.active", has_text="列表")).to_contain_text(f"({counted})")
