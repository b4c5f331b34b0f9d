"""Engagement quotes: stored with inputs and version, contract compared, deviations beyond
tolerance need a written reason and finance approval; what-if; reconciliation; scope."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from tests.plugins.agency_fees.conftest import api_post, rules
from tests.support import csrf_from

#: 150,000.00 is the test engagements' contract amount
NEAR = {"staff_days": {"senior": "20", "middle": "30", "junior": "40.5"},
        "experts": [{"title": "高级职称", "days": "2", "count": 3}]}


def quote_of(app, eng_id):
    from plugins.agency_fees.models import FeeQuote

    with app.app_context():
        return db.session.scalar(select(FeeQuote).where(FeeQuote.engagement_id == eng_id))


def test_a_quote_within_tolerance_is_stored_with_inputs_and_version(
        app, login, code, make_schedule, engagements):
    make_schedule(rules(scale={"use": None, "bands": []}))
    eid = engagements["ids"][0]
    r = api_post(login("dept01"), "/api/v1/fees/quotes", {"engagement_id": eid,
                 **NEAR, "schedule_code": code})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["schedule"] == f"{code} r1" and body["needs_approval"] is False
    assert body["inputs"]["stage"] == "evaluation"  # from the engagement
    assert body["inputs"]["evaluated_amount"] == "3000000.00"  # its budget items
    assert body["contract_amount"] == "150000.00"
    assert body["total"] == "153678.80" and body["deviation_pct"] == "-2.39"
    stored = quote_of(app, eid)
    assert stored.total == Decimal(body["total"])
    assert stored.inputs["staff_days"]["junior"] == "40.5"


def test_a_deviation_needs_a_reason_and_finance_approval(app, login, code, make_schedule,
                                                         engagements):
    from plugins.agency_fees.models import FeeQuote

    make_schedule()
    eid = engagements["ids"][0]
    dept = login("dept01")
    body = api_post(dept, "/api/v1/fees/quotes", {"engagement_id": eid,
                    "schedule_code": code, "staff_days": {"senior": "5"}}).get_json()
    assert body["needs_approval"] is True and Decimal(body["deviation_pct"]) > 10
    qid = body["id"]
    sheet = dept.get(f"/admin/fee_quote/sheet/?id={qid}")
    assert "须说明理由并经财政审批" in sheet.text
    token = csrf_from(sheet.text)
    r = dept.post("/admin/fee_quote/workflow/", data={"id": qid, "action": "submit",
                                                      "comment": " ", "csrf_token": token},
                  follow_redirects=True)
    assert "须书面说明理由" in r.text
    assert quote_of(app, eid).state == "draft"
    dept.post("/admin/fee_quote/workflow/", data={"id": qid, "action": "submit",
                                                  "comment": "现场核查点多", "csrf_token": token})
    assert quote_of(app, eid).state == "submitted"
    # the department cannot approve its own deviation; finance can
    dept.post("/admin/fee_quote/workflow/", data={"id": qid, "action": "approve",
                                                  "csrf_token": token})
    assert quote_of(app, eid).state == "submitted"
    fin = login("finance")
    fin.post("/admin/fee_quote/workflow/", data={
        "id": qid, "action": "approve", "csrf_token": csrf_from(fin.get("/admin/").text)})
    q = quote_of(app, eid)
    assert q.state == "approved" and q.reason == "现场核查点多"
    # an approved quote is not redone behind finance's back
    r = api_post(dept, "/api/v1/fees/quotes", {"engagement_id": eid, "schedule_code": code})
    assert r.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(FeeQuote.id))
                                 .where(FeeQuote.engagement_id == eid)) == 1


def test_the_sliding_scale_cross_check_also_counts(app, login, code, make_schedule,
                                                   engagements):
    # contract close to the quote, but the scale (3,000,000 → 40,000) is far below
    make_schedule(rules(contract_tolerance_pct="100"))
    eid = engagements["ids"][0]
    body = api_post(login("finance"), "/api/v1/fees/quotes", {"engagement_id": eid,
                    **NEAR, "schedule_code": code}).get_json()
    assert body["scale_fee"] == "40000.00"
    assert Decimal(body["scale_deviation_pct"]) == Decimal("275.00")
    assert body["needs_approval"] is True


def test_engagements_out_of_scope_cannot_be_quoted_and_lists_are_scoped(
        app, login, code, make_schedule, engagements):
    make_schedule()
    d01, d02 = engagements["ids"]
    fin = login("finance")
    for eid in (d01, d02):
        assert api_post(fin, "/api/v1/fees/quotes", {"engagement_id": eid,
                        **NEAR, "schedule_code": code}).status_code == 201
    dept = login("dept01")
    assert api_post(dept, "/api/v1/fees/quotes", {"engagement_id": d02,
                    **NEAR, "schedule_code": code}).status_code == 404
    seen = {q["engagement_id"] for q in dept.get("/api/v1/fees/quotes?per_page=200")
            .get_json()["items"]}
    assert d01 in seen and d02 not in seen
    assert login("agency01").get("/api/v1/fees/quotes").status_code == 403
    assert api_post(login("viewer"), "/api/v1/fees/quotes", {"engagement_id": d01,
                    "schedule_code": code}).status_code == 403


def test_what_if_recomputes_last_years_quotes_and_saves_nothing(
        app, login, code, make_schedule, engagements):
    import json

    from plugins.agency_fees.models import FeeQuote, FeeSchedule

    make_schedule()
    draft = make_schedule(rules(staff_day_rates={"senior": "3000.00", "middle": "1500.00",
                                                 "junior": "800.00"}),
                          active=False, valid_from=date(2027, 1, 1))
    fin = login("finance")
    for eid in engagements["ids"]:
        api_post(fin, "/api/v1/fees/quotes", {"engagement_id": eid, **NEAR, "schedule_code": code})
    with app.app_context():
        before = {q.id: (q.total, q.version) for q in db.session.scalars(select(FeeQuote))}
        schedules = db.session.scalar(select(func.count(FeeSchedule.id)))
    page = fin.get(f"/admin/fee_schedule/what-if/?id={draft}&year=2026")
    assert page.status_code == 200 and "jixiao-chart" in page.text
    with app.app_context():
        draft_rules = db.session.get(FeeSchedule, draft).rules
    tried = {**draft_rules, "management_pct": "20"}
    r = fin.post("/admin/fee_schedule/what-if/", data={
        "id": draft, "year": "2026", "rules_text": json.dumps(tried),
        "csrf_token": csrf_from(page.text)})
    assert r.status_code == 200
    code_a = quote_of(app, engagements["ids"][0]).engagement_code
    assert code_a in r.text and "按机构" in r.text
    with app.app_context():
        from plugins.agency_fees import service

        result = service.what_if(service.rules_from_text(json.dumps(tried)), 2026)
        mine = [x for x in result.rows if x["code"] == code_a][0]
        # 20 senior days × 1,000 more, × 1.2 for 20 % management and × 1.06 tax
        assert mine["new"] > mine["old"]
        assert f"{result.new_total:,.2f}" in r.text
        after = {q.id: (q.total, q.version) for q in db.session.scalars(select(FeeQuote))}
        assert after == before
        assert db.session.scalar(select(func.count(FeeSchedule.id))) == schedules
        assert db.session.get(FeeSchedule, draft).rules == draft_rules
    bad = fin.post("/admin/fee_schedule/what-if/", data={
        "id": draft, "year": "2026", "csrf_token": csrf_from(page.text),
        "rules_text": json.dumps({**tried, "tax_pct": "-1"})})
    assert "不能为负数" in bad.text


def test_reconciliation_shows_the_gap_and_flags_overbilling(app, login, code, make_schedule,
                                                            engagements):
    from plugins.agencies.models import Engagement, WorkLog

    make_schedule()
    d01, _d02 = engagements["ids"]
    senior, middle, _junior = engagements["staff"]
    api_post(login("finance"), "/api/v1/fees/quotes", {"engagement_id": d01,
             **NEAR, "schedule_code": code})
    with app.app_context():
        eng = db.session.get(Engagement, d01)
        for staff_id, hours in ((senior, "16.00"), (middle, "8.00")):
            db.session.add(WorkLog(engagement_id=d01, agency_id=eng.agency_id,
                                   org_unit_id=eng.org_unit_id, staff_id=staff_id,
                                   work_date=date(2026, 4, 2), hours=Decimal(hours),
                                   activity="desk_review"))
        eng.closed_at = datetime(2026, 11, 1)
        db.session.commit()
        from plugins.agency_fees import service

        row = next(r for r in service.reconciliation(2026) if r["quote"].engagement_id == d01)
        by_grade = {g["grade"]: g for g in row["grades"]}
        assert by_grade["senior"]["logged"] == Decimal("2.00")
        assert by_grade["senior"]["gap"] == Decimal("18.00")
        assert row["quoted"] == Decimal("90.5") and row["logged"] == Decimal("3.00")
        assert row["flagged"]
    page = login("dept01").get("/admin/fee_quote/reconciliation/?year=2026")
    assert page.status_code == 200 and "计费远高于登记工作量" in page.text


def test_a_stored_quote_is_reproduced_exactly_from_its_schedule_version(
        app, login, code, make_schedule, engagements):
    from plugins.agency_fees import service
    from plugins.agency_fees.calc import inputs_from_json
    from plugins.agency_fees.models import FeeSchedule

    make_schedule()
    eid = engagements["ids"][0]
    api_post(login("finance"), "/api/v1/fees/quotes", {"engagement_id": eid,
             **NEAR, "schedule_code": code, "direct_costs": [{"label": "差旅费",
                                                               "amount": "333.33"}]})
    make_schedule(rules(tax_pct="3"), active=False, valid_from=date(2025, 1, 1))
    stored = quote_of(app, eid)
    with app.app_context():
        schedule = db.session.get(FeeSchedule, stored.schedule_id)
        again = service.compute(service.rules_of(schedule), inputs_from_json(stored.inputs))
        assert again.total == stored.total
        assert [ln.to_json() for ln in again.lines] == stored.lines
    sheet = login("viewer").get(f"/admin/fee_quote/sheet/?id={stored.id}")
    assert sheet.status_code == 200 and "333.33 = 333.33" in sheet.text
    assert f"{code} r1" in sheet.text


def test_quote_sheets_follow_the_row_scope(app, login, code, make_schedule, engagements):
    make_schedule()
    d01, d02 = engagements["ids"]
    fin = login("finance")
    ids = [api_post(fin, "/api/v1/fees/quotes", {"engagement_id": eid, **NEAR,
                                                 "schedule_code": code}).get_json()["id"]
           for eid in (d01, d02)]
    dept = login("dept01")
    assert dept.get(f"/admin/fee_quote/sheet/?id={ids[0]}").status_code == 200
    assert dept.get(f"/admin/fee_quote/sheet/?id={ids[1]}").status_code == 404
    assert dept.get(f"/api/v1/fees/quotes/{ids[1]}").status_code == 404
    assert login("agency01").get(f"/admin/fee_quote/sheet/?id={ids[0]}").status_code == 403


def test_a_contract_against_a_zero_quote_needs_approval(app, login, code, make_schedule,
                                                          engagements):
    """Nothing to compare with is not "within tolerance": a fee against a 0 quote is reviewed."""
    make_schedule(rules(minimum_fee="0.00", scale={"use": None, "bands": []}))
    r = api_post(login("finance"), "/api/v1/fees/quotes", {
        "engagement_id": engagements["ids"][0], "schedule_code": code})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["total"] == "0.00" and body["contract_amount"] == "150000.00"
    assert body["needs_approval"] is True
