"""待办 of the service-fee stage: quotes beyond tolerance to submit (the commissioning
department), finance's queue of quotes to approve, and fees to reconcile."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from flask_login import login_user
from sqlalchemy import func, select

from core.extensions import db
from core.plugins import hooks
from core.scope import current_principal
from tests.plugins.agency_fees.conftest import api_post, rules
from tests.plugins.agency_fees.test_engagement_fees import NEAR
from tests.support import csrf_from, user


def tasks_of(app, username: str, year: int = 2026) -> list:
    with app.test_request_context():
        login_user(user(username))
        return [replace(t, title=str(t.title))
                for t in hooks().tasks(principal=current_principal(), year=year)
                if t.stage == "agency_fees"]


def _quote_beyond_tolerance(login, code, eid) -> int:
    body = api_post(login("dept01"), "/api/v1/fees/quotes", {
        "engagement_id": eid, "schedule_code": code, "staff_days": {"senior": "5"}}).get_json()
    assert body["needs_approval"] is True
    return body["id"]


def _submitted_in_2026(app) -> int:
    from plugins.agency_fees.models import FeeQuote

    with app.app_context():
        return db.session.scalar(select(func.count(FeeQuote.id)).where(
            FeeQuote.year == 2026, FeeQuote.state == "submitted"))


def test_a_deviation_waits_for_the_department_then_for_finance(app, login, code,
                                                               make_schedule, engagements):
    make_schedule()
    d01, d02 = engagements["ids"]
    qid = _quote_beyond_tolerance(login, code, d01)
    [task] = [t for t in tasks_of(app, "dept01") if f"/sheet/?id={qid}" in t.link]
    assert "说明理由并提交" in task.title and task.count == 1
    assert task.link == f"/admin/fee_quote/sheet/?id={qid}"
    # another department, another year: nothing
    assert not any(f"?id={qid}" in t.link for t in tasks_of(app, "dept02"))
    assert not any(f"?id={qid}" in t.link for t in tasks_of(app, "dept01", 2025))
    before = next((t.count for t in tasks_of(app, "finance") if "待您审批" in t.title), 0)
    dept = login("dept01")
    token = csrf_from(dept.get(task.link).text)
    dept.post("/admin/fee_quote/workflow/", data={"id": qid, "action": "submit",
                                                  "comment": "现场核查点多", "csrf_token": token})
    assert not any(f"?id={qid}" in t.link for t in tasks_of(app, "dept01"))
    [queue] = [t for t in tasks_of(app, "finance") if "待您审批" in t.title]
    assert queue.count == before + 1 == _submitted_in_2026(app)
    listed = login("finance").get(queue.link)
    assert listed.status_code == 200
    assert engagements["tag"] in listed.text  # the submitted quote's engagement code
    fin = login("finance")
    fin.post("/admin/fee_quote/workflow/", data={
        "id": qid, "action": "approve", "csrf_token": csrf_from(fin.get("/admin/").text)})
    assert sum(t.count for t in tasks_of(app, "finance") if "待您审批" in t.title) == before


def test_a_closed_engagement_billed_far_above_its_logs_is_to_reconcile(
        app, login, code, make_schedule, engagements):
    from plugins.agencies.models import Engagement, WorkLog

    make_schedule(rules(scale={"use": None, "bands": []}))  # the quote is within tolerance
    d01, _d02 = engagements["ids"]
    body = api_post(login("dept01"), "/api/v1/fees/quotes", {"engagement_id": d01, **NEAR,
                                                              "schedule_code": code}).get_json()
    code_of = body["engagement_code"]
    assert not any(code_of in t.title for t in tasks_of(app, "dept01"))  # still open
    with app.app_context():
        eng = db.session.get(Engagement, d01)
        db.session.add(WorkLog(engagement_id=d01, agency_id=eng.agency_id,
                               org_unit_id=eng.org_unit_id, staff_id=engagements["staff"][0],
                               work_date=date(2026, 4, 2), hours=Decimal("16.00"),
                               activity="desk_review"))
        eng.closed_at = datetime(2026, 11, 1)
        db.session.commit()
    [task] = [t for t in tasks_of(app, "dept01") if code_of in t.title]
    assert "核对" in task.title and task.link == "/admin/fee_quote/reconciliation/?year=2026"
    assert login("dept01").get(task.link).status_code == 200
    assert not any(code_of in t.title for t in tasks_of(app, "dept02"))
    [queue] = [t for t in tasks_of(app, "finance") if "待核对" in t.title]
    assert queue.count >= 1 and queue.link == task.link


def test_agencies_and_units_have_no_fee_tasks(app, login, code, make_schedule, engagements):
    make_schedule()
    _quote_beyond_tolerance(login, code, engagements["ids"][0])
    assert tasks_of(app, "agency01") == [] and tasks_of(app, "unit0101") == []
