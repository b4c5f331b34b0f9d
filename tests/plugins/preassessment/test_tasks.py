"""The pre-assessment stage's 待办: the department fills and fixes, experts score,
the finance bureau sees its queues as counts."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import FiscalYear, State, utcnow
from core.plugins import hooks
from tests import support
from tests.plugins.preassessment.conftest import make_pa, user_id


def tasks(app, username):
    with support.signed_in(app, username) as principal:
        return [(str(t.title), t.link, t.count) for t in
                hooks().tasks(principal=principal, year=2026) if t.stage == "preassessment"]


def mine(app, username, code):
    return [t for t in tasks(app, username) if code in t[0]]


def test_the_department_fills_fixes_and_loses_the_task_once_submitted(app, world):
    with app.app_context():
        code = world.code(world.big)
    (fill,) = mine(app, "dept01", code)
    assert "填报" in fill[0] and "preassessment-trigger" in fill[1]
    pa_id = make_pa(app, world.big)
    (fix,) = mine(app, "unit0101", code)
    assert f"/admin/preassessment/assessment/?id={pa_id}" in fix[1]
    make_pa(app, world.big, state=State.RETURNED)
    assert "退回" in mine(app, "dept01", code)[0][0]
    assert not mine(app, "dept02", code)  # outside its scope
    make_pa(app, world.big, state=State.SUBMITTED)
    assert not mine(app, "dept01", code)


def test_finance_counts_what_waits_for_it(app, world):
    from plugins.preassessment.models import Preassessment

    def count(state):
        with app.app_context():
            q = (select(func.count(Preassessment.id))
                 .join(FiscalYear, FiscalYear.id == Preassessment.fiscal_year_id)
                 .where(FiscalYear.year == 2026, Preassessment.state == state,
                        Preassessment.final_at.is_(None)))
            if state == State.APPROVED:
                q = q.where(Preassessment.exempt_kind.is_(None),
                            ~Preassessment.is_key | Preassessment.panel_complete)
            return db.session.scalar(q)

    make_pa(app, world.mid, state=State.SUBMITTED)
    queues = {t[0]: t[2] for t in tasks(app, "finance")}
    assert queues["待财政审核 事前评估自评表"] == count(State.SUBMITTED) > 0
    assert queues.get("待财政出具结论 事前绩效评估", 0) == count(State.APPROVED)
    make_pa(app, world.mid, state=State.APPROVED)
    after = {t[0]: t[2] for t in tasks(app, "finance")}
    assert after["待财政出具结论 事前绩效评估"] == queues.get("待财政出具结论 事前绩效评估", 0) + 1
    make_pa(app, world.mid, final_at=utcnow())
    assert {t[0]: t[2] for t in tasks(app, "finance")}.get("待财政出具结论 事前绩效评估", 0) == \
        queues.get("待财政出具结论 事前绩效评估", 0)


def test_an_expert_sees_only_their_own_open_reviews(app, world):
    from plugins.preassessment.models import ExpertReview

    with app.app_context():
        code = world.code(world.big)
    pa_id = make_pa(app, world.big, state=State.SUBMITTED, is_key=True)
    with app.app_context():
        review = ExpertReview(preassessment_id=pa_id, user_id=user_id(app, "expert01"),
                              scores={})
        db.session.add(review)
        db.session.commit()
        review_id = review.id
    (task,) = mine(app, "expert01", code)
    assert "评分" in task[0] and f"/admin/preassessment_review/score/?id={review_id}" in task[1]
    assert not mine(app, "expert02", code)  # not on this panel
    with app.app_context():
        db.session.get(ExpertReview, review_id).submitted_at = utcnow()
        db.session.commit()
    assert not mine(app, "expert01", code)
