"""The evaluation panel on a budget item's page: each evaluation with its state, score and
grade in words and a link to its score page, the result application and rectifications."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, select

from core.extensions import db
from core.models import BudgetItem, State, utcnow
from core.plugins import hooks
from core.scope import unscoped
from tests.plugins.evaluation.conftest import evaluation_of
from tests.support import user


def panels_of(app, username: str, item_id: int) -> list:
    with app.test_request_context():
        login_user(user(username))
        with unscoped() as session:  # the page's item, even for a reader outside its scope
            item = session.get(BudgetItem, item_id)
        return [(p.title, str(p.html)) for p in hooks().item_panels(item=item)
                if p.stage == "evaluation"]


@pytest.fixture
def evaluated(app, target_item):
    """A self-evaluated D01U01 item: (item id, evaluation id); suggestion and task removed after."""
    from plugins.evaluation import service
    from plugins.evaluation.models import Rectification, ResultSuggestion

    item_id = target_item()
    with app.app_context():
        service.create_one(db.session.get(BudgetItem, item_id))
        db.session.commit()
        ev_id = evaluation_of(item_id).id
    yield item_id, ev_id
    with app.app_context():
        ids = list(db.session.scalars(select(ResultSuggestion.id).where(
            ResultSuggestion.evaluation_kind == "self", ResultSuggestion.evaluation_id == ev_id)))
        db.session.execute(delete(Rectification).where(Rectification.suggestion_id.in_(ids)))
        db.session.execute(delete(ResultSuggestion).where(ResultSuggestion.id.in_(ids)))
        db.session.commit()


def test_the_panel_shows_the_self_evaluation_in_words(app, evaluated):
    from plugins.evaluation.models import Rectification, ResultSuggestion, SelfEvaluation

    item_id, ev_id = evaluated
    [(title, html)] = panels_of(app, "unit0101", item_id)
    assert title == "绩效评价"
    assert "绩效自评" in html and "草稿" in html
    assert f"/admin/selfevaluation/score/?id={ev_id}" in html

    with app.app_context():
        ev = db.session.get(SelfEvaluation, ev_id)
        ev.state, ev.review_level = State.APPROVED, 1
        ev.score, ev.grade, ev.finalized_at = Decimal("84.50"), "good", utcnow()
        suggestion = ResultSuggestion(
            evaluation_kind="self", evaluation_id=ev_id, fiscal_year=2025,
            org_unit_id=ev.org_unit_id, title=str(ev), score=ev.score, grade="good",
            suggested="keep", note="")
        db.session.add(suggestion)
        db.session.flush()
        db.session.add(Rectification(
            suggestion_id=suggestion.id, org_unit_id=ev.org_unit_id, problem="面板测试整改",
            owner="李四", due_on=date.today() - timedelta(days=1), evidence="",
            state=State.DRAFT, review_level=0))
        db.session.commit()

    [(_t, html)] = panels_of(app, "dept01", item_id)
    assert "已定稿" in html and "84.50" in html and "良" in html
    assert "继续支持" in html and "待财政决定" in html  # the suggestion, finance to decide
    assert "面板测试整改" in html and "已逾期" in html


def test_out_of_scope_readers_and_items_without_evaluation_get_no_panel(app, evaluated,
                                                                       target_item):
    item_id, _ev = evaluated
    assert panels_of(app, "unit0201", item_id) == []
    assert panels_of(app, "unit0101", target_item()) == []


def test_a_key_evaluation_naming_the_item_is_listed(app, target_item):
    from core.models import FiscalYear, OrgUnit
    from plugins.evaluation.models import KeyEvaluation

    item_id = target_item()
    with app.app_context():
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2025))
        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        ev = KeyEvaluation(kind="department_key", object_kind="project", fiscal_year_id=fy.id,
                           title="面板测试重点评价", rule_code="", org_unit_id=d01.id)
        ev.items = [db.session.get(BudgetItem, item_id)]
        db.session.add(ev)
        db.session.commit()
        ev_id = ev.id
    try:
        [(_t, html)] = panels_of(app, "dept01", item_id)
        assert "部门重点评价" in html and "面板测试重点评价" in html and "评分中" in html
        assert f"/admin/keyevaluation/sheet/?id={ev_id}" in html
    finally:
        with app.app_context():
            db.session.delete(db.session.get(KeyEvaluation, ev_id))
            db.session.commit()
