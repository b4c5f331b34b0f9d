"""Key pre-assessments: selection, the expert panel, conflicts, independence, panel score."""

from __future__ import annotations

import html
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit, Role, User
from tests.plugins.preassessment.conftest import (
    GOOD,
    expert_scores,
    get_pa,
    key_panel,
    make_pa,
    post,
    review_of,
    submitted_pa,
    user_id,
)

LOW = ["6"] * 10  # 60.00
HIGH = ["9.5"] * 10  # 95.00


def test_candidates_are_ranked_by_attention_then_amount(app, login, world):
    with app.app_context():
        from core.models import BudgetItem

        rows = db.session.scalars(select(BudgetItem).where(BudgetItem.id.in_(
            [world.big, world.old]))).all()
        for row in rows:  # above every demo item, so the order among ours shows
            row.amount += Decimal("900000000.00")
        db.session.commit()
        big, old, mid = world.code(world.big), world.code(world.old), world.code(world.mid)
    make_pa(app, world.old, substantially_changed=True, change_note="内容调整")
    fin = login("finance")
    page = fin.get("/admin/preassessment-key/?year=2026").text
    assert f'data-item="{mid}"' not in page  # below 5,000,000
    assert page.index(f'data-item="{big}"') < page.index(f'data-item="{old}"')  # by amount
    post(fin, "/admin/preassessment-key/", "/admin/preassessment-key/",
         {"item_id": world.old, "attention": "1"})
    page = fin.get("/admin/preassessment-key/?year=2026").text
    assert page.index(f'data-item="{old}"') < page.index(f'data-item="{big}"')  # attention


def test_items_below_the_key_threshold_cannot_be_selected(app, login, world):
    pa_id = make_pa(app, world.mid)
    r = post(login("finance"), "/admin/preassessment-key/", "/admin/preassessment-key/",
             {"item_id": world.mid, "selected": "1"})
    assert "5,000,000.00" in r.text
    assert not get_pa(app, pa_id).is_key


def test_departments_cannot_select_key_items(app, login, world):
    r = post(login("dept01"), "/admin/preassessment-key/", "/admin/preassessment-key/",
             {"item_id": world.big, "selected": "1"})
    assert r.status_code == 403


def test_an_expert_from_the_assessed_department_must_stand_aside(app, login, world):
    pa_id = key_panel(app, login, world, experts=())
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U02"))
        role = db.session.scalar(select(Role).where(Role.name == "expert"))
        insider = User(username=f"insider{world.tag}", full_name=f"内部专家{world.tag}",
                       role_id=role.id, org_unit_id=unit.id)
        db.session.add(insider)
        db.session.commit()
        insider_id = insider.id
    try:
        fin = login("finance")
        r = post(fin, f"/admin/preassessment/assessment/?id={pa_id}",
                 "/admin/preassessment/panel/", {"id": pa_id, "expert_id": insider_id})
        assert f"内部专家{world.tag}" in r.text and ("回避" in r.text or "stand aside" in r.text)
        r = post(fin, f"/admin/preassessment/assessment/?id={pa_id}",
                 "/admin/preassessment/panel/", {"id": pa_id,
                                                 "expert_id": user_id(app, "dept01")})
        assert "专家" in r.text
        with app.app_context():
            assert get_pa(app, pa_id) and review_of(app, pa_id, f"insider{world.tag}") is None
            assert review_of(app, pa_id, "dept01") is None
    finally:
        with app.app_context():
            db.session.delete(db.session.get(User, insider_id))
            db.session.commit()


def test_experts_score_independently_until_all_have_submitted(app, login, world):
    pa_id = key_panel(app, login, world)
    r1, r2 = review_of(app, pa_id, "expert01"), review_of(app, pa_id, "expert02")
    e1, e2 = login("expert01"), login("expert02")
    expert_scores(e2, r2, HIGH, opinion=f"二号专家意见{world.tag}", action="save")
    expert_scores(e1, r1, LOW, opinion=f"一号专家意见{world.tag}")
    # expert01 has submitted; expert02 has only saved a draft: nothing of it is visible
    page = e1.get(f"/admin/preassessment_review/score/?id={r1}").text
    assert f"二号专家意见{world.tag}" not in page and "95.00" not in page
    assert e1.get(f"/admin/preassessment_review/score/?id={r2}").status_code == 404
    assert e1.get(f"/admin/preassessment_review/details/?id={r2}").status_code in (302, 404)
    assert e1.get(f"/api/v1/preassessment-reviews/{r2}").status_code == 404
    own = e1.get(f"/api/v1/preassessment-reviews/{r1}").get_json()
    assert own["panel"] is None and own["total"] == "60.00"
    listed = e1.get("/api/v1/preassessment-reviews?per_page=200").get_json()["items"]
    assert {i["id"] for i in listed} >= {r1} and r2 not in {i["id"] for i in listed}
    assert f"二号专家意见{world.tag}" not in e1.get(
        "/api/v1/preassessment-reviews?per_page=200").text
    # expert02 does not see expert01's submitted scores either
    page = e2.get(f"/admin/preassessment_review/score/?id={r2}").text
    assert f"一号专家意见{world.tag}" not in page
    assert e2.get(f"/api/v1/preassessment-reviews/{r2}").get_json()["panel"] is None
    assert not get_pa(app, pa_id).panel_complete
    # the last expert submits: the panel is complete and visible to both
    expert_scores(e2, r2, HIGH, opinion=f"二号专家意见{world.tag}")
    pa = get_pa(app, pa_id)
    assert pa.panel_complete and str(pa.panel_score) == "77.50"  # (60 + 95) / 2
    page = e1.get(f"/admin/preassessment_review/score/?id={r1}").text
    assert f"二号专家意见{world.tag}" in page and "77.50" in page
    panel = e1.get(f"/api/v1/preassessment-reviews/{r1}").get_json()["panel"]
    assert sorted(p["total"] for p in panel) == ["60.00", "95.00"]


def test_an_expert_scores_once(app, login, world):
    pa_id = key_panel(app, login, world, experts=("expert01", "expert02"))
    r1 = review_of(app, pa_id, "expert01")
    e1 = login("expert01")
    expert_scores(e1, r1, LOW)
    r = expert_scores(e1, r1, HIGH)
    assert "已提交" in r.text or "already submitted" in r.text
    with app.app_context():
        from plugins.preassessment.models import ExpertReview

        assert str(db.session.get(ExpertReview, r1).total) == "60.00"
    token_put = e1.put(f"/api/v1/preassessment-reviews/{r1}", json={
        "scores": {}, "opinion": "x", "submit": True},
        headers={"X-CSRFToken": _csrf(e1, r1)})
    assert token_put.status_code == 422


def _csrf(client, review_id):
    from tests.support import csrf_from

    return csrf_from(client.get(f"/admin/preassessment_review/score/?id={review_id}").text)


def test_scores_outside_the_range_are_refused_for_experts(app, login, world):
    pa_id = key_panel(app, login, world, experts=("expert01",))
    r1 = review_of(app, pa_id, "expert01")
    r = expert_scores(login("expert01"), r1, ["12", *GOOD[1:]])
    assert "政策依据与规划相符性" in html.unescape(r.text)
    with app.app_context():
        from plugins.preassessment.models import ExpertReview

        review = db.session.get(ExpertReview, r1)
        assert review.submitted_at is None and review.scores == {}


def test_five_experts_give_a_trimmed_mean_with_the_trace_stored(app, login, world,
                                                                extra_expert):
    from core.services.score_records import latest_score
    from plugins.preassessment.models import Preassessment

    names = ("expert01", "expert02", "expert03", "expert04", extra_expert)
    pa_id = key_panel(app, login, world, experts=names)
    totals = dict(zip(names, (["5"] * 10, ["7"] * 10, ["8"] * 10, ["9"] * 10, ["10"] * 10),
                      strict=True))
    for name in names:
        expert_scores(login(name), review_of(app, pa_id, name), totals[name])
    pa = get_pa(app, pa_id)
    assert str(pa.panel_score) == "80.00"  # (70 + 80 + 90) / 3, without 50 and 100
    with app.app_context():
        record = latest_score(db.session, db.session.get(Preassessment, pa_id),
                              "preassessment_panel")
        leaf = record.trace["tree"]["children"][0]
        assert leaf["params"] == {"drop_extremes": True}
        assert sorted(leaf["inputs"]["scores"]) == ["100.00", "50.00", "70.00", "80.00",
                                                    "90.00"]


def test_submitted_experts_stay_on_the_panel(app, login, world):
    pa_id = key_panel(app, login, world, experts=("expert01", "expert02"))
    r1 = review_of(app, pa_id, "expert01")
    expert_scores(login("expert01"), r1, GOOD)
    fin = login("finance")
    r = post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/panel/",
             {"id": pa_id, "remove": r1})
    assert review_of(app, pa_id, "expert01") == r1
    r2 = review_of(app, pa_id, "expert02")
    r = post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/panel/",
             {"id": pa_id, "remove": r2})
    assert r.status_code == 200 and review_of(app, pa_id, "expert02") is None


def test_not_key_items_have_no_panel(app, login, world):
    pa_id = submitted_pa(app, login, world.big)
    r = post(login("finance"), f"/admin/preassessment/assessment/?id={pa_id}",
             "/admin/preassessment/panel/", {"id": pa_id, "expert_id": user_id(app, "expert01")})
    assert "重点" in r.text or "key pre-assessment" in r.text
    assert review_of(app, pa_id, "expert01") is None


def test_one_expert_alone_is_no_complete_panel(app, login, world):
    # one expert alone is no panel: submitting does not complete it
    lone = key_panel(app, login, world, experts=("expert01",))
    expert_scores(login("expert01"), review_of(app, lone, "expert01"), HIGH)
    assert not get_pa(app, lone).panel_complete


def test_removing_the_last_expert_who_has_not_scored_completes_the_panel(app, login, world):
    from plugins.preassessment import service
    from plugins.preassessment.models import ExpertReview

    pa_id = key_panel(app, login, world, experts=("expert01", "expert02", "expert03"))
    expert_scores(login("expert01"), review_of(app, pa_id, "expert01"), LOW)
    expert_scores(login("expert02"), review_of(app, pa_id, "expert02"), HIGH)
    assert not get_pa(app, pa_id).panel_complete
    with app.test_request_context():
        service.remove_expert(db.session.get(ExpertReview, review_of(app, pa_id, "expert03")))
        db.session.commit()
    pa = get_pa(app, pa_id)
    assert pa.panel_complete and str(pa.panel_score) == "77.50"


def test_a_draft_conclusion_is_shown_to_the_department_only_once_final(app, login, world):
    from core.models import utcnow
    from plugins.preassessment.models import Conclusion, Preassessment

    pa_id = submitted_pa(app, login, world.big, GOOD)
    with app.app_context():
        pa = db.session.get(Preassessment, pa_id)
        pa.conclusion, pa.recommended_amount = Conclusion.ADJUST, Decimal("4321987.00")
        db.session.commit()
    assert "4321987.00" in login("finance").get("/admin/preassessment/?search=" + world.tag).text
    dept = login("dept01")
    assert "4321987.00" not in dept.get("/admin/preassessment/?search=" + world.tag).text
    assert "4321987.00" not in dept.get("/admin/preassessment/export/csv/").text
    with app.app_context():
        db.session.get(Preassessment, pa_id).final_at = utcnow()
        db.session.commit()
    assert "4321987.00" in dept.get("/admin/preassessment/?search=" + world.tag).text
