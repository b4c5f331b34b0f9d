"""The pre-assessment list: the state in words and the department filter."""

from __future__ import annotations

from core.models import State
from plugins.preassessment.models import Preassessment
from tests.support import assert_department_filter, assert_state_filter

URL = "/admin/preassessment/"


def test_states_say_who_acts_next(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, URL, Preassessment, "待财政审核",
                        Preassessment.state == State.SUBMITTED)
    assert_state_filter(app, finance, URL, Preassessment, "待单位提交",
                        Preassessment.state == State.DRAFT)


def test_filter_by_department(app, login):
    assert_department_filter(app, login("finance"), URL, Preassessment)
