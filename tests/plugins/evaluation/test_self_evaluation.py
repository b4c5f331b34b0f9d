"""Self-evaluation: bulk creation from approved targets, actuals, score screen, review, results."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import State
from core.plugins import hookimpl, hooks
from tests.plugins.evaluation.conftest import evaluation_of
from tests.support import csrf_from, run_long_action

GOOD = {"完成数量": "100", "差错率": "5", "满意度": "81%"}


def _create(app, item_id):
    from core.models import BudgetItem
    from plugins.evaluation import service

    with app.app_context():
        ev = service.create_one(db.session.get(BudgetItem, item_id))
        db.session.commit()
        return ev.id


def _form(app, ev_id, page_html, spent="1900000.00", values=GOOD, grade="achieved",
          ratio="0.9", explain=True):
    from plugins.evaluation.models import SelfEvaluation

    data = {"csrf_token": csrf_from(page_html), "id": ev_id, "spent": spent,
            "summary": "按计划完成；建议提高满意度。"}
    version = re.search(r'name="version" value="(\d+)"', page_html)
    if version:
        data["version"] = version.group(1)
    with app.app_context():
        for line in db.session.get(SelfEvaluation, ev_id).lines:
            if line.comparator == "qualitative":
                data[f"grade_{line.id}"], data[f"ratio_{line.id}"] = grade, ratio
            else:
                data[f"actual_{line.id}"] = values[line.name]
            data[f"explanation_{line.id}"] = "受天气影响" if explain else ""
    return data


def _enter(app, client, ev_id, **kwargs):
    page = client.get(f"/admin/selfevaluation/score/?id={ev_id}")
    assert page.status_code == 200
    return client.post("/admin/selfevaluation/actuals/", data=_form(app, ev_id, page.text,
                                                                    **kwargs),
                       follow_redirects=True)


def test_bulk_creation_copies_the_targets_with_the_default_weights(app, target_item):
    from plugins.targets.models import TargetIndicator, TargetSheet

    item_id = target_item()
    ev_id = _create(app, item_id)
    with app.app_context():
        ev = evaluation_of(item_id)
        assert ev.id == ev_id and State(ev.state) == State.DRAFT
        assert ev.budget == Decimal("2000000.00") and ev.execution_weight == Decimal("10")
        assert [(ln.name, ln.weight, ln.target_value, ln.method) for ln in ev.lines] == [
            ("完成数量", Decimal("33.33"), "100", "proportional"),
            ("差错率", Decimal("16.67"), "5", "reverse"),
            ("服务水平", Decimal("30.00"), "明显提升", "qualitative"),
            ("满意度", Decimal("10.00"), "90", "proportional")]
        # a later change of the targets does not alter the evaluation
        sheet = db.session.scalar(select(TargetSheet).where(TargetSheet.budget_item_id == item_id))
        db.session.execute(TargetIndicator.__table__.update().where(
            TargetIndicator.sheet_id == sheet.id).values(target_value="999"))
        db.session.commit()
        assert [ln.target_value for ln in evaluation_of(item_id).lines][0] == "100"


def test_items_without_approved_targets_are_refused(app, target_item):
    from core.models import BudgetItem
    from plugins.evaluation import service

    item_id = target_item(approved=False)
    with app.app_context():
        with pytest.raises(service.EvaluationError, match="no approved performance targets|没有已批复的绩效目标"):
            service.create_one(db.session.get(BudgetItem, item_id))
        assert service.create_for_year(2025, [item_id]) == 0
        assert evaluation_of(item_id) is None


def test_the_unit_enters_actuals_and_the_score_screen_shows_the_trace(app, login, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    page = _enter(app, unit, ev_id)
    assert "已保存" in page.text or "Saved" in page.text
    html = unit.get(f"/admin/selfevaluation/score/?id={ev_id}").text
    # 9.50 + 33.33 + 16.67 + 27.00 (0.9 of 30) + 9.00 (10 × 81 / 90)
    assert "95.50" in html and "优" in html
    assert "10 × 81 / 90" in html and "33.33" in html and "达成: 30 × 90 %" in html
    with app.app_context():
        ev = evaluation_of(item_id)
        assert ev.score == Decimal("95.50") and ev.grade == "excellent"
        assert ev.spent == Decimal("1900000.00")


def test_the_score_screen_names_methods_and_grades_in_words(app, login, target_item):
    from plugins.evaluation.models import SelfEvaluation

    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    _enter(app, unit, ev_id)
    html = unit.get(f"/admin/selfevaluation/score/?id={ev_id}").text
    cells = re.findall(r"<td>([^<]*)</td>", html)
    for code in ("proportional", "reverse", "qualitative", "budget_execution"):
        assert code not in cells, code  # a method code is not what a user reads
    for words in ("正向比例", "反向比例（越低越好）", "定性分级", "预算执行率"):
        assert f"<td>{words}</td>" in html, words
    with app.app_context():  # read-only (finalized): the grade of a qualitative line in words
        ev = db.session.get(SelfEvaluation, ev_id)
        ev.finalized_at = ev.updated_at
        db.session.commit()
    html = unit.get(f"/admin/selfevaluation/score/?id={ev_id}").text
    assert "达成 (0.9" in html and "achieved" not in html  # nor in the formula


def test_a_stale_form_does_not_overwrite_newer_values(app, login, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    page = unit.get(f"/admin/selfevaluation/score/?id={ev_id}")
    stale = _form(app, ev_id, page.text)
    first = _enter(app, unit, ev_id, values={**GOOD, "完成数量": "90"})
    assert "已保存" in first.text
    r = unit.post("/admin/selfevaluation/actuals/", data=stale, follow_redirects=True)
    assert "刷新页面" in r.text  # someone else changed it: reload
    with app.app_context():
        ev = evaluation_of(item_id)
        assert [ln.actual for ln in ev.lines][0] == "90"


def test_the_saved_score_is_the_stateless_endpoints_score(app, login, api_as, target_item):
    from core.services.score_records import latest_score, reproduces
    from core.services.scoring import hook_resolver
    from plugins.evaluation import service

    item_id = target_item()
    ev_id = _create(app, item_id)
    _enter(app, login("unit0101"), ev_id, values={**GOOD, "完成数量": "77"}, ratio="0.83")
    with app.app_context():
        ev = evaluation_of(item_id)
        body = service.sheet_data(ev, ev.lines)
        record = latest_score(db.session, ev, service.PURPOSE)
        assert reproduces(record, hook_resolver(app))
        saved = (str(ev.score), ev.grade)
    answer = api_as("unit0101").post("/api/v1/scoring/self-evaluation", json=body).get_json()
    assert (answer["score"], answer["grade"]) == saved


@pytest.mark.parametrize("change,message", [
    ({"spent": "1.005"}, "两位小数"),
    ({"values": {**GOOD, "完成数量": "一百"}}, "完成数量"),
    ({"values": {**GOOD, "差错率": "5个"}}, "差错率"),
    ({"ratio": "0.5"}, "服务水平"),
    ({"ratio": "0.85555"}, "服务水平"),
])
def test_bad_actuals_are_refused_and_nothing_changes(app, login, target_item, change, message):
    item_id = target_item()
    ev_id = _create(app, item_id)
    page = _enter(app, login("unit0101"), ev_id, **change)
    assert message in page.text
    with app.app_context():
        ev = evaluation_of(item_id)
        assert ev.spent is None and ev.score is None
        assert all(ln.actual is None and ln.grade is None for ln in ev.lines)


def _act(client, ev_id, action, comment=""):
    page = client.get(f"/admin/selfevaluation/score/?id={ev_id}")
    return client.post("/admin/selfevaluation/workflow/", data={
        "csrf_token": csrf_from(page.text), "id": ev_id, "action": action, "comment": comment},
        follow_redirects=True)


def test_every_missed_indicator_needs_an_explanation_before_submitting(app, login, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    _enter(app, unit, ev_id, explain=False)
    page = _act(unit, ev_id, "submit")
    assert "满意度" in page.text and "服务水平" in page.text
    with app.app_context():
        assert State(evaluation_of(item_id).state) == State.DRAFT
    _enter(app, unit, ev_id)
    _act(unit, ev_id, "submit")
    with app.app_context():
        assert State(evaluation_of(item_id).state) == State.SUBMITTED


def test_a_finalized_evaluation_offers_no_comment_box_without_buttons(app, login, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    _enter(app, unit, ev_id)
    _act(unit, ev_id, "submit")
    dept = login("dept01")
    assert 'name="comment"' in dept.get(f"/admin/selfevaluation/score/?id={ev_id}").text
    _act(dept, ev_id, "approve")
    html = dept.get(f"/admin/selfevaluation/score/?id={ev_id}").text
    assert "已定稿" in html and 'name="comment"' not in html


def test_department_approval_finalizes_announces_and_freezes(app, login, target_item):
    from plugins.evaluation.models import ResultSuggestion

    seen = []

    class Listener:
        @hookimpl
        def jixiao_evaluation_finalized(self, evaluation):

            from core.extensions import db as _db
            from plugins.evaluation.models import SelfEvaluation

            # called inside the transaction: the evaluation is already final in it
            ev = _db.session.get(SelfEvaluation, evaluation.id)
            seen.append((evaluation, ev.finalized_at is not None))

    pm = hooks(app)
    listener = Listener()
    pm.register(listener, name="test_evaluation_listener")
    try:
        item_id = target_item()
        ev_id = _create(app, item_id)
        unit = login("unit0101")
        _enter(app, unit, ev_id)
        _act(unit, ev_id, "submit")
        _act(login("dept01"), ev_id, "approve")
    finally:
        pm.unregister(listener)
    assert len(seen) == 1 and seen[0][1]
    result = seen[0][0]
    assert (result.kind, result.object_kind, result.fiscal_year, result.grade) == \
        ("self", "project", 2025, "A")
    assert result.score == Decimal("95.50") and result.budget_item_ids == (item_id,)
    assert result.summary == "按计划完成；建议提高满意度。"
    with app.app_context():
        ev = evaluation_of(item_id)
        assert ev.finalized_at is not None and State(ev.state) == State.APPROVED
        found = hooks().evaluation_results(year=2025, item_ids=[item_id])
        assert [(r.id, r.grade, r.score) for r in found] == [(ev_id, "A", Decimal("95.50"))]
        assert hooks().evaluation_results(item_ids=[item_id], kinds=["finance_key"]) == []
        suggestion = db.session.scalar(select(ResultSuggestion).where(
            ResultSuggestion.evaluation_id == ev_id))
        assert suggestion.suggested == "keep" and suggestion.decided is None
    # edits after finalization are refused, nothing changes
    page = _enter(app, unit, ev_id, values={**GOOD, "完成数量": "1"})
    assert "不能修改" in page.text or "cannot be changed" in page.text
    with app.app_context():
        assert evaluation_of(item_id).score == Decimal("95.50")


def test_poor_results_suggest_a_cut_and_finance_decides(app, login, target_item):
    from plugins.evaluation.models import ResultSuggestion

    item_id = target_item()
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    _enter(app, unit, ev_id, spent="200000.00", values={"完成数量": "10", "差错率": "50",
                                                       "满意度": "9"},
           grade="not_achieved", ratio="0.1")
    _act(unit, ev_id, "submit")
    _act(login("dept01"), ev_id, "approve")
    with app.app_context():
        suggestion = db.session.scalar(select(ResultSuggestion).where(
            ResultSuggestion.evaluation_id == ev_id))
        assert suggestion.grade == "poor" and suggestion.suggested == "cut"
        sid = suggestion.id
    fin = login("finance")
    page = fin.get(f"/admin/evaluationsuggestion/edit/?id={sid}")
    assert page.status_code == 200
    form = {"csrf_token": csrf_from(page.text), "decided": "rectify_first",
            "note": "整改后再安排预算"}
    version = re.search(r'name="version"[^>]*value="(\d+)"', page.text)
    if version:
        form["version"] = version.group(1)
    fin.post(f"/admin/evaluationsuggestion/edit/?id={sid}", data=form)
    with app.app_context():
        suggestion = db.session.get(ResultSuggestion, sid)
        assert suggestion.decided == "rectify_first" and suggestion.decided_at is not None
    assert login("dept01").get(f"/admin/evaluationsuggestion/edit/?id={sid}").status_code != 200


def test_other_departments_do_not_see_the_evaluation(app, login, api_as, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    assert login("dept02").get(f"/admin/selfevaluation/score/?id={ev_id}").status_code == 404
    assert login("dept01").get(f"/admin/selfevaluation/score/?id={ev_id}").status_code == 200
    assert api_as("dept02").get(f"/api/v1/self-evaluations/{ev_id}").status_code == 404
    other = api_as("dept02").get(f"/api/v1/self-evaluations?item_id={item_id}").get_json()
    assert other["items"] == []
    r = api_as("unit0101").post(f"/api/v1/self-evaluations/{ev_id}/actuals",
                                json={"spent": "1.00", "lines": []})
    assert r.status_code == 422  # own evaluation, but no actual values
    r = api_as("dept02").post(f"/api/v1/self-evaluations/{ev_id}/actuals",
                              json={"spent": "1.00", "lines": []})
    assert r.status_code == 404


def test_viewer_may_look_but_not_enter(app, login, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    viewer = login("viewer")
    assert viewer.get(f"/admin/selfevaluation/score/?id={ev_id}").status_code == 200
    page = viewer.get(f"/admin/selfevaluation/score/?id={ev_id}")
    r = viewer.post("/admin/selfevaluation/actuals/", data=_form(app, ev_id, page.text))
    assert r.status_code == 403


def test_the_whole_cycle_through_the_api(app, api_as, target_item):
    item_id = target_item()
    ev_id = _create(app, item_id)
    with app.app_context():
        ev = evaluation_of(item_id)
        lines = [{"id": ln.id, "grade": "achieved", "ratio": "0.9", "explanation": "天气原因"}
                 if ln.comparator == "qualitative" else
                 {"id": ln.id, "actual": GOOD[ln.name], "explanation": "天气原因"}
                 for ln in ev.lines]
    unit, dept = api_as("unit0101"), api_as("dept01")
    r = unit.post(f"/api/v1/self-evaluations/{ev_id}/actuals",
                  json={"spent": 1900000.0, "lines": lines})
    assert r.status_code == 422 and "spent" in r.get_json()["details"]  # a float
    r = unit.post(f"/api/v1/self-evaluations/{ev_id}/actuals",
                  json={"spent": "1900000.00", "lines": lines, "summary": "完成"})
    assert r.status_code == 200 and r.get_json()["score"] == "95.50"
    r = dept.post(f"/api/v1/self-evaluations/{ev_id}/workflow", json={"action": "approve"})
    assert r.status_code == 422  # not submitted yet
    assert unit.post(f"/api/v1/self-evaluations/{ev_id}/workflow",
                     json={"action": "submit"}).status_code == 200
    r = dept.post(f"/api/v1/self-evaluations/{ev_id}/workflow", json={"action": "approve"})
    assert r.status_code == 200 and r.get_json()["finalized_at"]
    r = unit.post(f"/api/v1/self-evaluations/{ev_id}/actuals",
                  json={"spent": "1.00", "lines": lines})
    assert r.status_code == 422


def test_finance_creates_a_years_self_evaluations_after_a_confirmation(app, login, target_item):
    from plugins.evaluation import service

    item_id = target_item()
    with app.app_context():
        count = len(service.missing(2025)[1])
    assert count >= 1
    finance = login("finance")
    url = "/admin/selfevaluation/create-year/"
    page = finance.get(url, query_string={"year": "2025"}).text
    assert f"创建 {count} 份单位自评" in page and "jixiao-confirm-start" in page
    with app.app_context():
        assert evaluation_of(item_id) is None  # asking changes nothing
    done = run_long_action(finance, url, year="2025").text
    assert f"已为 2025 年度创建 {count} 份单位自评。" in done and f"{count} / {count}" in done
    with app.app_context():
        assert evaluation_of(item_id) is not None
    again = finance.get(url, query_string={"year": "2025"}).text
    assert "创建 0 份单位自评" in again and "disabled" in again
    assert login("dept01").get(url, query_string={"year": "2025"}).status_code == 403
