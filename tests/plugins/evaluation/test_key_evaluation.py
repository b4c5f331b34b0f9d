"""Key evaluations: templates, the 60 % rule, team scores, agency teams, report, finalizing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.contracts import EngagementView
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, ScoreRecord
from core.plugins import hookimpl, hooks
from tests.support import csrf_from


class FakeAgencies:
    """Answers ``jixiao_engagements`` like the agencies plugin would."""

    @hookimpl
    def jixiao_engagements(self, ids, year, agency_id, closed):
        views = [self.view(990001, "evaluation"), self.view(990002, "consulting")]
        return [v for v in views if ids is None or v.id in ids]

    @staticmethod
    def view(pk, kind):
        return EngagementView(
            id=pk, code=f"WT-{pk}", title="评价委托", agency_id=1, agency_name="上海测试咨询",
            kind=kind, org_unit_id=1, contract_amount=Decimal("100000.00"),
            start_on=date(2026, 1, 1), end_on=date(2026, 6, 30), state="approved",
            closed_at=None, budget_item_ids=(), evaluated_amount=Decimal("0.00"), team=())


@pytest.fixture
def key_eval(app):
    """``make(object_kind, **fields) -> id``: a finance key evaluation of a 2025 D01 item."""
    from plugins.evaluation import key
    from plugins.evaluation.models import KeyEvaluation, ResultSuggestion

    made = []

    def make(object_kind="project", **fields):
        with app.test_request_context():
            fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2025))
            org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
            item = db.session.scalar(select(BudgetItem).join(OrgUnit).where(
                BudgetItem.fiscal_year_id == fy.id, OrgUnit.path.startswith(org.path))
                .order_by(BudgetItem.id).limit(1))
            ev = KeyEvaluation(kind="finance_key", object_kind=object_kind, fiscal_year=fy,
                               title=f"测试重点评价{len(made)}", org_unit_id=org.id,
                               after_period=True, team_kind="experts", team="专家甲、专家乙",
                               findings="", problems="", recommendations="", rule_code="",
                               **fields)
            ev.items = [item]
            db.session.add(ev)
            key.build_sheet(ev)
            db.session.commit()
            made.append(ev.id)
            return ev.id

    yield make
    with app.app_context():
        db.session.execute(delete(ScoreRecord).where(ScoreRecord.object_type == "key_evaluation",
                                                     ScoreRecord.object_id.in_(made)))
        db.session.execute(delete(ResultSuggestion).where(
            ResultSuggestion.evaluation_kind == "finance_key",
            ResultSuggestion.evaluation_id.in_(made)))
        for ev in db.session.scalars(select(KeyEvaluation).where(KeyEvaluation.id.in_(made))):
            db.session.delete(ev)
        db.session.commit()


def _full_marks(ev):
    return {ind.id: {"scores": f"{ind.weight}, {ind.weight}"} for ind in ev.indicators}


@pytest.mark.parametrize("object_kind", ["project", "policy", "department"])
def test_each_object_kind_gets_its_framework_sheet(app, key_eval, object_kind):
    from plugins.evaluation.models import KeyEvaluation

    ev_id = key_eval(object_kind)
    with app.app_context():
        ev = db.session.get(KeyEvaluation, ev_id)
        level1 = [ind.level1 for ind in ev.indicators]
        assert list(dict.fromkeys(level1)) == ["决策", "过程", "产出", "效益"]
        assert sum(ind.weight for ind in ev.indicators) == 100
        results = sum(ind.weight for ind in ev.indicators if ind.level1 in ("产出", "效益"))
        assert results >= 60
        assert ev.amount == ev.items[0].amount


def test_the_team_scores_give_the_points_and_outputs_plus_outcomes_need_60(app, key_eval):
    from plugins.evaluation import key, service
    from plugins.evaluation.models import KeyEvaluation

    ev_id = key_eval()
    with app.test_request_context():
        ev = db.session.get(KeyEvaluation, ev_id)
        values = _full_marks(ev)
        first, last = ev.indicators[0], ev.indicators[-1]
        values[first.id] = {"scores": "2, 3, 1"}  # mean 2 of 3
        trace = key.save_sheet(ev, values)
        db.session.commit()
        assert trace.total == Decimal("99.00") and ev.grade == "excellent"
        assert dict(trace.lines())[f"决策/项目立项/{first.name}"].formula == "(1 + 2 + 3) / 3"
        # moving 6 points from outcomes to decision leaves outputs + outcomes at 54 %
        values[first.id] = {"weight": "9", "scores": "9"}
        values[last.id] = {"weight": "0.5", "scores": "0.5"}
        for ind, weight in zip(ev.indicators[15:19], ("1.12", "1.12", "1.13", "1.13"),
                               strict=True):
            values[ind.id] = {"weight": weight, "scores": "1"}
        with pytest.raises(service.EvaluationError) as caught:
            key.save_sheet(ev, values)
        db.session.rollback()
        messages = " ".join(str(p.message) for p in caught.value.problems)
        assert "60" in messages
        ev = db.session.get(KeyEvaluation, ev_id)
        assert ev.indicators[0].weight == Decimal("3") and ev.score == Decimal("99.00")
        # a score above the weight or not a number is refused, nothing changes
        for bad in ("4", "八", "NaN"):
            with pytest.raises(service.EvaluationError):
                key.save_sheet(ev, {**_full_marks(ev), first.id: {"scores": bad}})
            db.session.rollback()
        # a weight with more places than the column holds is refused, never rounded
        for bad in ("2.999", "-1", "NaN"):
            with pytest.raises(service.EvaluationError):
                key.save_sheet(ev, {**_full_marks(ev), first.id: {"weight": bad, "scores": "1"}})
            db.session.rollback()
        kept = db.session.get(KeyEvaluation, ev_id).indicators[0]
        assert kept.scores == "2, 3, 1" and kept.weight == Decimal("3")


def test_before_the_end_of_the_period_the_60_rule_does_not_apply(app, key_eval):
    from plugins.evaluation import key

    with app.app_context():
        assert key.weight_problems([("决策", Decimal(50)), ("产出", Decimal(50))], False) == []
        assert key.weight_problems([("决策", Decimal(50)), ("产出", Decimal(50))], True)


def test_finalizing_needs_findings_and_then_announces_the_result(app, key_eval):
    from plugins.evaluation import key, service
    from plugins.evaluation.models import KeyEvaluation, ResultSuggestion

    seen = []

    class Listener:
        @hookimpl
        def jixiao_evaluation_finalized(self, evaluation):
            seen.append(evaluation)

    ev_id = key_eval("policy")
    pm = hooks(app)
    listener = Listener()
    pm.register(listener, name="test_key_listener")
    try:
        with app.test_request_context():
            ev = db.session.get(KeyEvaluation, ev_id)
            with pytest.raises(service.EvaluationError, match="Score every indicator|评分"):
                key.finalize(ev)
            db.session.rollback()
            key.save_sheet(ev, _full_marks(ev))
            with pytest.raises(service.EvaluationError):
                key.finalize(ev)  # no findings yet
            ev.findings, ev.problems = "政策兑现及时。", "内部问题：台账不全"
            ev.recommendations = "建议延续实施。"
            key.finalize(ev)
            db.session.commit()
            found = hooks().evaluation_results(year=2025, kinds=["finance_key"])
            mine = [r for r in found if r.id == ev_id]
            suggestion = db.session.scalar(select(ResultSuggestion).where(
                ResultSuggestion.evaluation_kind == "finance_key",
                ResultSuggestion.evaluation_id == ev_id))
            assert suggestion.suggested == "keep"
            with pytest.raises(service.EvaluationError):
                key.save_sheet(ev, _full_marks(ev))
    finally:
        pm.unregister(listener)
    assert [(r.kind, r.object_kind, r.grade, r.score) for r in seen] == \
        [("finance_key", "policy", "A", Decimal("100.00"))]
    assert mine and mine[0].summary == "政策兑现及时。\n\n建议延续实施。"
    assert "台账" not in mine[0].summary


def test_an_agency_team_needs_an_evaluation_engagement(app):
    from plugins.evaluation import key
    from plugins.evaluation.models import KeyEvaluation

    pm = hooks(app)
    fake = FakeAgencies()
    pm.register(fake, name="test_fake_agencies")
    try:
        with app.test_request_context():
            def problems(**kw):
                ev = KeyEvaluation(kind="finance_key", object_kind="project", fiscal_year_id=None,
                                   team_kind="agency", **kw)
                return [p.path for p in key.check_setup(ev, [1])]

            assert problems(engagement_id=None) == ["engagement_id"]
            assert problems(engagement_id=990002) == ["engagement_id"]  # consulting
            assert problems(engagement_id=990001) == []
    finally:
        pm.unregister(fake)


def test_report_in_html_and_word_and_the_scope(app, login, key_eval):
    ev_id = key_eval()
    fin = login("finance")
    page = fin.get(f"/admin/keyevaluation/sheet/?id={ev_id}")
    assert page.status_code == 200 and "决策" in page.text
    html = fin.get(f"/admin/keyevaluation/report/?id={ev_id}")
    assert html.status_code == 200 and "测试重点评价" in html.text
    doc = fin.get(f"/admin/keyevaluation/report/?id={ev_id}&format=doc")
    assert doc.mimetype == "application/msword"
    assert "attachment" in doc.headers["Content-Disposition"]
    assert login("dept02").get(f"/admin/keyevaluation/sheet/?id={ev_id}").status_code == 404
    # the department sees it but may not score a finance key evaluation
    dept = login("dept01")
    page = dept.get(f"/admin/keyevaluation/sheet/?id={ev_id}")
    assert page.status_code == 200
    r = dept.post("/admin/keyevaluation/scores/", data={"csrf_token": csrf_from(page.text),
                                                         "id": ev_id})
    assert r.status_code == 403


def test_a_department_cannot_create_a_finance_key_evaluation(app, login):
    from plugins.evaluation.models import KeyEvaluation

    dept = login("dept01")
    page = dept.get("/admin/keyevaluation/new/")
    assert page.status_code == 200
    with app.app_context():
        before = db.session.query(KeyEvaluation).count()
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2025))
        org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        item = db.session.scalar(select(BudgetItem.id).where(
            BudgetItem.fiscal_year_id == fy.id, BudgetItem.org_unit_id == org.id).limit(1))
    r = dept.post("/admin/keyevaluation/new/", data={
        "csrf_token": csrf_from(page.text), "kind": "finance_key", "object_kind": "project",
        "fiscal_year": fy.id, "org_unit": org.id, "title": "越权评价", "items": str(item),
        "after_period": "y", "team_kind": "finance", "team": "", "engagement_id": "",
        "findings": "", "problems": "", "recommendations": ""})
    assert r.status_code == 200 and "财政重点评价" in r.text or "finance key" in r.text
    with app.app_context():
        assert db.session.query(KeyEvaluation).count() == before


def test_finance_edits_findings_until_the_evaluation_is_final(app, login, key_eval):
    import re

    from plugins.evaluation import key
    from plugins.evaluation.models import KeyEvaluation

    ev_id = key_eval()
    fin = login("finance")

    def post(findings):
        page = fin.get(f"/admin/keyevaluation/edit/?id={ev_id}")
        assert page.status_code == 200
        with app.app_context():
            ev = db.session.get(KeyEvaluation, ev_id)
            data = {"csrf_token": csrf_from(page.text), "kind": ev.kind,
                    "object_kind": ev.object_kind, "fiscal_year": ev.fiscal_year_id,
                    "org_unit": ev.org_unit_id, "title": ev.title,
                    "items": ",".join(str(i.id) for i in ev.items), "after_period": "y",
                    "team_kind": ev.team_kind, "team": ev.team, "engagement_id": "",
                    "findings": findings, "problems": "问题", "recommendations": "建议"}
        version = re.search(r'name="version"[^>]*value="(\d+)"', page.text)
        if version:
            data["version"] = version.group(1)
        return fin.post(f"/admin/keyevaluation/edit/?id={ev_id}", data=data,
                        follow_redirects=True)

    post("资金使用规范")
    with app.test_request_context():
        ev = db.session.get(KeyEvaluation, ev_id)
        assert ev.findings == "资金使用规范" and ev.amount == ev.items[0].amount
        key.save_sheet(ev, _full_marks(ev))
        key.finalize(ev)
        db.session.commit()
    r = post("改写结论")
    assert "不能修改" in r.text
    with app.app_context():
        assert db.session.get(KeyEvaluation, ev_id).findings == "资金使用规范"
