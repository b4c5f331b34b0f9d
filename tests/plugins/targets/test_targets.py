"""The targets plugin: rules, Excel import, quality checks, review, API, scope, reports."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, Notification, State, User
from plugins.targets.models import IndicatorTemplate, TargetIndicator, TargetSheet
from plugins.targets.rules import TARGETS_2018, TARGETS_2021, TARGETS_2022, rules_for_year
from plugins.targets.validation import clean_indicator
from tests.plugins.targets.conftest import HEADERS, good_rows, workbook
from tests.support import csrf_from

GOOD = {"level1": "产出", "level2": "数量", "name": "完成数量", "comparator": "≥",
        "target_value": "10", "unit": "个", "weight": "40"}


# --- rule data --------------------------------------------------------------------------

def test_rule_versions_by_year_and_the_2021_extension():
    assert rules_for_year(2019, extra=()) is TARGETS_2018
    assert rules_for_year(2021, extra=()) is TARGETS_2021
    assert rules_for_year(2026, extra=()) is TARGETS_2022
    assert "成本" not in TARGETS_2021.categories and "成本" in TARGETS_2022.categories
    assert not TARGETS_2018.needs_targets("department_overall", "unit")
    assert TARGETS_2021.needs_targets("department_overall", "unit")
    assert TARGETS_2021.needs_targets("department_overall", "town_department")
    assert not TARGETS_2018.needs_targets("policy", "town_department")
    assert TARGETS_2021.needs_targets("policy", "town_department")
    custom = dict(TARGETS_2022.to_dict(), code="local-2027", valid_from=2027)
    assert rules_for_year(2027, extra=[custom]).code == "local-2027"


@pytest.mark.parametrize(("change", "field"), [
    ({"level1": "投入"}, "level1"),
    ({"level2": "社会效益"}, "level2"),
    ({"name": " "}, "name"),
    ({"comparator": ">>"}, "comparator"),
    ({"target_value": ""}, "target_value"),
    ({"target_value": "十个"}, "target_value"),
    ({"comparator": "区间", "target_value": "100-90"}, "target_value"),
    ({"unit": ""}, "unit"),
    ({"weight": "abc"}, "weight"),
    ({"weight": "0"}, "weight"),
    ({"weight": "10.555"}, "weight"),
    ({"weight": "101"}, "weight"),
    ({"scoring_method": "magic"}, "scoring_method"),
])
def test_each_bad_indicator_field_is_named(app, change, field):
    with app.app_context():
        _cleaned, problems = clean_indicator({**GOOD, **change}, TARGETS_2022)
    assert [p.field for p in problems] == [field]


def test_good_indicator_is_exact(app):
    with app.app_context():
        cleaned, problems = clean_indicator({**GOOD, "target_value": 0.1, "weight": "12.5"},
                                            TARGETS_2022)
        rng, rng_problems = clean_indicator(
            {**GOOD, "comparator": "区间", "target_value": "90～100"}, TARGETS_2022)
        qual, qual_problems = clean_indicator(
            {**GOOD, "level1": "效益", "level2": "社会效益", "comparator": "定性",
             "target_value": "明显提升", "unit": ""}, TARGETS_2022)
    assert not problems and cleaned["target_value"] == "0.1"
    assert cleaned["weight"] == Decimal("12.50") and cleaned["scoring_method"] == "proportional"
    assert not rng_problems and rng["target_value"] == "90-100"
    assert not qual_problems and qual["scoring_method"] == "qualitative"


# --- Excel import ------------------------------------------------------------------------

def _indicator_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(TargetIndicator.id)))


def _upload(client, data: bytes, year: int = 2026):
    page = client.get("/admin/targetsheet/import/")
    return client.post("/admin/targetsheet/import/", data={
        "csrf_token": csrf_from(page.text), "year": str(year),
        "file": (__import__("io").BytesIO(data), "targets.xlsx")},
        content_type="multipart/form-data")


def test_import_writes_every_sheet_and_export_reads_back(app, login, draft_items):
    client = login("unit0101")
    rows = [r for _id, code in draft_items[:2] for r in good_rows(code)]
    r = _upload(client, workbook(rows))
    assert r.status_code == 302, r.text[-2000:]
    with app.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(
            TargetSheet.budget_item_id == draft_items[0][0]))
        assert sheet.goal == "完成建设任务" and sheet.state == State.DRAFT
        assert [(i.name, i.target_value, i.weight) for i in sheet.indicators] == [
            ("完成数量", "10", Decimal("40.00")), ("服务水平", "明显提升", Decimal("30.00")),
            ("满意度", "90", Decimal("30.00"))]
        assert sheet.org_unit_id == db.session.get(BudgetItem, draft_items[0][0]).org_unit_id
        version = sheet.version
    # importing again replaces, it does not add, and gives the sheet a new version
    before = _indicator_count(app)
    assert _upload(client, workbook(rows)).status_code == 302
    assert _indicator_count(app) == before
    with app.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(
            TargetSheet.budget_item_id == draft_items[0][0]))
        assert sheet.version == version + 1 and len(sheet.indicators) == 3


@pytest.mark.parametrize(("case", "expected"), [
    ("headers", "权重"), ("merged", "F2:F3"), ("formula", "5+5"), ("text_number", "权重"),
    ("unknown_code", "NOPE-1"), ("duplicate", "三级指标"), ("weights", "权重"),
])
def test_bad_workbooks_are_refused_with_every_error_and_nothing_written(
        app, login, draft_items, case, expected):
    client = login("finance")
    code = draft_items[2][1]
    rows = good_rows(code)
    headers, edit = HEADERS, None
    if case == "headers":
        headers = [h if h != "权重" else "分值" for h in HEADERS]
    elif case == "merged":
        def edit(ws):
            ws.merge_cells("F2:F3")
    elif case == "formula":
        rows[0][7] = "=5+5"
    elif case == "text_number":
        rows[0][9] = "四十"
    elif case == "unknown_code":
        rows.append(["NOPE-1", "", "", "产出", "数量", "x", "≥", 1, "个", 100, "", "", ""])
    elif case == "duplicate":
        rows.append(list(rows[0]))
        rows[-1][9] = 0.01
    elif case == "weights":
        rows[0][9] = 50
    before = _indicator_count(app)
    r = _upload(client, workbook(rows, headers=headers, edit=edit))
    assert r.status_code == 200
    assert "jixiao-import-errors" in r.text and expected in r.text
    assert _indicator_count(app) == before


def test_errors_found_after_the_cell_check_name_sheet_row_and_column(app, login, draft_items):
    from flask_login import login_user

    from core.services.excel import ImportRejected
    from plugins.targets.excel_io import import_sheets

    code = draft_items[2][1]
    rows = good_rows(code)
    rows.append(["NOPE-3", "", "", "产出", "数量", "x", "≥", 1, "个", 100, "", "", ""])
    rows.append(list(rows[0]))  # a duplicate indicator: the weights no longer add up
    rows[1][2] = "另一个目标"     # a second, different goal for the same item
    before = _indicator_count(app)
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == "finance")))
        with pytest.raises(ImportRejected) as caught:
            import_sheets(workbook(rows), 2026)
    found = {(e.sheet, e.row, e.column_letter, e.column_header) for e in caught.value.errors}
    assert ("绩效目标", 5, "A", "项目编码") in found          # unknown code
    assert ("绩效目标", 6, "F", "三级指标") in found          # duplicate
    assert ("绩效目标", 2, "J", "权重") in found              # weights of the item
    assert ("绩效目标", 3, "C", "总体目标") in found          # differing goal
    assert "绩效目标!A5 (项目编码)" in [str(e).split(":")[0] for e in caught.value.errors]
    assert _indicator_count(app) == before


def test_all_errors_are_listed_together(app, login, draft_items):
    client = login("finance")
    rows = good_rows(draft_items[2][1])
    rows[0][3] = "投入"      # level 1
    rows[1][9] = "abc"      # weight
    rows.append(["NOPE-2", "", "", "产出", "数量", "x", "≥", 1, "个", 100, "", "", ""])
    r = _upload(client, workbook(rows))
    assert "投入" in r.text and "NOPE-2" in r.text and r.text.count("<tr>") >= 4


def test_a_unit_cannot_import_into_another_units_item(app, login, draft_items):
    client = login("unit0102")
    before = _indicator_count(app)
    r = _upload(client, workbook(good_rows(draft_items[0][1])))
    assert r.status_code == 200 and draft_items[0][1] in r.text
    assert _indicator_count(app) == before


def _template_rows(client, year: int = 2026) -> list[tuple]:
    r = client.get(f"/admin/targetsheet/template/?year={year}")
    assert r.status_code == 200, r.text[-2000:]
    ws = load_workbook(io.BytesIO(r.data))["绩效目标"]
    return list(ws.iter_rows(values_only=True))


def test_the_import_template_lists_the_units_open_items_and_reads_back(app, login, draft_items):
    client = login("unit0101")
    page = client.get("/admin/targetsheet/import/")
    assert "下载导入模板" in page.text and "/admin/targetsheet/template/?year=2026" in page.text
    rows = _template_rows(client)
    assert rows[0][:13] == tuple(HEADERS) and rows[0][13] == "填报状态"
    codes = {r[0] for r in rows[1:]}
    # the unit's new items, with their name and "no targets yet"; nobody else's
    for _id, code in draft_items:
        assert (code, "尚未填报") in {(r[0], r[13]) for r in rows[1:]}
    with app.app_context():
        unit = db.session.scalar(select(User.org_unit_id).where(User.username == "unit0101"))
        owners = set(db.session.scalars(
            select(BudgetItem.org_unit_id).where(BudgetItem.code.in_(codes))))
    assert owners == {unit}, codes
    # fill the first item, upload: it becomes a draft with its indicators in the template
    code = draft_items[0][1]
    assert _upload(client, workbook(good_rows(code))).status_code == 302
    mine = [r for r in _template_rows(client) if r[0] == code]
    assert [(r[5], r[9], r[13]) for r in mine] == [
        ("完成数量", 40, "草稿"), ("服务水平", 30, "草稿"), ("满意度", 30, "草稿")]
    assert mine[0][2] == "完成建设任务"
    # the template (with its status column) imports as it is
    before = _indicator_count(app)
    assert _upload(client, workbook([list(r[:13]) for r in mine])).status_code == 302
    assert _indicator_count(app) == before


def test_the_import_template_leaves_out_sheets_under_review_or_approved(app, login):
    client = login("unit0101")
    with app.app_context():
        closed = set(db.session.scalars(
            select(BudgetItem.code).join(TargetSheet, TargetSheet.budget_item_id == BudgetItem.id)
            .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
            .where(FiscalYear.year == 2026, TargetSheet.state.in_(
                (State.SUBMITTED, State.APPROVED)))))
    codes = {r[0] for r in _template_rows(client)[1:]}
    assert codes and not codes & closed


# --- API, quality checks, workflow, diff ------------------------------------------------

def _indicators(out_weight="40"):
    return [
        {"level1": "产出", "level2": "数量", "name": "完成数量", "comparator": "ge",
         "target_value": "10", "unit": "个", "weight": out_weight},
        {"level1": "效益", "level2": "社会效益", "name": "服务水平", "comparator": "qualitative",
         "target_value": "明显提升", "weight": "30"},
        {"level1": "满意度", "level2": "服务对象满意度", "name": "满意度", "comparator": "ge",
         "target_value": "90", "unit": "%", "weight": "30"},
    ]


def _api_post(client, body):
    token = csrf_from(client.get("/admin/").text)
    return client.post("/api/v1/target-sheets", json=body, headers={"X-CSRFToken": token})


def test_api_validation_lists_every_problem_and_writes_nothing(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[1][0]
    bad = _indicators(out_weight="45")
    bad[2]["unit"] = ""
    bad.append(dict(bad[0], weight="0.5"))
    before = _indicator_count(app)
    r = _api_post(client, {"budget_item_id": item_id, "goal": "g", "indicators": bad})
    assert r.status_code == 422
    details = r.get_json()["details"]
    assert {"indicators.2.unit", "indicators.3.name", "indicators.weight"} <= set(details)
    r = _api_post(client, {"budget_item_id": item_id, "goal": "g",
                           "indicators": [dict(_indicators()[0], weight=40.0)]})
    assert r.status_code == 422 and "indicators.0" in r.get_json()["details"]
    assert _indicator_count(app) == before


def test_submit_runs_quality_checks_then_review_chain_with_comments_and_diff(
        app, login, draft_items):
    unit, dept, fin = login("unit0101"), login("dept01"), login("finance")
    item_id = draft_items[1][0]
    no_benefit = [i for i in _indicators() if i["level1"] != "效益"]
    no_benefit[0]["weight"] = "70"
    r = _api_post(unit, {"budget_item_id": item_id, "goal": "", "submit": True,
                         "indicators": no_benefit})
    assert r.status_code == 422
    text = " ".join(r.get_json()["details"]["sheet"])
    assert "效益" in text and "总体目标" in text
    r = _api_post(unit, {"budget_item_id": item_id, "goal": "目标", "submit": True,
                         "indicators": _indicators()})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "submitted" and body["revision"] == 1
    sheet_id = body["id"]

    def act(client, action, **extra):
        page = client.get(f"/admin/targetsheet/sheet/?id={sheet_id}")
        return client.post("/admin/targetsheet/workflow/", data={
            "csrf_token": csrf_from(page.text), "id": sheet_id, "action": action, **extra})

    # finance cannot approve before the department
    act(fin, "approve")
    assert unit.get(f"/api/v1/target-sheets/{sheet_id}").get_json()["state"] == "submitted"
    ind_id = body["indicators"][0]["id"]
    act(dept, "return", **{f"comment_{ind_id}": "数量偏低"})
    got = unit.get(f"/api/v1/target-sheets/{sheet_id}").get_json()
    assert got["state"] == "returned"
    assert got["indicators"][0]["review_comment"] == "数量偏低"
    changed = _indicators()
    changed[0]["target_value"] = "12"
    r = _api_post(unit, {"budget_item_id": item_id, "goal": "目标", "submit": True,
                         "version": got["version"], "indicators": changed})
    assert r.status_code == 200 and r.get_json()["revision"] == 2
    diff = unit.get(f"/admin/targetsheet/diff/?id={sheet_id}").text
    assert "完成数量" in diff and "12" in diff and "diff-changed" in diff
    act(dept, "approve")
    act(fin, "approve")
    assert unit.get(f"/api/v1/target-sheets/{sheet_id}").get_json()["state"] == "approved"
    r = _api_post(unit, {"budget_item_id": item_id, "goal": "x", "indicators": _indicators()})
    assert r.status_code == 422  # approved: no longer editable
    export = dept.get("/admin/targetsheet/export-approved/?year=2026")
    ws = load_workbook(__import__("io").BytesIO(export.data), read_only=True)["绩效目标"]
    codes = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert draft_items[1][1] in codes
    with app.app_context():  # reset for other tests
        sheet = db.session.get(TargetSheet, sheet_id)
        sheet.state, sheet.review_level = State.DRAFT, 0
        db.session.commit()


def test_stale_version_is_a_conflict(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[0][0]
    r = _api_post(client, {"budget_item_id": item_id, "goal": "a", "indicators": _indicators()})
    version = r.get_json()["version"]
    _api_post(client, {"budget_item_id": item_id, "goal": "b", "indicators": _indicators(),
                       "version": version})
    r = _api_post(client, {"budget_item_id": item_id, "goal": "c", "indicators": _indicators(),
                           "version": version})
    assert r.status_code == 409


def test_plugins_extend_the_quality_checks(make_app, draft_items):
    from core.plugins import hookimpl, hooks

    class ExtraCheck:
        @hookimpl
        def jixiao_target_checks(self, sheet):
            return [("goal", "总体目标须写明受益对象")]

    app2 = make_app()
    hooks(app2).register(ExtraCheck(), name="extra-check")
    from plugins.targets.service import rules_of
    from plugins.targets.validation import quality_problems

    with app2.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(
            TargetSheet.state == State.APPROVED))
        messages = [str(p) for p in quality_problems(sheet, rules_of(sheet))]
    assert any("受益对象" in m for m in messages)


def test_api_scope(app, login):
    with app.app_context():
        theirs = db.session.scalar(select(TargetSheet.id).join(BudgetItem).where(
            BudgetItem.code.like("%-D02U01-%")))
    client = login("unit0101")
    assert client.get(f"/api/v1/target-sheets/{theirs}").status_code == 404
    assert client.get(f"/admin/targetsheet/sheet/?id={theirs}").status_code == 404
    assert login("dept02").get(f"/api/v1/target-sheets/{theirs}").status_code == 200
    items = client.get("/api/v1/target-sheets?per_page=200").get_json()["items"]
    assert items and all("-D01U01-" in s["item_code"] for s in items)
    assert login("expert01").get("/api/v1/target-sheets").status_code == 403
    assert login("expert01").get("/api/v1/indicator-templates").status_code == 200


# --- library, reports, card, jobs, i18n -------------------------------------------------

def test_library_export_import_and_usage_counts(app, login):
    client = login("finance")
    data = client.get("/admin/indicatortemplate/download/").data
    ws = load_workbook(__import__("io").BytesIO(data), read_only=True)["指标库"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("行业领域", "一级指标", "二级指标", "三级指标")
    assert any(r[-1] and r[-1] > 0 for r in rows[1:])  # demo sheets use the library
    new = [["体育", "产出", "数量", "赛事场次", "≥", "场", "10", "", "", ""]]
    page = client.get("/admin/indicatortemplate/import/")
    r = client.post("/admin/indicatortemplate/import/", data={
        "csrf_token": csrf_from(page.text), "file": (__import__("io").BytesIO(workbook(
            new, headers=list(rows[0][:10]), sheet="指标库")), "lib.xlsx")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    bad = [["体育", "投入", "数量", "错误", "≥", "场", "1", "", "", ""]]
    page = client.get("/admin/indicatortemplate/import/")
    r = client.post("/admin/indicatortemplate/import/", data={
        "csrf_token": csrf_from(page.text), "file": (__import__("io").BytesIO(workbook(
            bad, headers=list(rows[0][:10]), sheet="指标库")), "lib.xlsx")},
        content_type="multipart/form-data")
    assert r.status_code == 200 and "投入" in r.text
    with app.app_context():
        t = db.session.scalar(select(IndicatorTemplate).where(IndicatorTemplate.name == "赛事场次"))
        assert t is not None and t.usage_count == 0
        assert db.session.scalar(select(IndicatorTemplate).where(
            IndicatorTemplate.name == "错误")) is None
        db.session.delete(t)
        db.session.commit()
    assert client.get("/api/v1/indicator-templates?q=满意度").get_json()["total"] >= 1


def test_adding_from_the_library_counts_a_use(app, login, draft_items):
    client = login("unit0101")
    r = _api_post(client, {"budget_item_id": draft_items[2][0], "goal": "g",
                           "indicators": _indicators()})
    sheet_id = r.get_json()["id"]
    with app.app_context():
        t = db.session.scalar(select(IndicatorTemplate).where(
            IndicatorTemplate.name == "验收合格率"))
        tid, uses = t.id, t.usage_count
        sheet = db.session.get(TargetSheet, sheet_id)  # as if returned with a comment
        sheet.state = State.RETURNED
        sheet.indicators[0].review_comment = "数量偏低"
        db.session.commit()
    page = client.get(f"/admin/targetsheet/sheet/?id={sheet_id}")
    client.post("/admin/targetsheet/add-from-library/", data={
        "csrf_token": csrf_from(page.text), "id": sheet_id, "template_id": tid,
        "target_value": "95", "weight": "5"})
    with app.app_context():
        assert db.session.get(IndicatorTemplate, tid).usage_count == uses + 1
        sheet = db.session.get(TargetSheet, sheet_id)
        assert [i.name for i in sheet.indicators][-1] == "验收合格率"
        assert sheet.indicators[0].review_comment == "数量偏低"  # kept
        assert sheet.indicators[-1].template_id == tid
        sheet.state = State.DRAFT
        db.session.commit()


def test_coverage_report_and_dashboard_card(app, login):
    fin = login("finance")
    page = fin.get("/admin/target-coverage/?year=2026")
    assert page.status_code == 200 and "区教育局" in page.text and "data-total" in page.text
    dept = login("dept01").get("/admin/target-coverage/?year=2026").text
    assert "区卫生健康委员会" not in dept
    assert login("unit0101").get("/admin/target-coverage/").status_code == 403
    home = fin.get("/admin/")
    assert "2026 年度绩效目标" in home.text


def test_menu_and_pages_are_in_chinese(app, login):
    html = login("dept01").get("/admin/targetsheet/").text
    assert "绩效目标" in html and "绩效目标表" in html and "导入绩效目标表" in html
    assert "budget_item.code" not in html and "项目编码, 项目名称" in html  # search box
    assert "提交时间" in html  # the column; a sheet submitted to the department reads 待部门审核
    submitted = login("dept01").get("/admin/targetsheet/?flt0_0=submitted-0").text
    assert "待部门审核" in submitted


def test_overdue_sheets_are_reminded_once_a_day(app):
    from core.services.scheduler import run_job

    with app.app_context():
        before = db.session.scalar(select(func.count(Notification.id)))
    run_job(app, "targets-overdue", when=datetime(2026, 1, 5, 8, 30))
    run_job(app, "targets-overdue", when=datetime(2026, 1, 5, 9, 30))
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(
            Notification.title.like("%绩效目标表已逾期%")
            | Notification.title.like("%逾期仍未填报绩效目标表%"))).all()
        assert notes and len(notes) == db.session.scalar(
            select(func.count(Notification.id))) - before
        user_ids = {n.user_id for n in notes if "绩效目标表已逾期" in n.title}
        assert db.session.scalar(select(User.id).where(User.username == "unit0101")) in user_ids
        db.session.execute(delete(Notification).where(Notification.id.in_([n.id for n in notes])))
        db.session.commit()


def test_openapi_lists_the_target_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/target-sheets", "/api/v1/target-sheets/{sheet_id}",
            "/api/v1/indicator-templates"} <= set(paths)
    assert "post" in paths["/api/v1/target-sheets"]


def test_items_without_a_sheet_are_reminded_too_once_a_day(app, draft_items):
    """Items that need targets but have no sheet past the deadline: their unit is reminded."""
    from core.services.scheduler import run_job

    with app.app_context():
        unit_user = db.session.scalar(select(User.id).where(User.username == "unit0101"))
        other_unit_user = db.session.scalar(select(User.id).where(User.username == "unit0201"))
    when = datetime(2026, 2, 3, 8, 30)
    first = run_job(app, "targets-overdue", when=when)
    again = run_job(app, "targets-overdue", when=datetime(2026, 2, 3, 17, 0))
    assert again.status == "skipped" and first.status == "finished"
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(
            Notification.title.like("%个预算项目逾期仍未填报绩效目标表%"))).all()
        mine = [n for n in notes if n.user_id == unit_user]
        # the three new items of D01U01 (plus any demo item of that unit without a sheet)
        assert len(mine) == 1 and "2026 年度" in mine[0].title
        count = int(mine[0].title.split("有 ")[1].split(" 个")[0])
        assert count >= len(draft_items)
        assert all(n.user_id != other_unit_user or "2026" in n.title for n in notes)
        db.session.execute(delete(Notification).where(
            Notification.title.like("%2026 年度有%")))
        db.session.commit()
