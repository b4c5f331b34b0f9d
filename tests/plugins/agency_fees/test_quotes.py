"""Quotes through the API and the admin form: lines with formulas, fen strings, version."""

from __future__ import annotations

from datetime import date

from tests.plugins.agency_fees.conftest import api_post
from tests.support import csrf_from

INPUTS = {"object_kind": "project", "stage": "evaluation", "evaluated_amount": "2000000.00",
          "staff_days": {"senior": "10", "middle": "20"},
          "experts": [{"title": "高级职称", "days": "1.5", "count": 3, "remote_reviews": 1}],
          "survey_samples": 300, "direct_costs": [{"label": "差旅费", "amount": "2000.00"}]}


def test_quote_api_returns_every_line_with_formula_and_version(app, login, code,
                                                               make_schedule):
    make_schedule()
    r = api_post(login("dept01"), "/api/v1/fees/quote", {**INPUTS, "schedule_code": code})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["schedule"]["version"] == f"{code} r1"
    assert body["lines"][-1]["code"] == "total"
    assert body["total"] == body["lines"][-1]["amount"]
    for line in body["lines"]:
        assert line["formula"].endswith("= " + line["amount"])
        assert isinstance(line["amount"], str) and len(line["amount"].split(".")[1]) == 2
    # 10 × 2000 + 20 × 1500 + 3 × 2400 × 1.6 + 3 × 1200 = 65120; + survey 6000, travel 2000
    assert next(x for x in body["lines"] if x["code"] == "subtotal")["amount"] == "73120.00"
    assert body["total"] == "85257.92"  # + 10 % = 7312.00, + 6 % of 80432.00 = 4825.92
    assert body["scale_fee"] == "30000.00" and body["outside_scale"] is True


def test_the_default_schedule_is_the_one_in_force_on_the_date(app, login, code,
                                                              make_schedule):
    make_schedule(valid_from=date.today())
    body = api_post(login("finance"), "/api/v1/fees/quote", INPUTS).get_json()
    assert body["schedule"]["code"] == code
    r = api_post(login("finance"), "/api/v1/fees/quote", {**INPUTS, "on": "1999-01-01"})
    assert r.status_code == 422


def test_bad_quote_input_names_the_field(app, login, code, make_schedule):
    make_schedule()
    r = api_post(login("finance"), "/api/v1/fees/quote", {
        **INPUTS, "schedule_code": code, "staff_days": {"partner": "2"},
        "experts": [{"title": "高级职称", "days": "0.7"}]})
    assert r.status_code == 422
    details = r.get_json()["details"]["json"]
    assert set(details) == {"staff_days.partner", "experts.1.days"}


def test_roles_without_fee_calculation_are_refused(app, login, code, make_schedule):
    make_schedule()
    for user in ("viewer", "agency01", "unit0101"):
        assert api_post(login(user), "/api/v1/fees/quote", INPUTS).status_code == 403


def test_the_admin_form_computes_a_printable_sheet(app, login, code, make_schedule):
    sid = make_schedule()
    c = login("dept01")
    page = c.get(f"/admin/fee_quote/calculate/?schedule_id={sid}")
    assert page.status_code == 200 and "服务费用测算" in page.text
    r = c.post("/admin/fee_quote/calculate/", data={
        "csrf_token": csrf_from(page.text), "schedule_id": sid, "object_kind": "project",
        "stage": "evaluation", "evaluated_amount": "2000000.00", "staff_senior": "10",
        "staff_middle": "20", "expert_title_0": "高级职称", "expert_days_0": "1.5",
        "expert_count_0": "3", "expert_remote_0": "1", "survey_samples": "300",
        "cost_label_0": "差旅费", "cost_amount_0": "2000.00", "compute": "1"})
    assert r.status_code == 200
    assert "85,257.92" in r.text and "打印" in r.text and f"{code} r1" in r.text
    bad = c.post("/admin/fee_quote/calculate/", data={
        "csrf_token": csrf_from(page.text), "schedule_id": sid, "stage": "evaluation",
        "staff_senior": "-3", "compute": "1"})
    assert "不能为负数" in bad.text and "85,257.92" not in bad.text
