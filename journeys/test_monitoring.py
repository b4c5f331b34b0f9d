"""Execution monitoring: a unit reports spending far behind time, the item turns red, and the
finance bureau adjusts its budget.

In the demo's open round (2026年1-7月绩效运行监控), unit0601 opens one of its records
not reported yet (未填报), enters the spending to date (a tenth of the budget while
58% of the period has passed) and the progress of every indicator, and submits
with the reason and corrective measures: the record shows 红灯 in the list. Its
department (dept06) returns the report for a fuller reason, the unit adds it and submits
again, and the department accepts it; the history names each step and person.
finance finds the red record, records the decision 调整预算 with a new budget and
approves it: the decision reads 已审核通过 and the budget item's amount is the new one.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import text

ROUND = "2026年1-7月绩效运行监控"
RETURN_NOTE = "请说明流标原因及二次招标的合同签订时间。"
FULLER = "设备采购首次招标因投标人不足3家流标，二次招标7月20日完成，合同8月5日签订。"
ACCEPTED = "原因和整改措施清楚，同意上报。"


def _cell_after(page, header: str):
    return page.locator(f"xpath=//th[normalize-space()='{header}']/following-sibling::td[1]")


def _open_record(page, code: str) -> None:
    page.goto("/admin/monitoringrecord/")
    page.get_by_placeholder(re.compile("项目编码")).fill(code)
    page.get_by_placeholder(re.compile("项目编码")).press("Enter")
    page.locator("table tbody tr", has_text=ROUND).get_by_role(
        "link", name=re.compile(code)).click()
    expect(page.get_by_role("heading", name=re.compile(f"监控记录: {code}"))).to_be_visible()


def test_a_red_light_reported_by_a_unit_leads_to_a_budget_adjustment(page_as, shot, db):
    unit = page_as("unit0601")

    # 1. the unit's records, riskiest first; open one of this round not reported yet
    unit.locator("#admin-navbar-collapse").get_by_role("link", name="绩效运行监控", exact=True).click()
    unit.locator("#admin-navbar-collapse").get_by_role("link", name="监控记录", exact=True).click()
    row = unit.locator("table tbody tr", has_text=ROUND).filter(has_text="未填报").first
    code = re.search(r"\d{4}-[A-Z0-9]+-\d{5}", row.inner_text()).group(0)
    row.get_by_role("link", name=re.compile(code)).click()
    expect(unit.locator(".jixiao-light")).to_have_text("未填报")
    budget = Decimal(_cell_after(unit, "预算").inner_text().strip().replace(",", ""))
    assert "," in _cell_after(unit, "预算").inner_text()  # yuan with thousands separators
    spent = (budget / 10).quantize(Decimal("0.01"))

    # 2. spending to date and the progress of each indicator
    unit.locator("input[name=spent]").fill(str(spent))
    rows = unit.locator("table.jixiao-indicators tbody tr")
    for n in range(rows.count()):
        line = rows.nth(n)
        target = line.locator("td").nth(1).inner_text()
        number = re.search(r"\d+(\.\d+)?", target)
        if number:  # quantitative: about half of it so far, the whole of it by the year end
            value = Decimal(number.group(0))
            line.locator("input[name^=achieved_]").fill(str((value / 2).quantize(Decimal(1))))
            line.locator("input[name^=forecast_]").fill(number.group(0))
        else:
            line.locator("input[name^=achieved_]").fill("按计划推进")
            line.locator("input[name^=forecast_]").fill(target.split(" ", 1)[-1].strip())
        line.locator("select[name^=likelihood_]").select_option(label="有可能完成")
    unit.locator("select[name=reason]").select_option(label="采购延迟")
    unit.locator("input[name=reason_note]").fill("设备采购招标流标，二次招标于7月完成。")
    unit.locator("textarea[name=measures]").fill("倒排支付节点，9月底前完成合同首付款支付。")
    unit.locator("input[name=measures_due]").fill("2026-09-30")
    unit.get_by_role("button", name="保存并提交").click()
    expect(unit.get_by_text("已提交。")).to_be_visible()
    expect(unit.locator(".jixiao-state")).to_have_text("待部门审核")
    expect(unit.locator(".jixiao-light")).to_have_text("红灯")
    deviation = Decimal(_cell_after(unit, "执行进度偏差（百分点）").inner_text().strip())
    assert deviation >= 20, deviation
    shot(unit, "monitoring_1_reported")

    # 3. the light in the list the department and the bureau see
    unit.locator("#admin-navbar-collapse").get_by_role("link", name="绩效运行监控", exact=True).click()
    unit.locator("#admin-navbar-collapse").get_by_role("link", name="监控记录", exact=True).click()
    expect(unit.locator("table tbody tr", has_text=code).filter(has_text=ROUND)
           .locator(".jixiao-light")).to_have_text("红灯")
    shot(unit, "monitoring_0_list")

    # 4. the department returns the report, the unit gives a fuller reason and submits
    #    again, the department accepts it; the history names each step and person
    dept = page_as("dept06")
    _open_record(dept, code)
    expect(dept.locator(".jixiao-state")).to_have_text("待部门审核")
    dept.locator("textarea[name=comment]").fill(RETURN_NOTE)
    dept.get_by_role("button", name="退回修改").click()
    expect(dept.locator(".jixiao-state")).to_have_text("已退回")
    _open_record(unit, code)
    expect(unit.locator(".jixiao-state")).to_have_text("已退回")
    expect(unit.locator("body")).to_contain_text(RETURN_NOTE)
    unit.locator("input[name=reason_note]").fill(FULLER)
    unit.get_by_role("button", name="保存并提交").click()
    expect(unit.locator(".jixiao-state")).to_have_text("待部门审核")
    _open_record(dept, code)
    expect(dept.locator("input[name=reason_note]")).to_have_value(FULLER)
    dept.locator("textarea[name=comment]").fill(ACCEPTED)
    dept.get_by_role("button", name="审核通过").click()
    expect(dept.locator(".jixiao-state")).to_have_text("已通过")
    expect(dept.locator(".jixiao-light")).to_have_text("红灯")  # accepting changes no figure
    for said in (RETURN_NOTE, ACCEPTED):
        expect(dept.locator("body")).to_contain_text(said)
    expect(dept.locator("body")).to_contain_text("财务科")  # the department's name as actor
    shot(dept, "monitoring_1b_accepted")

    # 5. the finance bureau decides to adjust the budget, then approves the decision
    finance = page_as("finance")
    _open_record(finance, code)
    expect(finance.locator(".jixiao-light")).to_have_text("红灯")
    new_budget = (budget * Decimal("0.6")).quantize(Decimal("0.01"))
    finance.locator("select[name=decision]").select_option(label="调整预算")
    finance.get_by_placeholder("决定理由").fill("执行进度严重滞后，核减预算用于其他急需项目。")
    finance.get_by_placeholder("调整后预算").fill(str(new_budget))
    finance.get_by_role("button", name="记录纠偏决定").click()
    expect(finance.get_by_text("纠偏决定已记录。")).to_be_visible()
    decision = finance.locator(".jixiao-decisions li", has_text="调整预算")
    expect(decision).to_contain_text("已提交")
    shot(finance, "monitoring_2_decision")
    decision.get_by_role("button", name="审核通过").click()
    expect(finance.get_by_text("纠偏决定已记录。")).to_be_visible()
    expect(finance.locator(".jixiao-decisions li", has_text="调整预算")).to_contain_text(
        "已审核通过")

    # 6. the item's history shows the round, the light and the decision
    finance.get_by_role("link", name="项目监控历史").click()
    expect(finance.locator("body")).to_contain_text("调整预算")
    with db.connect() as conn:
        amount = conn.execute(text("SELECT amount FROM budget_item WHERE code = :c"),
                              {"c": code}).scalar_one()
    assert Decimal(str(amount)) == new_budget  # SQLite hands a raw NUMERIC back as a float
    shot(finance, "monitoring")
