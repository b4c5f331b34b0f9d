"""A unit's and a department's day on the workbench: what waits is in 待办, every move
reaches the next person, and the item's page shows where the project stands.

unit0101 opens its 待办, picks the returned target sheet it has to fix, edits the goal
(saving brings it back to the sheet) and submits; dept01's 待办 badge goes up by one, it
opens the sheet from its 待办 and returns it with a comment; the unit's notification
badge lights up, the notification carries the comment and opens the sheet, the unit
fixes and resubmits; the department approves from its 待办, the finance bureau from its
queue; the budget item's page shows the approved targets.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import text

COMMENT = "总体目标未写明服务对象和数量，请补充后重新报送。"
FIRST_GOAL = "完成年度综合治理任务，提升公共服务保障水平。"
FIXED_GOAL = "完成年度综合治理任务12项，服务辖区居民3万人，群众满意度不低于90%。"


def _count(page, badge: str) -> int:
    """The number on a navigation badge (``tasks`` or ``unread``), once it is filled."""
    number = page.locator(f'nav [data-count="{badge}"]')
    expect(number).to_have_text(re.compile(r"^\d+$"))
    return int(number.inner_text())


def _nav(page, name: str) -> None:
    page.locator("nav.navbar").get_by_role("link", name=re.compile(name)).first.click()


def _state(page):
    return page.locator(".jixiao-state")


def _edit_goal(page, goal: str) -> None:
    """编辑 the sheet's overall goal and 保存: back on the sheet, which shows it."""
    page.get_by_role("link", name="编辑").click()
    page.locator("textarea[name=goal]").fill(goal)
    page.locator('input[type=submit][value="保存"]').click()
    expect(page).to_have_url(re.compile(r"/admin/targetsheet/sheet/\?id=\d+"))
    expect(page.get_by_text(goal)).to_be_visible()


def test_a_unit_and_its_department_carry_a_sheet_through_the_day(page_as, db, shot):
    dept = page_as("dept01")
    dept.goto("/admin/")
    waiting = _count(dept, "tasks")

    # 1. the unit's 待办 holds a returned sheet to fix; it fixes and submits it
    unit = page_as("unit0101")
    _nav(unit, "待办")
    task = unit.locator(".jixiao-task a", has_text="修改被退回的").first
    code = re.search(r"\d{4}-[A-Z0-9]+-\d+", task.inner_text()).group(0)
    shot(unit, "workbench_day_0_unit_tasks")
    task.click()
    expect(unit.get_by_role("heading", name=re.compile(f"绩效目标表: {code}"))).to_be_visible()
    expect(_state(unit)).to_have_text("已退回")
    _edit_goal(unit, FIRST_GOAL)
    unit.get_by_role("button", name="提交").click()
    expect(_state(unit)).to_have_text("待部门审核")

    # 2. the department's badge goes up; it opens the sheet from 待办 and returns it
    dept.reload()
    assert _count(dept, "tasks") == waiting + 1
    _nav(dept, "待办")
    dept.locator(".jixiao-task a", has_text=f"审核 {code}").click()
    expect(_state(dept)).to_have_text("待部门审核")
    expect(dept.get_by_role("link", name="编辑")).to_have_count(0)  # reviewers review
    dept.locator("textarea[name=comment]").fill(COMMENT)
    dept.get_by_role("button", name="退回修改").click()
    expect(_state(dept)).to_have_text("已退回")

    # 3. the unit is told, reads the comment, opens the sheet from the notification
    unit.goto("/admin/")
    assert _count(unit, "unread") >= 1
    _nav(unit, "通知")
    note = unit.locator("table tbody tr", has_text=COMMENT).first
    expect(note).to_contain_text(code)
    shot(unit, "workbench_day_1_unit_notified")
    note.get_by_role("link", name="打开").click()
    expect(_state(unit)).to_have_text("已退回")
    expect(unit.locator(".jixiao-history")).to_contain_text(COMMENT)
    _edit_goal(unit, FIXED_GOAL)
    unit.get_by_role("button", name="提交").click()
    expect(_state(unit)).to_have_text("待部门审核")

    # 4. the department approves from its 待办; the finance bureau from its queue
    dept.goto("/admin/tasks/")
    dept.locator(".jixiao-task a", has_text=f"审核 {code}").click()
    dept.get_by_role("button", name="审核通过").click()
    expect(_state(dept)).to_have_text("待财政审核")
    finance = page_as("finance")
    _nav(finance, "待办")
    finance.locator(".jixiao-task a", has_text="待财政审核 绩效目标表").click()
    finance.get_by_role("link", name=re.compile(code)).first.click()
    expect(finance.get_by_text(FIXED_GOAL)).to_be_visible()
    finance.get_by_role("button", name="审核通过").click()
    expect(_state(finance)).to_have_text("已通过")

    # 5. the item's page, the project's one place, shows the approved targets
    with db.connect() as conn:
        item_id = conn.execute(text(
            "SELECT budget_item_id FROM target_sheet s JOIN budget_item i "
            "ON i.id = s.budget_item_id WHERE i.code = :code AND s.goal = :goal"),
            {"code": code, "goal": FIXED_GOAL}).scalar_one()
    unit.goto(f"/admin/budgetitem/details/?id={item_id}")
    panel = unit.locator(".jixiao-targets-panel")
    expect(panel).to_contain_text("已通过")
    expect(panel).to_contain_text(FIXED_GOAL)
    shot(unit, "workbench_day_2_item_page")
