"""Excel import and export: validation with sheet/row/column errors, all-or-nothing commits."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from core.models.budget import ITEM_KIND_LABELS, BudgetItem, ItemKind
from core.models.fiscal import FiscalYear
from core.models.org import OrgUnit
from core.services.excel import (
    Column,
    ExportColumn,
    ExportSheet,
    ImportRejected,
    ImportResult,
    RowError,
    SheetSpec,
    boolean,
    commit_all_or_nothing,
    date_value,
    enum_label,
    integer,
    money,
    read_rows,
    text,
    write_rows,
    xlsx_response,
)
from plugins.system.demo import DEMO_YEAR
from tests.support import workbook

HEADERS = ["项目编码", "项目名称", "单位编码", "金额（元）", "项目类型", "是否新增", "开始日期"]


def item_spec() -> SheetSpec:
    return SheetSpec("预算项目", [
        Column("项目编码", "code", text(max_length=40)),
        Column("项目名称", "name", text()),
        Column("单位编码", "org", text()),
        Column("金额（元）", "amount", money()),
        Column("项目类型", "kind", enum_label(ITEM_KIND_LABELS)),
        Column("是否新增", "is_new", boolean()),
        Column("开始日期", "start", date_value(), required=False),
    ])


def workbook_bytes(rows, headers=HEADERS, title="预算项目", edit=None) -> bytes:
    return workbook(rows, headers, sheet=title, edit=edit)


def where(result: ImportResult) -> list[tuple]:
    return [(e.sheet, e.row, e.column_letter, e.column_header) for e in result.errors]


# --- Reading ------------------------------------------------------------------

def test_a_good_file_gives_typed_rows_whatever_the_column_order(app):
    with app.app_context():  # labels in the default language, as the template shows them
        project, policy = str(ITEM_KIND_LABELS[ItemKind.PROJECT]), str(ITEM_KIND_LABELS[ItemKind.POLICY])
        headers = ["备注", *reversed(HEADERS)]
        data = workbook_bytes([
            ["", date(2026, 3, 1), "是", project, D("1234567.89"), "D01U01", "义务教育补助", "X-001"],
            [None] * 8,  # blank rows are skipped
            ["note", "2026/04/01", "否", policy, "1,000", "D01", "政策", 42],
            [None, None, False, policy, 1234.5, "D01", "浮点录入", "X-003"],
        ], headers=headers)
        result = read_rows(data, item_spec())
    assert result.ok, [str(e) for e in result.errors]
    first, second, third = result.rows
    assert (first.row, second.row, third.row) == (2, 4, 5)
    assert first.values == {"code": "X-001", "name": "义务教育补助", "org": "D01U01",
                            "amount": D("1234567.89"), "kind": ItemKind.PROJECT,
                            "is_new": True, "start": date(2026, 3, 1)}
    assert second["code"] == "42" and second["amount"] == D("1000.00")
    assert second["start"] == date(2026, 4, 1) and second["kind"] is ItemKind.POLICY
    assert third["amount"] == D("1234.50") and third["is_new"] is False and third["start"] is None


def test_wrong_headers_list_every_missing_column_and_read_nothing():
    headers = ["项目编码", "名称", "单位编码", "金额", "项目类型", "是否新增", "开始日期"]
    result = read_rows(workbook_bytes([["X", "n", "D01", 1, "Project", "是", None]],
                                      headers=headers), item_spec())
    assert result.rows == []
    assert [(e.sheet, e.row, e.column_header, str(e.message)) for e in result.errors] == [
        ("预算项目", 1, "项目名称", "The column “项目名称” is missing from row 1."),
        ("预算项目", 1, "金额（元）", "The column “金额（元）” is missing from row 1."),
    ]


def test_a_missing_sheet_names_the_sheets_found():
    result = read_rows(workbook_bytes([], title="Sheet1"), item_spec())
    assert [str(e) for e in result.errors] == [
        "预算项目: The sheet “预算项目” is missing (found: Sheet1)."]


def test_strict_sheets_refuse_unknown_columns():
    spec = SheetSpec("预算项目", [Column("项目编码", "code")], extra_columns_allowed=False)
    result = read_rows(workbook_bytes([["X"]], headers=["项目编码", "多余"]), spec)
    assert where(result) == [("预算项目", 1, "B", "多余")]


def test_bad_cells_are_all_listed_together_with_sheet_row_and_column():
    def edit(ws):
        ws["D3"] = "=SUM(D2:D2)"
        ws.merge_cells("A6:B6")

    data = workbook_bytes([
        ["X-1", "ok", "D01", D("10.00"), "Project", "是", None],
        ["X-2", "formula", "D01", None, "Project", "是", None],
        ["X-3", "text money", "D01", "一百元", "Project", "也许", "明天"],
        ["X-4", "three places", "D01", "12.345", "Projekt", "否", None],
        ["X-5", "", "D01", D("1.00"), "Project", "否", None],
    ], edit=edit)
    with_english_labels = read_rows(data, item_spec())
    assert [str(e) for e in with_english_labels.errors] == [
        "预算项目!D3 (金额（元）): This cell holds a formula (=SUM(D2:D2)); enter the value instead.",
        "预算项目!D4 (金额（元）): Not a valid amount.",
        "预算项目!F4 (是否新增): Enter 是 or 否.",
        "预算项目!G4 (开始日期): Enter a date such as 2024-03-31.",
        "预算项目!D5 (金额（元）): At most two decimal places (fen) are allowed.",
        "预算项目!E5 (项目类型): Choose one of: Project、Fiscal policy、Department overall expenditure.",
        "预算项目!A6 (项目编码): Merged cells (A6:B6) are not allowed in the data area; unmerge them.",
    ]
    assert [r.row for r in with_english_labels.rows] == [2]  # nothing else parsed cleanly


def test_required_cells_and_numbers():
    spec = SheetSpec("预算项目", [Column("项目编码", "code"), Column("数量", "n", integer(minimum=1))])
    result = read_rows(workbook_bytes([["A", 3], ["  ", 2], ["C", 0], ["D", "2.5"]],
                                      headers=["项目编码", "数量"]), spec)
    assert [(e.row, e.column_letter, str(e.message)) for e in result.errors] == [
        (3, "A", "This cell is required."),
        (4, "B", "The number must be at least 1."),
        (5, "B", "Enter a whole number."),
    ]
    assert [r["n"] for r in result.rows] == [3]


def test_a_float_left_by_a_calculation_is_not_rounded_into_money():
    result = read_rows(workbook_bytes([["X", "n", "D01", 100 / 3, "Project", "是", None]]),
                       item_spec())
    assert [str(e.message) for e in result.errors] == ["At most two decimal places (fen) are allowed."]


@pytest.mark.parametrize("payload", [
    b"this is not a workbook",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,  # an old .xls (OLE) header
    b"",
])
def test_files_that_are_not_workbooks_get_one_clear_error(payload):
    result = read_rows(payload, item_spec())
    assert [str(e) for e in result.errors] == [
        "The file is not an Excel workbook (.xlsx). Save it as an .xlsx file and try again."]


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    result = read_rows(buffer.getvalue(), item_spec())
    assert "not an Excel workbook" in str(result.errors[0])


def test_too_large_files_are_refused_before_they_are_opened(tmp_path):
    data = workbook_bytes([["X", "n", "D01", 1, "Project", "是", None]])
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        result = read_rows(source, item_spec(), max_bytes=1024)
        assert [str(e) for e in result.errors] == ["The file is larger than 1 KB."]
    assert read_rows(path, item_spec()).ok


def test_too_many_rows_and_too_many_errors_stop_the_read():
    rows = [[f"X{i}", "n", "D01", "bad", "Project", "是", None] for i in range(30)]
    result = read_rows(workbook_bytes(rows), item_spec(), max_rows=10)
    assert str(result.errors[-1]) == (
        "预算项目 row 12: The sheet has more than 10 data rows; split the file.")
    capped = read_rows(workbook_bytes(rows), item_spec(), max_errors=5)
    assert len(capped.errors) == 6
    assert str(capped.errors[-1]) == "预算项目: Too many errors; only the first 5 are listed."


def test_an_uploaded_file_storage_is_read(app):
    data = workbook_bytes([["X", "n", "D01", 5, "Project", "否", None]])
    upload = FileStorage(stream=io.BytesIO(data), filename="项目.xlsx")
    result = read_rows(upload, item_spec())
    assert result.ok and result.rows[0]["amount"] == D("5.00")


# --- Committing all or nothing -------------------------------------------------

def _rows(db_session, *specs):
    """An ImportResult for new budget items with the given codes (and org codes)."""
    rows = [{"code": code, "name": f"导入{code}", "org": org, "amount": D("100.00"),
             "kind": ItemKind.PROJECT, "is_new": True, "start": None} for code, org in specs]
    from core.services.excel import ImportedRow

    return ImportResult(rows=[ImportedRow("预算项目", i + 2, r) for i, r in enumerate(rows)])


def _apply(session, row):
    org = session.scalar(select(OrgUnit).where(OrgUnit.code == row["org"]))
    if org is None:
        raise RowError(f"Unknown unit {row['org']}", column="单位编码")
    year = session.scalar(select(FiscalYear).where(FiscalYear.year == DEMO_YEAR))
    session.add(BudgetItem(code=row["code"], name=row["name"], amount=row["amount"],
                           kind=row["kind"], is_new=row["is_new"], org_unit=org,
                           fiscal_year=year))


def _count(session, prefix):
    return session.scalar(select(func.count()).select_from(BudgetItem)
                          .where(BudgetItem.code.startswith(prefix)))


def test_one_bad_row_rolls_back_every_row(db_session):
    result = _rows(db_session, ("IMP-A1", "D01U01"), ("IMP-A2", "NOPE"), ("IMP-A3", "D01U02"),
                   ("IMP-A4", "ALSO-NOPE"))
    with pytest.raises(ImportRejected) as exc:
        commit_all_or_nothing(db_session, result, _apply)
    assert [(e.sheet, e.row, e.column_header, str(e.message)) for e in exc.value.errors] == [
        ("预算项目", 3, "单位编码", "Unknown unit NOPE"),
        ("预算项目", 5, "单位编码", "Unknown unit ALSO-NOPE")]
    db_session.rollback()
    assert _count(db_session, "IMP-A") == 0


def test_a_constraint_violation_names_the_row_and_nothing_is_kept(db_session):
    result = _rows(db_session, ("IMP-B1", "D01U01"), ("IMP-B2", "D01U01"), ("IMP-B1", "D02U01"))
    with pytest.raises(ImportRejected) as exc:
        commit_all_or_nothing(db_session, result, _apply)
    assert [(e.row, str(e.message)) for e in exc.value.errors] == [
        (4, "该行与现有数据冲突（重复或引用不存在）。")]
    db_session.rollback()
    assert _count(db_session, "IMP-B") == 0


def test_an_unexpected_exception_rolls_back_and_propagates(db_session):
    def explode(session, row):
        _apply(session, row)
        if row["code"] == "IMP-C2":
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        commit_all_or_nothing(db_session, _rows(db_session, ("IMP-C1", "D01U01"),
                                                ("IMP-C2", "D01U01")), explode)
    db_session.rollback()
    assert _count(db_session, "IMP-C") == 0


def test_a_result_with_errors_is_never_applied(db_session):
    calls = []
    bad = read_rows(b"nonsense", item_spec())
    with pytest.raises(ImportRejected):
        commit_all_or_nothing(db_session, bad, lambda s, r: calls.append(r))
    assert calls == []


def test_a_clean_import_applies_every_row_and_leaves_the_commit_to_the_caller(db_session):
    result = _rows(db_session, ("IMP-D1", "D01U01"), ("IMP-D2", "D02U01"))
    assert commit_all_or_nothing(db_session, result, _apply, commit=False) == 2
    assert _count(db_session, "IMP-D") == 2
    db_session.rollback()  # the caller changes its mind: nothing was committed behind its back
    assert _count(db_session, "IMP-D") == 0


def test_a_clean_import_commits(db_session):
    result = _rows(db_session, ("IMP-E1", "D01U01"))
    try:
        assert commit_all_or_nothing(db_session, result, _apply) == 1
        db_session.expire_all()
        assert _count(db_session, "IMP-E") == 1
    finally:
        for item in db_session.scalars(select(BudgetItem).where(BudgetItem.code == "IMP-E1")):
            db_session.delete(item)
        db_session.commit()


# --- Writing ------------------------------------------------------------------

def _export_sheets():
    rows = iter([
        ["X-001", "=HYPERLINK(\"http://evil\")", D("1234567.8"), date(2026, 3, 1), True,
         ItemKind.PROJECT],
        ["X-002", "带\x07控制符", D("0.05"), datetime(2026, 3, 1, 9, 30), False, None],
    ])
    return [ExportSheet("预算项目", [ExportColumn("项目编码", width=14), "项目名称", "金额（元）",
                                     "日期", "是否新增", "类型"], rows)]


def test_write_rows_keeps_numbers_dates_and_text_as_such(tmp_path):
    path = tmp_path / "out.xlsx"
    write_rows(path, _export_sheets())
    ws = load_workbook(path)["预算项目"]
    assert [c.value for c in ws[1]] == ["项目编码", "项目名称", "金额（元）", "日期", "是否新增", "类型"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 14 and ws.column_dimensions["C"].width >= 10
    assert ws["B2"].value == "=HYPERLINK(\"http://evil\")" and ws["B2"].data_type == "s"
    assert ws["C2"].value == 1234567.8 and ws["C2"].number_format == "#,##0.00"
    assert ws["D2"].value == datetime(2026, 3, 1) and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["D3"].number_format == "yyyy-mm-dd hh:mm"
    assert (ws["E2"].value, ws["E3"].value) == ("是", "否")
    assert ws["F2"].value == "project" and ws["B3"].value == "带控制符"


def test_an_export_reads_back_through_the_import():
    out = io.BytesIO()
    write_rows(out, [ExportSheet("预算项目", ["项目编码", "金额（元）", "是否新增", "开始日期"],
                                 [["X-1", D("99.99"), True, date(2026, 1, 31)]])])
    spec = SheetSpec("预算项目", [Column("项目编码", "code"), Column("金额（元）", "amount", money()),
                                  Column("是否新增", "new", boolean()),
                                  Column("开始日期", "start", date_value())])
    result = read_rows(out.getvalue(), spec)
    assert result.ok
    assert result.rows[0].values == {"code": "X-1", "amount": D("99.99"), "new": True,
                                     "start": date(2026, 1, 31)}


def test_floats_are_refused_in_exports():
    with pytest.raises(TypeError, match="Decimal, not float"):
        write_rows(io.BytesIO(), [ExportSheet("x", ["金额"], [[1.5]])])


def test_xlsx_response_streams_a_workbook_with_a_chinese_filename(app):
    with app.test_request_context():
        response = xlsx_response(_export_sheets(), "2026年 预算项目.xlsx")
        body = b"".join(response.response)
        response.close()
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"2026 .xlsx\"; "
        "filename*=UTF-8''2026%E5%B9%B4%20%E9%A2%84%E7%AE%97%E9%A1%B9%E7%9B%AE.xlsx")
    assert int(response.headers["Content-Length"]) == len(body)
    assert load_workbook(io.BytesIO(body))["预算项目"]["A2"].value == "X-001"


def test_an_all_chinese_filename_gets_an_ascii_fallback(app):
    with app.test_request_context():
        response = xlsx_response([ExportSheet("x", ["a"], [])], "导出.xlsx")
        response.close()
    assert response.headers["Content-Disposition"].startswith('attachment; filename="export.xlsx"; ')
