"""Rectification tasks: evidence before reporting done, finance accepts or returns, overdue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import State, WorkflowEvent
from tests.support import csrf_from


@pytest.fixture
def task(app):
    from plugins.evaluation.models import Rectification, ResultSuggestion

    with app.app_context():
        from core.models import OrgUnit

        d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        ids = [o.id for o in db.session.scalars(select(OrgUnit).where(
            OrgUnit.path.startswith(d01.path)))]
        suggestion = db.session.scalar(select(ResultSuggestion).where(
            ResultSuggestion.org_unit_id.in_(ids)).limit(1))
        t = Rectification(suggestion=suggestion, org_unit_id=suggestion.org_unit_id,
                          problem="测试整改问题", owner="张三", due_on=date(2020, 1, 1),
                          evidence="", state=State.DRAFT, review_level=0)
        db.session.add(t)
        db.session.commit()
        tid = t.id
    yield tid
    with app.app_context():
        db.session.execute(WorkflowEvent.__table__.delete().where(
            WorkflowEvent.object_type == "rectification", WorkflowEvent.object_id == tid))
        db.session.delete(db.session.get(Rectification, tid))
        db.session.commit()


def _act(client, tid, action, comment=""):
    page = client.get(f"/admin/rectification/follow-up/?id={tid}")
    assert page.status_code == 200
    return client.post(f"/admin/rectification/follow-up/?id={tid}", data={
        "csrf_token": csrf_from(page.text), "action": action, "comment": comment},
        follow_redirects=True)


def _state(app, tid):
    from plugins.evaluation.models import Rectification

    with app.app_context():
        t = db.session.get(Rectification, tid)
        return State(t.state), t.done_at


def test_the_follow_up_workflow(app, login, task):
    from plugins.evaluation.models import Rectification

    dept, fin = login("dept01"), login("finance")
    page = dept.get(f"/admin/rectification/follow-up/?id={task}")
    assert "已逾期" in page.text or "Overdue" in page.text
    r = _act(dept, task, "submit")
    assert "佐证" in r.text or "evidence" in r.text
    assert _state(app, task)[0] == State.DRAFT
    with app.app_context():
        db.session.get(Rectification, task).evidence = "整改报告（附件）"
        db.session.commit()
    _act(dept, task, "submit")
    state, done_at = _state(app, task)
    assert state == State.SUBMITTED and done_at is not None
    _act(fin, task, "return", "佐证不足")
    assert _state(app, task) == (State.RETURNED, None)
    _act(dept, task, "submit")
    _act(fin, task, "approve")
    assert _state(app, task)[0] == State.APPROVED
    page = dept.get(f"/admin/rectification/follow-up/?id={task}")
    assert "佐证不足" in page.text and "已逾期" not in page.text
    assert login("dept02").get(f"/admin/rectification/follow-up/?id={task}").status_code == 404


def test_an_accepted_task_cannot_be_edited(app, task):
    from plugins.evaluation import rectify
    from plugins.evaluation.models import Rectification
    from plugins.evaluation.service import EvaluationError

    with app.app_context():
        t = db.session.get(Rectification, task)
        t.state = State.APPROVED
        with pytest.raises(EvaluationError):
            rectify.check_editable(t, None)
        assert not rectify.overdue(t)
        db.session.rollback()


def test_overdue_tasks_are_reminded_once_a_day(app, task):
    from datetime import datetime

    from sqlalchemy import delete, func

    from core.models import Notification, User
    from core.services.scheduler import run_job

    with app.app_context():
        before = db.session.scalar(select(func.count(Notification.id)))
    run_job(app, "rectification-overdue", when=datetime(2026, 1, 5, 8, 40))
    run_job(app, "rectification-overdue", when=datetime(2026, 1, 5, 9, 40))
    with app.app_context():
        notes = db.session.scalars(select(Notification).where(
            Notification.title.like("%整改任务已逾期%"))).all()
        assert notes and len(notes) == db.session.scalar(
            select(func.count(Notification.id))) - before
        from plugins.evaluation.models import Rectification

        org = db.session.get(Rectification, task).org_unit_id
        orgs = set(db.session.scalars(select(User.org_unit_id).where(
            User.id.in_([n.user_id for n in notes]))))
        assert org in orgs  # the users of the task's org unit were told
        db.session.execute(delete(Notification).where(Notification.id.in_([n.id for n in notes])))
        db.session.commit()
