"""Appeals (申诉): within the period, once, decided by finance; the history keeps both scores."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from core.extensions import db
from tests.plugins.agency_scoring.conftest import FULL, assessment_of, close

API = "/api/v1/agency-assessments"


def _scored(app, engagements, token_for, k: int = 0) -> int:
    eid = engagements.ids[k]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    scores = {**FULL, "时效性/按期提交成果": {"defects": "10"}}  # 90.00
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                               json={"scores": scores})
    assert r.status_code == 200
    return aid


def test_agency_appeals_and_finance_upholds_with_a_corrected_score(app, engagements,
                                                                   token_for):
    aid = _scored(app, engagements, token_for)
    client = app.test_client()
    agency = token_for("agency01")
    body = client.get(f"{API}/{aid}", headers=agency).get_json()
    assert body["score"] == "90.00" and body["appeal_until"]
    r = client.post(f"{API}/{aid}/appeal", headers=agency, json={"reason": "延期系委托方所致"})
    assert r.status_code == 201, r.get_json()
    appeal = r.get_json()
    assert appeal["status"] == "pending" and appeal["score_before"] == "90.00"
    # one appeal per assessment
    assert client.post(f"{API}/{aid}/appeal", headers=agency,
                       json={"reason": "再次申诉"}).status_code == 422
    # the agency cannot decide; a corrected score out of range is refused
    assert client.post(f"/api/v1/agency-appeals/{appeal['id']}/decision", headers=agency,
                       json={"uphold": True, "score": "99", "decision": "x"}).status_code == 403
    finance = token_for("finance")
    for bad in ("101", "-1", "95.555", "abc", None):
        r = client.post(f"/api/v1/agency-appeals/{appeal['id']}/decision", headers=finance,
                        json={"uphold": True, "score": bad, "decision": "经核实"})
        assert r.status_code == 422 and "score" in r.get_json()["details"], bad
    assert client.get(f"{API}/{aid}", headers=finance).get_json()["score"] == "90.00"
    r = client.post(f"/api/v1/agency-appeals/{appeal['id']}/decision", headers=finance,
                    json={"uphold": True, "score": "79.50", "decision": "时效性扣分有误"})
    assert r.status_code == 200, r.get_json()
    decided = r.get_json()
    assert (decided["status"], decided["score_before"], decided["grade_before"],
            decided["score_after"], decided["grade_after"]) == (
        "upheld", "90.00", "excellent", "79.50", "fair")
    assert client.get(f"{API}/{aid}", headers=agency).get_json()["score"] == "79.50"
    # decided once
    assert client.post(f"/api/v1/agency-appeals/{appeal['id']}/decision", headers=finance,
                       json={"uphold": False, "decision": "again"}).status_code == 422


def test_a_rejected_appeal_keeps_the_score(app, engagements, token_for):
    aid = _scored(app, engagements, token_for)
    client = app.test_client()
    appeal = client.post(f"{API}/{aid}/appeal", headers=token_for("agency01"),
                         json={"reason": "不同意"}).get_json()
    r = client.post(f"/api/v1/agency-appeals/{appeal['id']}/decision",
                    headers=token_for("finance"), json={"uphold": False, "decision": "维持"})
    assert r.status_code == 200
    assert (r.get_json()["score_before"], r.get_json()["score_after"]) == ("90.00", "90.00")


def test_an_appeal_after_the_deadline_is_refused(app, engagements, token_for):
    aid = _scored(app, engagements, token_for)
    with app.app_context():
        from plugins.agency_scoring.models import Appeal, Assessment

        a = db.session.get(Assessment, aid)
        a.appeal_until = date.today() - timedelta(days=1)
        db.session.commit()
    r = app.test_client().post(f"{API}/{aid}/appeal", headers=token_for("agency01"),
                               json={"reason": "迟到的申诉"})
    assert r.status_code == 422
    assert str(date.today() - timedelta(days=1)) in str(r.get_json()["details"])
    with app.app_context():
        assert db.session.scalar(select(func.count(Appeal.id)).where(
            Appeal.assessment_id == aid)) == 0


def test_an_appeal_needs_a_reason_and_only_the_own_agency_may_appeal(app, engagements,
                                                                     token_for):
    aid = _scored(app, engagements, token_for)
    client = app.test_client()
    assert client.post(f"{API}/{aid}/appeal", headers=token_for("agency01"),
                       json={"reason": "  "}).status_code == 422
    # another agency does not even see the assessment
    assert client.post(f"{API}/{aid}/appeal", headers=token_for("agency02"),
                       json={"reason": "冒名申诉"}).status_code == 404
    assert client.get(f"{API}/{aid}", headers=token_for("agency02")).status_code == 404
    # the commissioning party may not appeal
    assert client.post(f"{API}/{aid}/appeal", headers=token_for("dept01"),
                       json={"reason": "x"}).status_code == 403


def test_the_appeal_through_the_pages(app, engagements, token_for, login):
    from tests.support import csrf_from

    aid = _scored(app, engagements, token_for)
    agency = login("agency01")
    page = agency.get(f"/admin/agency_assessment/page/?id={aid}")
    assert page.status_code == 200 and "90.00" in page.text
    r = agency.post("/admin/agency_assessment/appeal/", data={
        "csrf_token": csrf_from(page.text), "id": aid, "reason": "页面申诉"})
    assert r.status_code == 302
    finance = login("finance")
    page = finance.get(f"/admin/agency_assessment/page/?id={aid}")
    assert "页面申诉" in page.text
    with app.app_context():
        from plugins.agency_scoring.models import Appeal

        appeal_id = db.session.scalar(select(Appeal.id).where(Appeal.assessment_id == aid))
    r = finance.post("/admin/agency_assessment/decide/", data={
        "csrf_token": csrf_from(page.text), "id": aid, "appeal_id": appeal_id, "uphold": "1",
        "score": "88", "decision": "部分采纳"})
    assert r.status_code == 302
    page = finance.get(f"/admin/agency_assessment/page/?id={aid}")
    assert "部分采纳" in page.text and "88" in page.text
