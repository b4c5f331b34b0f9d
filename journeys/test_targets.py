"""Performance targets: a unit writes its targets in Excel, the department returns them, the unit
corrects them, the department and then the finance bureau approve.

unit0101 (区教育局 unit D01U01) downloads the import template from the import page,
fills in the first of its items that has no targets yet, uploads it and submits;
dept01 returns it with a comment on one indicator; unit0101 downloads the template
again (now with its returned indicators), corrects the flagged value, uploads and
resubmits; dept01 approves, finance approves: the sheet reads 已审核通过.
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

STATUS = 13  # the template's last column, 填报状态
#: (一级, 二级, 三级, 比较符, 指标值, 计量单位, 权重)
INDICATORS = [
    ("产出", "数量", "完成项目数量", "≥", 3, "个", 30),
    ("产出", "质量", "验收合格率", "≥", 95, "%", 20),
    ("产出", "时效", "完成及时率", "≥", 100, "%", 10),
    ("效益", "社会效益", "公共服务水平", "定性", "明显提升", None, 30),
    ("满意度", "服务对象满意度", "服务对象满意度", "≥", 90, "%", 10),
]
GOAL = "完成年度建设任务，提升公共服务保障水平。"
COMMENT = "完成项目数量偏低，请按年度计划上调至5个。"


def _download_template(page, tmp_path: Path, name: str) -> Path:
    page.goto("/admin/targetsheet/")
    page.get_by_role("link", name="导入绩效目标表").click()
    expect(page.get_by_role("heading", name="导入绩效目标表")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="下载导入模板 (2026)").click()
    path = tmp_path / name
    info.value.save_as(path)
    return path


def _upload(page, path: Path) -> None:
    page.locator("select[name=year]").select_option("2026")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_text("已导入 5 条指标。")).to_be_visible()


def _open_sheet(page, code: str) -> None:
    page.goto("/admin/targetsheet/")
    page.get_by_role("link", name=re.compile(code)).click()
    expect(page.get_by_role("heading", name=re.compile(f"绩效目标表: {code}"))).to_be_visible()


def _state(page):
    return page.locator(".jixiao-state")


def test_targets_written_in_excel_returned_corrected_and_approved(page_as, shot, tmp_path):
    unit = page_as("unit0101")

    # 1. the template lists the unit's items; fill the first one that has no targets yet
    path = _download_template(unit, tmp_path, "template.xlsx")
    shot(unit, "targets_0_import_page")
    wb = load_workbook(path)
    ws = wb["绩效目标"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    code, name = next((r[0], r[1]) for r in rows if r[STATUS] == "尚未填报")
    ws.delete_rows(2, ws.max_row)  # keep the header; only this item is filled in now
    for n, (l1, l2, l3, comp, value, unit_, weight) in enumerate(INDICATORS):
        ws.append([code, name, GOAL if n == 0 else None, l1, l2, l3, comp, value, unit_, weight,
                   None, "单位统计台账", None, None])
    wb.save(path)
    _upload(unit, path)
    shot(unit, "targets_1_imported")

    # 2. the unit opens its draft and submits it
    _open_sheet(unit, code)
    expect(_state(unit)).to_have_text("待单位提交")
    expect(unit.locator("table.jixiao-indicators")).to_contain_text("完成项目数量")
    unit.get_by_role("button", name="提交").click()
    expect(unit.get_by_text("已完成：提交。")).to_be_visible()
    expect(_state(unit)).to_have_text("待部门审核")

    # 3. the department returns it with a comment on the quantity indicator
    dept = page_as("dept01")
    _open_sheet(dept, code)
    expect(_state(dept)).to_have_text("待部门审核")
    row = dept.locator("table.jixiao-indicators tbody tr", has_text="完成项目数量")
    row.locator("input").fill(COMMENT)
    dept.locator("textarea[name=comment]").fill("数量指标需按年度计划调整后重新报送。")
    shot(dept, "targets_2_dept_review")
    dept.get_by_role("button", name="退回修改").click()
    expect(_state(dept)).to_have_text("已退回")

    # 4. the unit sees why, corrects the value in the template and resubmits
    _open_sheet(unit, code)
    expect(_state(unit)).to_have_text("已退回")
    expect(unit.locator(".jixiao-review-comment")).to_have_text(COMMENT)
    expect(unit.locator(".jixiao-history")).to_contain_text("数量指标需按年度计划调整后重新报送。")
    shot(unit, "targets_3_returned")
    path = _download_template(unit, tmp_path, "returned.xlsx")
    wb = load_workbook(path)
    ws = wb["绩效目标"]
    for row_no in range(ws.max_row, 1, -1):  # keep only this item's rows
        if ws.cell(row_no, 1).value != code:
            ws.delete_rows(row_no)
    mine = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[5] for r in mine] == [i[2] for i in INDICATORS]
    assert all(r[STATUS] == "已退回" for r in mine)
    quantity = next(n for n, r in enumerate(mine, start=2) if r[5] == "完成项目数量")
    ws.cell(quantity, 8).value = 5
    wb.save(path)
    _upload(unit, path)
    _open_sheet(unit, code)
    expect(unit.locator("table.jixiao-indicators tbody tr", has_text="完成项目数量")
           ).to_contain_text("5")
    unit.get_by_role("link", name="修订对比").click()
    expect(unit.locator("table.jixiao-diff")).to_contain_text("完成项目数量")
    expect(unit.locator("table.jixiao-diff")).to_contain_text("5")
    unit.get_by_role("link", name=re.compile("返回")).click()
    unit.get_by_role("button", name="提交").click()
    expect(_state(unit)).to_have_text("待部门审核")

    # 5. the department approves, then the finance bureau
    _open_sheet(dept, code)
    dept.get_by_role("button", name="审核通过").click()
    expect(dept.get_by_text("已完成：审核通过。")).to_be_visible()
    expect(_state(dept)).to_have_text("待财政审核")  # now with the finance bureau
    expect(dept.get_by_role("button", name="审核通过")).to_have_count(0)
    finance = page_as("finance")
    _open_sheet(finance, code)
    finance.get_by_role("button", name="审核通过").click()
    expect(_state(finance)).to_have_text("已通过")

    # 6. the unit sees the approved sheet; it can no longer be changed
    _open_sheet(unit, code)
    expect(_state(unit)).to_have_text("已通过")
    expect(unit.get_by_role("button", name="提交")).to_have_count(0)
    expect(unit.get_by_role("link", name="编辑")).to_have_count(0)
    shot(unit, "targets")
