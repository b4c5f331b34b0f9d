"""API, dashboard, agencies through the contract, demo data, and the app without the plugin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, OrgUnit, State
from tests.plugins.preassessment.conftest import (
    GOOD,
    expert_scores,
    key_panel,
    make_pa,
    review_of,
    submitted_pa,
)
from tests.support import do_login


def test_api_lists_and_reads_pre_assessments_in_scope(app, login, world):
    pa_id = submitted_pa(app, login, world.mid)
    dept = login("dept01")
    body = dept.get(f"/api/v1/preassessments/{pa_id}").get_json()
    assert body["status"] == "submitted" and body["self_score"] == "86.00"
    assert body["requested_amount"] == "2000000.00" and body["conclusion"] is None
    assert {line["dimension"] for line in body["self_assessment"]} == {
        "立项必要性", "投入经济性", "绩效目标合理性", "实施方案可行性", "筹资合规性"}
    listed = dept.get("/api/v1/preassessments?year=2026&per_page=200").get_json()
    assert listed["total"] >= 1
    with app.app_context():
        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        ids = [i["id"] for i in listed["items"]]
        from plugins.preassessment.models import Preassessment

        outside = db.session.scalar(select(func.count(Preassessment.id)).join(
            OrgUnit, OrgUnit.id == Preassessment.org_unit_id).where(
            Preassessment.id.in_(ids), ~OrgUnit.path.startswith(d01.path)))
    assert outside == 0
    assert login("dept02").get(f"/api/v1/preassessments/{pa_id}").status_code == 404
    assert login("expert01").get("/api/v1/preassessments").status_code == 403


def test_experts_score_through_the_api(app, login, world):
    from tests.support import csrf_from

    pa_id = key_panel(app, login, world, experts=("expert01",))
    r1 = review_of(app, pa_id, "expert01")
    e1 = login("expert01")
    token = csrf_from(e1.get(f"/admin/preassessment_review/score/?id={r1}").text)
    detail = e1.get(f"/api/v1/preassessment-reviews/{r1}").get_json()
    paths = [s["path"] for s in detail["sheet"]]
    bad = e1.put(f"/api/v1/preassessment-reviews/{r1}", headers={"X-CSRFToken": token},
                 json={"scores": dict.fromkeys(paths, 9.5), "submit": True, "opinion": "好"})
    assert bad.status_code == 422  # floats are refused
    ok = e1.put(f"/api/v1/preassessment-reviews/{r1}", headers={"X-CSRFToken": token},
                json={"scores": dict(zip(paths, GOOD, strict=True)), "submit": True,
                      "opinion": "同意"})
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["total"] == "86.00"
    assert body["panel"] is None  # one expert is no complete panel (min_experts: 2)
    other = login("expert02").put(f"/api/v1/preassessment-reviews/{r1}",
                                  headers={"X-CSRFToken": token}, json={"scores": {}})
    assert other.status_code in (400, 403, 404)


def test_openapi_lists_the_routes(app, login):
    paths = login("finance").get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/preassessments" in paths
    assert "/api/v1/preassessment-reviews/{review_id}" in paths


def test_dashboard_cards(app, login):
    assert "事前绩效评估" in login("dept01").get("/admin/").text
    assert "待评分" in login("expert01").get("/admin/").text


def test_the_commissioned_agency_is_shown(app, login, world):
    from plugins.agencies.models import Agency, Engagement, Procurement, WorkKind

    pa_id = make_pa(app, world.big)
    with app.app_context():
        agency = db.session.scalar(select(Agency).order_by(Agency.id).limit(1))
        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        eng = Engagement(code=f"PA-{world.tag}", title=f"事前评估委托{world.tag}",
                         org_unit_id=d01.id, agency_id=agency.id, kind=WorkKind.PRE_ASSESSMENT,
                         procurement=Procurement.GOVERNMENT_PROCUREMENT,
                         contract_amount=Decimal("80000.00"), budget_amount=Decimal("80000.00"),
                         start_on=date(2025, 6, 1), end_on=date(2025, 9, 30),
                         state=State.APPROVED, review_level=1)
        eng.items = [db.session.get(BudgetItem, world.big)]
        db.session.add(eng)
        db.session.commit()
        eng_id, name = eng.id, agency.name
    try:
        page = login("dept01").get(f"/admin/preassessment/assessment/?id={pa_id}").text
        assert f"事前评估委托{world.tag}" in page and name in page
        report = login("dept01").get(f"/admin/preassessment/report/?id={pa_id}").text
        assert f"事前评估委托{world.tag}" in report
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Engagement, eng_id))
            db.session.commit()


def test_demo_data_shows_every_stage(app):
    from plugins.preassessment.models import ExpertReview, Preassessment

    with app.app_context():
        rows = db.session.scalars(select(Preassessment)).all()
        assert any(p.exempt_kind for p in rows)
        assert any(p.is_key and p.panel_complete and p.final_at for p in rows)
        assert any(p.is_key and not p.panel_complete for p in rows)
        assert any(p.state == State.SUBMITTED for p in rows)
        assert any(p.final_at and not p.is_key for p in rows)
        assert db.session.scalar(select(func.count(ExpertReview.id)).where(
            ExpertReview.submitted_at.is_(None))) > 0


def test_pre_assessments_work_without_the_agencies_plugin(make_app, app, world):
    pa_id = make_pa(app, world.big)
    off = make_app(DISABLED_PLUGINS=["agencies"])
    c = off.test_client()
    assert do_login(c, "dept01").status_code == 302
    assert c.get(f"/admin/preassessment/assessment/?id={pa_id}").status_code == 200
    assert c.get(f"/admin/preassessment/report/?id={pa_id}&format=doc").status_code == 200


def test_expert_independence_also_holds_with_tokens(app, login, world, token_for):
    pa_id = key_panel(app, login, world)
    r1, r2 = review_of(app, pa_id, "expert01"), review_of(app, pa_id, "expert02")
    expert_scores(login("expert02"), r2, GOOD, opinion=f"秘密意见{world.tag}")
    client = app.test_client()
    headers = token_for("expert01")
    assert client.get(f"/api/v1/preassessment-reviews/{r2}", headers=headers).status_code == 404
    body = client.get(f"/api/v1/preassessment-reviews/{r1}", headers=headers).get_json()
    assert body["panel"] is None and f"秘密意见{world.tag}" not in str(body)


def test_missing_pre_assessments_and_pending_reviews_are_reminded_once_a_day(app, login, world):
    from datetime import datetime

    from sqlalchemy import delete

    from core.models import Notification, User
    from core.services.scheduler import run_job

    key_panel(app, login, world, experts=("expert03",))
    with app.app_context():
        before = db.session.scalar(select(func.count(Notification.id)))
    run_job(app, "preassessment-reminders", when=datetime(2025, 10, 8, 8, 40))
    run_job(app, "preassessment-reminders", when=datetime(2025, 10, 8, 9, 40))
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(Notification.id > 0).order_by(
            Notification.id.desc()).limit(db.session.scalar(
                select(func.count(Notification.id))) - before)).all()
        unit = db.session.scalar(select(User.id).where(User.username == "unit0101"))
        expert = db.session.scalar(select(User.id).where(User.username == "expert03"))
        mine = [n for n in notes if n.user_id == unit]
        assert len(mine) == 1 and "事前绩效评估" in mine[0].title
        assert [n for n in notes if n.user_id == expert and "评分" in n.title]
        db.session.execute(delete(Notification).where(Notification.id.in_([n.id for n in notes])))
        db.session.commit()


def test_departments_self_assess_through_the_api(app, login, world, token_for):
    pa_id = make_pa(app, world.mid)
    client = app.test_client()
    headers = token_for("unit0101")
    sheet = client.get(f"/api/v1/preassessments/{pa_id}", headers=headers).get_json()
    paths = [f"{line['dimension']}/{line['name']}" for line in sheet["self_assessment"]]
    unknown = client.put(f"/api/v1/preassessments/{pa_id}/self-assessment", headers=headers,
                         json={"scores": {"立项必要性/不存在": "5"}})
    assert unknown.status_code == 422 and "立项必要性/不存在" in str(unknown.get_json())
    bad = client.put(f"/api/v1/preassessments/{pa_id}/self-assessment", headers=headers,
                     json={"scores": {**dict(zip(paths, GOOD, strict=True)), paths[0]: "10.5"},
                           "submit": True})
    assert bad.status_code == 422 and paths[0] in str(bad.get_json()["details"])
    ok = client.put(f"/api/v1/preassessments/{pa_id}/self-assessment", headers=headers,
                    json={"scores": dict(zip(paths, GOOD, strict=True)), "summary": "说明",
                          "submit": True})
    assert ok.status_code == 200 and ok.get_json()["self_score"] == "86.00"
    again = client.put(f"/api/v1/preassessments/{pa_id}/self-assessment", headers=headers,
                       json={"scores": {}})
    assert again.status_code == 422
    other = client.put(f"/api/v1/preassessments/{pa_id}/self-assessment",
                       headers=token_for("dept02"), json={"scores": {}})
    assert other.status_code == 404
