"""Fee schedules: JSON and Excel in and out, drafts only edited, activation supersedes,
side-by-side comparison."""

from __future__ import annotations

import io
import json
from datetime import date

from sqlalchemy import func, select

from core.extensions import db
from tests.plugins.agency_fees.conftest import RULES, api_post, rules
from tests.support import csrf_from


def count_schedules(app, code):
    from plugins.agency_fees.models import FeeSchedule

    with app.app_context():
        return db.session.scalar(select(func.count(FeeSchedule.id))
                                 .where(FeeSchedule.code == code))


def test_json_import_creates_a_draft_and_the_export_reads_back(app, login, code,
                                                               make_schedule):
    c = login("finance")
    r = api_post(c, "/api/v1/fees/schedules", {"code": code, "name": "标准", "rules": RULES,
                                               "valid_from": "2027-01-01"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "draft" and body["revision"] == 1
    exported = c.get(f"/api/v1/fees/schedules/{body['id']}").get_json()
    assert exported["rules"]["staff_day_rates"]["senior"] == "2000.00"
    again = api_post(c, "/api/v1/fees/schedules", exported)
    assert again.status_code == 201
    assert again.get_json()["revision"] == 2
    assert again.get_json()["rules"] == exported["rules"]


def test_bad_schedules_are_refused_with_the_field_and_nothing_saved(app, login, code,
                                                                    make_schedule):
    c = login("finance")
    overlapping = rules(scale={"use": "check", "tolerance_pct": "20", "bands": [
        {"lower": "0", "upper": "1000", "rate_pct": "1"},
        {"lower": "500", "upper": None, "rate_pct": "1"}]})
    r = api_post(c, "/api/v1/fees/schedules", {"code": code, "name": "x", "rules": overlapping,
                                               "valid_from": "2027-01-01"})
    assert r.status_code == 422
    details = r.get_json()["details"]["json"]
    assert "rules.scale.bands.2.lower" in details
    assert "重叠" in details["rules.scale.bands.2.lower"][0]
    r = api_post(c, "/api/v1/fees/schedules", {"code": code, "name": "x", "valid_from": "x",
                                               "rules": rules(staff_day_rates={},
                                                              expert_day_rates={})})
    details = r.get_json()["details"]["json"]
    assert "valid_from" in details and "rules.staff_day_rates" in details
    assert count_schedules(app, code) == 0


def test_only_finance_imports_schedules(app, login, code):
    r = api_post(login("dept01"), "/api/v1/fees/schedules",
                 {"code": code, "name": "x", "rules": RULES, "valid_from": "2027-01-01"})
    assert r.status_code == 403


def test_activation_supersedes_the_active_revision(app, login, code, make_schedule):
    from plugins.agency_fees import service
    from plugins.agency_fees.models import FeeSchedule, ScheduleStatus

    first = make_schedule(valid_from=date(2021, 1, 1))
    second = make_schedule(rules(staff_day_rates={"senior": "2500.00"}), active=False,
                           valid_from=date(2024, 1, 1))
    c = login("finance")
    page = c.get(f"/admin/fee_schedule/schedule/?id={second}")
    assert "启用" in page.text
    r = c.post("/admin/fee_schedule/activate/", data={"id": second,
                                                       "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    with app.app_context():
        old, new = db.session.get(FeeSchedule, first), db.session.get(FeeSchedule, second)
        assert old.status == ScheduleStatus.RETIRED and old.valid_to == date(2023, 12, 31)
        assert new.status == ScheduleStatus.ACTIVE
        # quotes of 2022 still use the first revision, those of 2025 the second
        assert service.schedule_for(code, date(2022, 6, 1)).id == first
        assert service.schedule_for(code, date(2025, 6, 1)).id == second


def test_an_active_schedule_is_never_edited(app, login, code, make_schedule):
    from plugins.agency_fees.models import FeeSchedule

    sid = make_schedule()
    c = login("finance")
    page = c.get(f"/admin/fee_schedule/edit/?id={sid}")
    assert page.status_code == 200
    r = c.post(f"/admin/fee_schedule/edit/?id={sid}", data={
        "csrf_token": csrf_from(page.text), "code": code, "name": "改名",
        "valid_from": "2020-01-01", "note": "", "version": "1",
        "rules_text": json.dumps(rules(tax_pct="3"))}, follow_redirects=True)
    assert "不能修改" in r.text
    with app.app_context():
        s = db.session.get(FeeSchedule, sid)
        assert s.name == "测试收费标准" and s.rules["tax_pct"] == "6"


def test_a_draft_is_edited_in_the_admin_and_bad_rules_named(app, login, code, make_schedule):
    from plugins.agency_fees.models import FeeSchedule

    sid = make_schedule(active=False)
    c = login("finance")
    page = c.get(f"/admin/fee_schedule/edit/?id={sid}")
    form = {"csrf_token": csrf_from(page.text), "code": code, "name": "草稿",
            "valid_from": "2020-01-01", "note": "", "version": "1"}
    bad = c.post(f"/admin/fee_schedule/edit/?id={sid}",
                 data={**form, "rules_text": json.dumps(rules(staff_day_rates={"senior": "-5"}))})
    assert bad.status_code == 200 and "不能为负数" in bad.text
    ok = c.post(f"/admin/fee_schedule/edit/?id={sid}",
                data={**form, "rules_text": json.dumps(rules(tax_pct="3"))})
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(FeeSchedule, sid).rules["tax_pct"] == "3"


def test_excel_export_and_import_round_trip_and_errors_name_the_row(app, login, code,
                                                                     make_schedule):
    from openpyxl import load_workbook

    sid = make_schedule()
    c = login("finance")
    xlsx = c.get(f"/admin/fee_schedule/download/?id={sid}&format=xlsx")
    assert xlsx.status_code == 200
    page = c.get("/admin/fee_schedule/import/")
    r = c.post("/admin/fee_schedule/import/", data={
        "csrf_token": csrf_from(page.text), "file": (io.BytesIO(xlsx.data), "s.xlsx")})
    assert r.status_code == 302
    assert count_schedules(app, code) == 2
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book["收费标准"]
    row = next(r for r in range(1, sheet.max_row + 1)
               if sheet.cell(r, 1).value == "expert_day_rates.院士")
    sheet.cell(row, 3).value = "很多"
    out = io.BytesIO()
    book.save(out)
    r = c.post("/admin/fee_schedule/import/", data={
        "csrf_token": csrf_from(page.text), "file": (io.BytesIO(out.getvalue()), "s.xlsx")})
    assert r.status_code == 200
    assert f"<td>收费标准</td><td>{row}</td><td>C " in r.text  # sheet, row, column
    assert count_schedules(app, code) == 2


def test_two_versions_side_by_side(app, login, make_schedule):
    a = make_schedule()
    b = make_schedule(rules(tax_pct="3"), active=False, valid_from=date(2024, 1, 1))
    r = login("viewer").get(f"/admin/fee_schedule/compare/?a={a}&b={b}")
    assert r.status_code == 200
    assert r.text.count("jixiao-changed") == 1 and "tax_pct" in r.text


def test_a_json_file_is_imported_in_the_admin_and_a_schedule_without_rates_refused(
        app, login, code, make_schedule):
    c = login("finance")
    page = c.get("/admin/fee_schedule/import/")
    doc = {"code": code, "name": "无费率", "valid_from": "2027-01-01",
           "rules": rules(staff_day_rates={}, expert_day_rates={})}
    r = c.post("/admin/fee_schedule/import/", data={
        "csrf_token": csrf_from(page.text),
        "file": (io.BytesIO(json.dumps(doc).encode()), "s.json")})
    assert r.status_code == 200 and "没有费率" in r.text
    assert count_schedules(app, code) == 0
    doc["rules"] = RULES
    r = c.post("/admin/fee_schedule/import/", data={
        "csrf_token": csrf_from(page.text),
        "file": (io.BytesIO(json.dumps(doc).encode()), "s.json")})
    assert r.status_code == 302 and count_schedules(app, code) == 1
