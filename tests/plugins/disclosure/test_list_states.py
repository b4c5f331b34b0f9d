"""The publication list: the state in words and the department filter."""

from __future__ import annotations

from core.models import State
from plugins.disclosure.models import Publication, StoredResult
from tests.support import assert_department_filter, assert_state_filter, column_texts

URL = "/admin/publication/"


def test_states_say_who_acts_next(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, URL, Publication, "待财政审核",
                        Publication.state == State.SUBMITTED)
    assert_state_filter(app, finance, URL, Publication, "待单位提交",
                        Publication.state == State.DRAFT)


def test_filter_by_department(app, login):
    finance = login("finance")
    assert_department_filter(app, finance, URL, Publication)
    assert_department_filter(app, finance, "/admin/disclosureresult/", StoredResult)


def test_department_column_is_filled(login):
    names = column_texts(login("finance").get(URL).text, "部门")
    assert names and all(names)
