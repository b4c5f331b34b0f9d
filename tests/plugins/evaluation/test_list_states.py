"""Evaluation lists: whose review a row waits for, 已定稿, the department filter, the org unit."""

from __future__ import annotations

from core.models import State
from plugins.evaluation.models import Rectification, ResultSuggestion, SelfEvaluation
from tests.support import assert_department_filter, assert_state_filter, column_texts

SELF = "/admin/selfevaluation/"
SUGGESTIONS = "/admin/evaluationsuggestion/"
RECTIFICATIONS = "/admin/rectification/"


def test_self_evaluations_wait_for_the_department_rectifications_for_finance(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, SELF, SelfEvaluation, "待部门审核",
                        SelfEvaluation.state == State.SUBMITTED)
    assert_state_filter(app, finance, SELF, SelfEvaluation, "已定稿",
                        SelfEvaluation.state == State.APPROVED,
                        SelfEvaluation.finalized_at.is_not(None))
    assert_state_filter(app, finance, RECTIFICATIONS, Rectification, "待财政审核",
                        Rectification.state == State.SUBMITTED)


def test_filter_by_department(app, login):
    finance = login("finance")
    assert_department_filter(app, finance, SELF, SelfEvaluation)
    assert_department_filter(app, finance, SUGGESTIONS, ResultSuggestion)


def test_org_unit_is_filled_on_every_row(login):
    finance = login("finance")
    for url in (SELF, SUGGESTIONS):
        names = column_texts(finance.get(url).text, "所属机构")
        assert names and all(names), (url, names)
