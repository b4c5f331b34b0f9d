"""Engagement assessment: opened on closing, evidence, the party's score and the spot-check,
vetoes, and every bad input refused with nothing changed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from core.models import ScoreRecord
from tests.plugins.agency_scoring.conftest import (
    FULL,
    SPOT,
    assessment_of,
    close,
    log_and_deliver,
)
from tests.support import csrf_from

API = "/api/v1/agency-assessments"


def _with(path: str, **inputs) -> dict:
    return {**FULL, path: inputs}


def test_closing_an_engagement_opens_its_assessment_with_the_portal_evidence(app, engagements):
    eid = engagements.ids[0]
    with app.app_context():
        staff = engagements.staff_ids[0]
        log_and_deliver(eid, staff[0], datetime(2026, 10, 4, 10, 0))  # due 30 Sep: 4 days late
        db.session.commit()
        close(eid)
        a = assessment_of(eid)
        assert a is not None and a.status == "open" and a.score is None
        assert a.org_unit_id is not None and a.agency_id == engagements.agency_ids[0]
        assert a.evidence["timeliness"]["days_late"] == 4
        assert a.evidence["staffing"]["contracted"] == 2
        assert a.evidence["staffing"]["worked"] == 1
        from plugins.agency_scoring.service import open_assessment

        assert open_assessment(eid).id == a.id  # once only


def test_party_scores_once_and_the_trace_shows_points_and_scorer(app, engagements, token_for):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    dept = token_for("dept01")
    r = app.test_client().post(f"{API}/{aid}/score", headers=dept, json={
        "scores": _with("时效性/按期提交成果", defects="3")})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["party_total"] == "97.00" and body["score"] == "97.00"
    assert body["grade"] == "excellent"
    lines = {line["path"]: line for line in body["scores"][0]["lines"]}
    assert lines["时效性/按期提交成果"]["points"] == "12.00"
    assert lines["时效性/按期提交成果"]["evidence"] == "timeliness"
    with app.app_context():
        from tests.plugins.agency_scoring.conftest import user

        assert lines["工作质量/报告质量"]["by"] == user("dept01").full_name
    # a second score by the same party is refused; nothing changes
    again = app.test_client().post(f"{API}/{aid}/score", headers=dept,
                                   json={"scores": FULL})
    assert again.status_code == 422
    assert again.get_json()["details"]["assessment"]
    with app.app_context():
        assert assessment_of(eid).party_total == Decimal("97.00")


def test_spot_check_combines_by_the_configured_weights(app, engagements, token_for):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    client = app.test_client()
    # the spot-check waits for the party's score, and only finance may add it
    assert client.post(f"{API}/{aid}/spot-check", headers=token_for("finance"),
                       json={"scores": SPOT}).status_code == 422
    assert client.post(f"{API}/{aid}/score", headers=token_for("dept01"),
                       json={"scores": FULL}).status_code == 200
    assert client.post(f"{API}/{aid}/spot-check", headers=token_for("dept01"),
                       json={"scores": SPOT}).status_code == 403
    r = client.post(f"{API}/{aid}/spot-check", headers=token_for("finance"),
                    json={"scores": SPOT})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    # party 100 × 70 % + spot-check 85 × 30 % = 95.50
    assert (body["party_total"], body["spot_total"], body["score"]) == ("100.00", "85.00",
                                                                        "95.50")
    assert [s["who"] for s in body["scores"]] == ["party", "spot_check"]
    assert client.post(f"{API}/{aid}/spot-check", headers=token_for("finance"),
                       json={"scores": SPOT}).status_code == 422


def test_a_veto_sets_the_lowest_grade_and_excludes_the_agency(app, engagements, token_for):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                               json={"scores": FULL, "vetoes": ["subcontracting"]})
    assert r.status_code == 200
    body = r.get_json()
    assert body["score"] == "100.00" and body["grade"] == "poor"
    assert body["vetoes"] == ["subcontracting"]
    answer = app.test_client().get(
        f"/api/v1/agencies/{engagements.agency_ids[0]}/eligibility",
        headers=token_for("dept01")).get_json()
    assert answer["eligible"] is False
    assert any("转包核心业务" in reason for reason in answer["reasons"])
    assert any("credit" in n.lower() or "信用" in n for n in answer["notes"])


def test_scores_outside_an_indicators_range_are_refused_and_nothing_written(
        app, engagements, token_for):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
        records = db.session.scalar(select(func.count(ScoreRecord.id)))
    dept = token_for("dept01")
    client = app.test_client()
    bad = [
        _with("工作质量/报告质量", level="A", percent="75"),  # A is 90–100 %
        _with("工作质量/报告质量", level="E"),
        _with("工作纪律/保密", defects="-1"),
        _with("工作纪律/保密", defects="1.5"),
        _with("人员配备/团队与合同一致", target="2", actual="3"),
        _with("工作质量/报告质量", level="A", percent="abc"),
        {k: v for k, v in FULL.items() if k != "配合度/沟通配合"},
    ]
    for scores in bad:
        r = client.post(f"{API}/{aid}/score", headers=dept, json={"scores": scores})
        assert r.status_code == 422, scores
        assert r.get_json()["details"], scores
    r = client.post(f"{API}/{aid}/score", headers=dept,
                    json={"scores": FULL, "vetoes": ["nonsense"]})
    assert r.status_code == 422 and "vetoes" in r.get_json()["details"]
    r = client.post(f"{API}/{aid}/score", headers=dept, json={"scores": _with(
        "工作质量/报告质量", level="A", percent="75")})
    assert "90" in str(r.get_json()["details"]["工作质量/报告质量"])
    with app.app_context():
        a = assessment_of(eid)
        assert a.party_total is None and a.score is None and a.status == "open"
        assert db.session.scalar(select(func.count(ScoreRecord.id))) == records


def test_an_engagement_that_is_not_closed_cannot_be_assessed(app, engagements, token_for):
    eid = engagements.ids[1]
    dept = token_for("dept01")
    r = app.test_client().post(API, headers=dept, json={"engagement_id": eid})
    assert r.status_code == 422
    assert "engagement_id" in r.get_json()["details"]
    with app.app_context():
        assert assessment_of(eid) is None
        close(eid)
    # closing opened it; opening a second one is refused
    r = app.test_client().post(API, headers=dept, json={"engagement_id": eid})
    assert r.status_code == 422
    with app.app_context():
        from plugins.agency_scoring.models import Assessment

        assert db.session.scalar(select(func.count(Assessment.id)).where(
            Assessment.engagement_id == eid)) == 1


def test_the_assessment_page_scores_through_the_form(app, engagements, login):
    eid = engagements.ids[0]
    with app.app_context():
        log_and_deliver(eid, engagements.staff_ids[0][0], datetime(2026, 10, 2, 9, 0))
        db.session.commit()
        close(eid)
        aid = assessment_of(eid).id
    dept = login("dept01")
    page = dept.get(f"/admin/agency_assessment/page/?id={aid}")
    assert page.status_code == 200
    assert "jixiao-evidence-timeliness" in page.text and "jixiao-score-form" in page.text
    form = {"csrf_token": csrf_from(page.text), "id": aid, "who": "party"}
    for path, inputs in FULL.items():
        for key, value in inputs.items():
            form[f"in|{path}|{key}"] = value
    form["in|时效性/按期提交成果|defects"] = "2"
    r = dept.post("/admin/agency_assessment/score/", data=form)
    assert r.status_code == 302
    page = dept.get(f"/admin/agency_assessment/page/?id={aid}")
    assert "jixiao-trace" in page.text and "98.00" in page.text
    assert "jixiao-score-form" not in page.text  # scored once
    with app.app_context():
        scored_at = assessment_of(eid).party_at
    assert scored_at.strftime("%Y-%m-%d %H:%M") in page.text  # a date and time, no ISO "T"
    # without the CSRF token nothing is saved
    with app.app_context():
        assert assessment_of(eid).party_total == Decimal("98.00")
    agency = login("agency01")
    page = agency.get(f"/admin/agency_assessment/page/?id={aid}")
    assert page.status_code == 200 and "98.00" in page.text
    assert "jixiao-score-form" not in page.text
    assert agency.post("/admin/agency_assessment/score/", data={
        "csrf_token": csrf_from(page.text), "id": aid, "who": "party"}).status_code == 403


def test_a_form_without_csrf_token_is_refused(app, engagements, login):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    r = login("dept01").post("/admin/agency_assessment/score/",
                             data={"id": aid, "who": "party"})
    assert r.status_code in (400, 302)
    with app.app_context():
        assert assessment_of(eid).party_total is None


def test_timeliness_and_staffing_are_scored_from_the_portal_records(app, engagements,
                                                                    token_for):
    eid = engagements.ids[0]
    with app.app_context():
        log_and_deliver(eid, engagements.staff_ids[0][0], datetime(2026, 10, 6, 9, 0))
        db.session.commit()
        close(eid)
        aid = assessment_of(eid).id
    scores = {k: v for k, v in FULL.items()
              if k not in ("时效性/按期提交成果", "人员配备/团队与合同一致")}
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                               json={"scores": scores})
    assert r.status_code == 200, r.get_json()
    lines = {line["path"]: line for line in r.get_json()["scores"][0]["lines"]}
    assert lines["时效性/按期提交成果"]["points"] == "9.00"  # 6 days late
    assert lines["人员配备/团队与合同一致"]["points"] == "5.00"  # 1 of 2 logged work
    assert r.get_json()["score"] == "89.00"


def test_an_engine_problem_is_named_by_indicator(app, engagements, token_for):
    eid = engagements.ids[0]
    with app.app_context():
        close(eid)
        aid = assessment_of(eid).id
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"), json={
        "scores": _with("人员配备/团队与合同一致", target="0", actual="0")})
    assert r.status_code == 422
    assert "人员配备/团队与合同一致" in r.get_json()["details"]
