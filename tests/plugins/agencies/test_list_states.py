"""The engagement list: the state in words and the department filter."""

from __future__ import annotations

from core.models import State
from plugins.agencies.models import Engagement
from tests.support import assert_department_filter, assert_state_filter, column_texts

URL = "/admin/engagement/"


def test_states_say_who_acts_next(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, URL, Engagement, "待财政审核",
                        Engagement.state == State.SUBMITTED)
    assert_state_filter(app, finance, URL, Engagement, "待部门提交",
                        Engagement.state == State.DRAFT)


def test_filter_by_department(app, login):
    assert_department_filter(app, login("finance"), URL, Engagement)


def test_commissioning_party_is_filled(login):
    names = column_texts(login("finance").get(URL).text, "委托方")
    assert names and all(names)
