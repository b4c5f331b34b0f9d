"""Re-evaluation: the sample, re-scoring through the same path, flags, accuracy, results."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import FiscalYear, OrgKind, OrgUnit, ScoreRecord
from core.plugins import hooks
from tests.support import csrf_from


@pytest.fixture
def re_eval(app):
    """A re-evaluation of 2 sampled self-evaluations of a department without one yet."""
    from plugins.evaluation import reeval
    from plugins.evaluation.models import ReEvaluation, ResultSuggestion, SelfEvaluation

    made = []
    with app.test_request_context():
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2025))
        taken = set(db.session.scalars(select(ReEvaluation.org_unit_id)))
        for dept in db.session.scalars(select(OrgUnit).where(
                OrgUnit.kind == OrgKind.DEPARTMENT).order_by(OrgUnit.code)):
            finished = db.session.scalar(select(func.count(SelfEvaluation.id)).join(
                OrgUnit, OrgUnit.id == SelfEvaluation.org_unit_id).where(
                OrgUnit.path.startswith(dept.path), SelfEvaluation.fiscal_year_id == fy.id,
                SelfEvaluation.finalized_at.is_not(None)))
            if dept.id not in taken and finished >= 2:
                break
        re = ReEvaluation(fiscal_year=fy, org_unit=dept, sample_size=2)
        reeval.draw_sample(re)
        db.session.add(re)
        db.session.commit()
        made.append(re.id)
        info = (re.id, dept.code, finished)
    yield info
    with app.app_context():
        re = db.session.get(ReEvaluation, made[0])
        ids = [s.id for s in re.samples]
        db.session.execute(delete(ScoreRecord).where(
            ScoreRecord.object_type == "re_evaluation_sample", ScoreRecord.object_id.in_(ids)))
        db.session.execute(delete(ResultSuggestion).where(
            ResultSuggestion.evaluation_kind == "re_evaluation",
            ResultSuggestion.evaluation_id.in_(ids)))
        db.session.delete(re)
        db.session.commit()


def test_the_sample_comes_from_the_departments_finished_self_evaluations(app, re_eval):
    from plugins.evaluation import reeval
    from plugins.evaluation.models import ReEvaluation

    re_id, dept_code, _finished = re_eval
    with app.test_request_context():
        re = db.session.get(ReEvaluation, re_id)
        dept = db.session.get(OrgUnit, re.org_unit_id)
        assert len(re.samples) == 2
        for s in re.samples:
            ev = s.self_evaluation
            assert ev.finalized_at is not None
            assert db.session.get(OrgUnit, ev.org_unit_id).path.startswith(dept.path)
            assert (s.self_score, s.self_grade) == (ev.score, ev.grade)
        again = ReEvaluation(fiscal_year_id=re.fiscal_year_id, org_unit_id=re.org_unit_id,
                             sample_size=2, org_unit=dept, fiscal_year=re.fiscal_year)
        drawn = reeval.draw_sample(again)
        assert [s.self_evaluation_id for s in drawn] == \
            [s.self_evaluation_id for s in re.samples]
        db.session.expunge_all()
        too_many = ReEvaluation(fiscal_year=re.fiscal_year, org_unit=dept, sample_size=10_000)
        with pytest.raises(ValueError, match="sample size|抽查数量"):
            reeval.draw_sample(too_many)
        db.session.rollback()


def test_rescoring_flags_grade_changes_and_big_gaps_and_records_accuracy(app, re_eval):
    from plugins.evaluation import reeval, service
    from plugins.evaluation.models import ReEvaluation

    re_id, _dept, _n = re_eval
    with app.test_request_context():
        re = db.session.get(ReEvaluation, re_id)
        same, lowered = re.samples
        # unchanged values: the same score through the same path, no flag
        result = reeval.rescore(same, {"lines": {}})
        assert result.score == same.self_score and not same.flagged
        # finance finds almost nothing was done: the score drops, the grade changes
        ev = lowered.self_evaluation
        lines = {str(ln.position): ({"grade": "not_achieved", "ratio": "0"}
                                    if ln.comparator == "qualitative" else {"actual": "0"})
                 for ln in ev.lines}
        reeval.rescore(lowered, {"spent": "0.00", "lines": lines}, "台账与实际不符")
        assert lowered.flagged and lowered.score < lowered.self_score - 10
        # a bad correction is refused and nothing changes
        with pytest.raises(service.EvaluationError):
            reeval.rescore(same, {"lines": {"1": {"actual": "很多"}}})
        with pytest.raises(service.EvaluationError):  # money: 3 places refused, not rounded
            reeval.rescore(same, {"spent": "1000.005", "lines": {}})
        assert same.score == same.self_score
        assert reeval.finish(re) == Decimal("50.0")
        db.session.commit()
        found = hooks().evaluation_results(year=2025, kinds=["re_evaluation"])
        mine = {r.id: r for r in found}
        assert mine[lowered.id].grade in "CD" and mine[same.id].score == same.self_score
        with pytest.raises(service.EvaluationError):
            reeval.rescore(same, {"lines": {}})


def test_the_gap_is_configurable(app):
    from plugins.evaluation.reeval import differs

    with app.app_context():
        assert not differs(Decimal("85"), "good", Decimal("81"), "good")
        assert differs(Decimal("85"), "good", Decimal("75"), "good")
        assert differs(Decimal("80.5"), "good", Decimal("79.5"), "fair")
        app.config["EVALUATION_REEVAL_GAP"] = "3"
        try:
            assert differs(Decimal("85"), "good", Decimal("81"), "good")
        finally:
            app.config["EVALUATION_REEVAL_GAP"] = "10"


def test_the_comparison_page_and_who_may_see_it(app, login, re_eval):
    re_id, dept_code, _n = re_eval
    fin = login("finance")
    page = fin.get(f"/admin/reevaluation/compare/?id={re_id}")
    assert page.status_code == 200 and "jixiao-compare" in page.text
    sample_id = page.text.split('data-sample="')[1].split('"')[0]
    r = fin.post("/admin/reevaluation/rescore/", data={
        "csrf_token": csrf_from(page.text), "id": re_id, "sample_id": sample_id},
        follow_redirects=True)
    assert r.status_code == 200
    assert login("viewer").get(f"/admin/reevaluation/compare/?id={re_id}").status_code == 200
    other = "dept01" if dept_code != "D01" else "dept02"
    assert login(other).get(f"/admin/reevaluation/compare/?id={re_id}").status_code == 404
    assert login("unit0101").get("/admin/reevaluation/").status_code == 403
