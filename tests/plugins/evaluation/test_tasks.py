"""The evaluation stage's 待办: self-evaluations to fill and review, rectifications due, and
the finance bureau's queues (counts), each in the person's row scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import FiscalYear, OrgUnit, State, WorkflowEvent
from core.plugins import hooks
from core.scope import current_principal, unscoped
from tests.plugins.evaluation.conftest import evaluation_of
from tests.support import csrf_from, user

YEAR = 2025


def tasks_of(app, username: str, year: int = YEAR) -> list[dict]:
    """The tasks ``username`` is shown, as plain values (titles in the UI language)."""
    with app.test_request_context():
        login_user(user(username))
        found = [t for t in hooks().tasks(principal=current_principal(), year=year)
                 if t.stage == "evaluation"]
        return [{"title": str(t.title), "link": t.link, "due": t.due, "count": t.count,
                 "overdue": t.overdue, "since": t.since} for t in found]


def titled(tasks: list[dict], text: str) -> list[dict]:
    return [t for t in tasks if text in t["title"]]


@pytest.fixture
def draft(app, target_item):
    """A new draft self-evaluation of unit D01U01 (2025): (evaluation id, item code)."""
    from plugins.evaluation import service

    item_id = target_item()
    with app.app_context():
        from core.models import BudgetItem

        item = db.session.get(BudgetItem, item_id)
        service.create_one(item)
        db.session.commit()
        return evaluation_of(item_id).id, item.code


def _set_state(app, ev_id: int, state: State, level: int = 0) -> None:
    from plugins.evaluation.models import SelfEvaluation

    with app.app_context():
        ev = db.session.get(SelfEvaluation, ev_id)
        ev.state, ev.review_level = state, level
        db.session.commit()


def test_the_unit_fills_its_draft_then_the_department_reviews_it(app, draft):
    ev_id, code = draft
    link = f"/admin/selfevaluation/score/?id={ev_id}"
    with app.app_context():
        due = db.session.scalar(select(FiscalYear).where(FiscalYear.year == YEAR)) \
            .deadline("self_evaluation")

    mine = [t for t in tasks_of(app, "unit0101") if t["link"] == link]
    assert len(mine) == 1
    assert mine[0]["title"].startswith("填写")
    assert code in mine[0]["title"] and mine[0]["due"] == due and mine[0]["count"] == 1
    # nobody else works on it yet: not the department, not another department's unit
    assert not [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert not [t for t in tasks_of(app, "unit0201") if t["link"] == link]
    # another year's tasks do not list it
    assert not [t for t in tasks_of(app, "unit0101", YEAR + 1) if t["link"] == link]

    _set_state(app, ev_id, State.SUBMITTED)
    assert not [t for t in tasks_of(app, "unit0101") if t["link"] == link]
    review = [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert len(review) == 1 and review[0]["title"].startswith("审核") and code in review[0]["title"]
    assert not [t for t in tasks_of(app, "dept02") if t["link"] == link]

    _set_state(app, ev_id, State.RETURNED)
    fix = [t for t in tasks_of(app, "unit0101") if t["link"] == link]
    assert len(fix) == 1 and "退回" in fix[0]["title"]
    assert not [t for t in tasks_of(app, "dept01") if t["link"] == link]


def test_finance_counts_the_decisions_to_take(app, login):
    from plugins.evaluation.models import ResultSuggestion

    def waiting() -> int:
        with app.app_context(), unscoped() as session:
            return session.scalar(select(func.count(ResultSuggestion.id)).where(
                ResultSuggestion.fiscal_year == YEAR, ResultSuggestion.decided.is_(None)))

    expected = waiting()
    assert expected > 0, "the demo data has open suggestions"
    queue = titled(tasks_of(app, "finance"), "结果应用")
    assert len(queue) == 1 and queue[0]["count"] == expected
    assert queue[0]["link"].startswith("/admin/evaluationsuggestion/")
    # the link opens the list of exactly those suggestions
    listed = login("finance").get(queue[0]["link"])
    assert listed.status_code == 200
    # nobody else decides
    assert not titled(tasks_of(app, "dept01"), "结果应用")

    with app.app_context():
        one = db.session.scalar(select(ResultSuggestion).where(
            ResultSuggestion.fiscal_year == YEAR, ResultSuggestion.decided.is_(None)).limit(1))
        one.decided, one_id = one.suggested, one.id
        db.session.commit()
    try:
        queue = titled(tasks_of(app, "finance"), "结果应用")
        assert (queue[0]["count"] if queue else 0) == expected - 1
    finally:
        with app.app_context():
            db.session.get(ResultSuggestion, one_id).decided = None
            db.session.commit()


@pytest.fixture
def rectification(app):
    """An open rectification of a D01 result, past its deadline: (id, suggestion id)."""
    from plugins.evaluation.models import Rectification, ResultSuggestion

    with app.app_context():
        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        ids = [o.id for o in db.session.scalars(select(OrgUnit).where(
            OrgUnit.path.startswith(d01.path)))]
        suggestion = db.session.scalar(select(ResultSuggestion).where(
            ResultSuggestion.org_unit_id.in_(ids), ResultSuggestion.fiscal_year == YEAR)
            .limit(1))
        task = Rectification(suggestion=suggestion, org_unit_id=suggestion.org_unit_id,
                             problem="待办测试整改问题", owner="张三",
                             due_on=date.today() - timedelta(days=3), evidence="",
                             state=State.DRAFT, review_level=0)
        db.session.add(task)
        db.session.commit()
        tid = task.id
    yield tid
    with app.app_context():
        db.session.execute(delete(WorkflowEvent).where(
            WorkflowEvent.object_type == "rectification", WorkflowEvent.object_id == tid))
        db.session.execute(delete(Rectification).where(Rectification.id == tid))
        db.session.commit()


def test_a_rectification_is_due_for_its_department_then_for_finance(app, rectification):
    from plugins.evaluation.models import Rectification, ResultSuggestion

    link = f"/admin/rectification/follow-up/?id={rectification}"

    def finance_count() -> int:
        queue = titled(tasks_of(app, "finance"), "整改")
        return queue[0]["count"] if queue else 0

    before = finance_count()
    with app.app_context(), unscoped() as session:
        expected = session.scalar(select(func.count(Rectification.id)).join(
            ResultSuggestion, ResultSuggestion.id == Rectification.suggestion_id).where(
            ResultSuggestion.fiscal_year == YEAR, Rectification.state == State.SUBMITTED))
    assert before == expected

    due = [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert len(due) == 1 and "待办测试整改问题" in due[0]["title"]
    assert due[0]["due"] == date.today() - timedelta(days=3) and due[0]["overdue"]
    assert not [t for t in tasks_of(app, "dept02") if t["link"] == link]

    with app.app_context():
        task = db.session.get(Rectification, rectification)
        task.state, task.evidence = State.SUBMITTED, "整改报告"
        db.session.commit()
    assert not [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert finance_count() == before + 1


def test_people_without_a_part_get_no_evaluation_tasks(app):
    assert tasks_of(app, "viewer") == []
    assert tasks_of(app, "expert01") == []
    assert tasks_of(app, "finance", 1990) == []


@pytest.fixture
def key_evaluation(app):
    """A department key evaluation of D01 (2025), being scored: its id."""
    from plugins.evaluation.models import KeyEvaluation

    with app.app_context():
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == YEAR))
        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        ev = KeyEvaluation(kind="department_key", object_kind="project", fiscal_year_id=fy.id,
                           title="待办测试部门重点评价", rule_code="", org_unit_id=d01.id)
        db.session.add(ev)
        db.session.commit()
        ev_id = ev.id
    yield ev_id
    with app.app_context():
        db.session.execute(delete(KeyEvaluation).where(KeyEvaluation.id == ev_id))
        db.session.commit()


def test_the_department_scores_its_key_evaluation_until_final(app, key_evaluation):
    from core.models import utcnow
    from plugins.evaluation.models import KeyEvaluation

    link = f"/admin/keyevaluation/sheet/?id={key_evaluation}"
    finance_before = titled(tasks_of(app, "finance"), "重点评价")
    mine = [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert len(mine) == 1 and "待办测试部门重点评价" in mine[0]["title"]
    assert not [t for t in tasks_of(app, "dept02") if t["link"] == link]
    assert not [t for t in tasks_of(app, "unit0101") if t["link"] == link]
    # a department key evaluation is not in the bureau's queue of its own key evaluations
    assert titled(tasks_of(app, "finance"), "重点评价") == finance_before

    with app.app_context():
        db.session.get(KeyEvaluation, key_evaluation).finalized_at = utcnow()
        db.session.commit()
    assert not [t for t in tasks_of(app, "dept01") if t["link"] == link]


def test_the_stage_is_the_menu_category_in_stage_order(app):
    with app.test_request_context():
        stage = hooks().stages()["evaluation"]
        assert (str(stage.label), stage.order) == ("绩效评价", 40)


def test_self_evaluations_of_a_year_wait_only_when_that_year_is_chosen(app, login):
    """The 2025 self-evaluations are the 2025 year's tasks: with 2026 chosen (the badge,
    the 待办 page and the home page) they are not shown."""
    of_2025 = [t for t in tasks_of(app, "unit0101", 2025) if "自评" in t["title"]]
    assert of_2025 and all("2025-" in t["title"] for t in of_2025)
    assert not [t for t in tasks_of(app, "unit0101", 2026) if "2025-" in t["title"]]
    client = login("unit0101")
    token = csrf_from(client.get("/admin/").text)
    client.post("/year/2026", data={"csrf_token": token})
    assert of_2025[0]["link"] not in client.get("/admin/tasks/").text
    client.post("/year/2025", data={"csrf_token": token})
    assert of_2025[0]["link"] in client.get("/admin/tasks/").text
