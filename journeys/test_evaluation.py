"""Self-evaluation: a unit enters the year's actual values, the sheet is scored, the score screen
explains every point, and the department's approval finalizes it.

unit0301 opens one of its self-evaluations of the closed year that is not scored yet,
enters the amount spent and each indicator's actual value (one quantity target
missed, with the reason), and saves: the screen shows per indicator the target, the
actual, the scoring method, the weight, the points and the formula, the total score
and the grade. The unit submits; dept03 approves; the evaluation is 已定稿.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

REASON = "受场地改造影响，一个子项目顺延至次年实施。"


def _not_scored_yet(page) -> str:
    """Open the first of the unit's self-evaluations in draft that has no score yet."""
    page.locator("#admin-navbar-collapse").get_by_role("link", name="绩效评价", exact=True).click()
    page.locator("#admin-navbar-collapse").get_by_role("link", name="单位自评", exact=True).click()
    drafts = page.locator("table tbody tr", has_text=re.compile("待(单位)?提交"))  # a draft
    links = drafts.get_by_role("link", name=re.compile(r"\d{5}"))
    hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
    for href in hrefs:
        page.goto(href)
        if page.get_by_text("尚未评分").count():
            return page.get_by_role("heading", name=re.compile("绩效自评")).inner_text()
    raise AssertionError("unit0301 has no self-evaluation left to enter")


def _number(text: str) -> Decimal | None:
    found = re.search(r"\d+(\.\d+)?", text)
    return Decimal(found.group(0)) if found else None


def test_a_unit_enters_actual_values_and_sees_how_each_point_was_scored(page_as, shot):
    unit = page_as("unit0301")
    title = _not_scored_yet(unit)
    code = re.search(r"\d{4}-[A-Z0-9]+-\d{5}", title).group(0)
    expect(unit.locator(".jixiao-state")).to_have_text("待单位提交")

    # 1. the amount spent (95% of the budget) and every actual value
    budget_cell = unit.locator("tr[data-line=execution] td").nth(1).inner_text()
    budget = Decimal(budget_cell.split()[-1].replace(",", ""))
    unit.locator("input[name=spent]").fill(str((budget * Decimal("0.95")).quantize(
        Decimal("0.01"))))
    lines = unit.locator("table.jixiao-trace tbody tr:not([data-line=execution])")
    missed = None
    for n in range(lines.count()):
        line = lines.nth(n)
        name = line.locator("td").nth(2).inner_text()
        target = line.locator("td").nth(3).inner_text()
        if line.locator("select[name^=grade_]").count():
            line.locator("select[name^=grade_]").select_option(label="达成")
            line.locator("input[name^=ratio_]").fill("1")
            continue
        value = _number(target)
        if missed is None and "≥" in target and value > 1:  # one quantity target missed
            missed = name
            line.locator("input[name^=actual_]").fill(str(value - 1))
            line.locator("input[name^=explanation_]").fill(REASON)
        else:
            line.locator("input[name^=actual_]").fill(str(value))
    assert missed is not None
    unit.get_by_role("button", name="保存并评分").click()
    expect(unit.get_by_text("已保存并评分。")).to_be_visible()

    # 2. the score screen: total, grade, and the trace of every line
    expect(unit.locator(".jixiao-score")).to_contain_text("得分")
    score = _number(unit.locator(".jixiao-score strong").first.inner_text())
    grade = unit.locator(".jixiao-score strong").nth(1).inner_text()
    assert grade in ("优", "良", "中", "差")
    rows = unit.locator("table.jixiao-trace tbody tr")
    points = [Decimal(rows.nth(n).locator("td").nth(-3).inner_text())
              for n in range(rows.count())]
    assert sum(points) == score, (points, score)  # the screen adds up
    short = unit.locator("table.jixiao-trace tbody tr.table-warning")
    expect(short).to_have_count(1)
    expect(short).to_contain_text(missed)
    expect(short.locator("input[name^=explanation_]")).to_have_value(REASON)
    expect(short.locator("td").nth(5)).to_have_text("正向比例")  # the method, in words
    expect(unit.locator("table.jixiao-trace")).not_to_contain_text("achieved")  # 达成: 30 × 100 %
    execution = unit.locator("tr[data-line=execution] td")
    assert points[0] == Decimal(execution.nth(-4).inner_text()) * Decimal("0.95")  # weight × 95%
    shot(unit, "evaluation_1_scored")

    # 3. submitted by the unit, approved by the department: final
    unit.get_by_role("button", name="提交").click()
    expect(unit.locator(".jixiao-state")).to_have_text("待部门审核")
    dept = page_as("dept03")
    dept.goto(unit.url)
    expect(dept.get_by_role("heading", name=re.compile(code))).to_be_visible()
    dept.get_by_role("button", name="审核通过").click()
    expect(dept.locator(".jixiao-state")).to_have_text("已定稿")
    expect(dept.get_by_text("已定稿", exact=True)).to_be_visible()
    expect(dept.locator(".jixiao-score")).to_contain_text(str(score))
    expect(dept.locator("textarea[name=comment]")).to_have_count(0)  # nothing left to decide
    shot(dept, "evaluation")
