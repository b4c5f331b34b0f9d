"""Readable workflow states (core/web/admin/states.py) and the shared org filters."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit, State
from core.web.admin.filters import VisibleOrgUnits
from core.web.admin.states import WorkflowStates, key_word, state_key, state_text
from core.workflow import Workflow
from tests.support import filter_options

UNIT_TO_FINANCE = Workflow("t", ("dept_admin", "finance_admin"))
FINANCE_ONLY_ADMINS = Workflow("t2", ("finance_admin",), submitters=("dept_admin", "finance_admin"))
FINANCE_OWN = Workflow("t3", ("finance_admin",), submitters=("finance_admin",))
EXPERTS = Workflow("t4", ("expert",))


def words(app, *args, **kwargs) -> str:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return state_text(*args, **kwargs)


@pytest.mark.parametrize(("state", "level", "workflow", "final", "expected"), [
    (State.DRAFT, 0, UNIT_TO_FINANCE, False, "待单位提交"),
    (None, 0, UNIT_TO_FINANCE, False, "待单位提交"),
    (State.DRAFT, 0, FINANCE_ONLY_ADMINS, False, "待部门提交"),
    (State.DRAFT, 0, FINANCE_OWN, False, "待提交"),
    (State.SUBMITTED, 0, UNIT_TO_FINANCE, False, "待部门审核"),
    (State.SUBMITTED, 1, UNIT_TO_FINANCE, False, "待财政审核"),
    (State.SUBMITTED, 0, FINANCE_OWN, False, "待财政审核"),
    (State.SUBMITTED, 0, EXPERTS, False, "审核中"),
    (State.SUBMITTED, 5, UNIT_TO_FINANCE, False, "审核中"),
    (State.RETURNED, 0, UNIT_TO_FINANCE, False, "已退回"),
    (State.APPROVED, 2, UNIT_TO_FINANCE, False, "已通过"),
    (State.APPROVED, 2, UNIT_TO_FINANCE, True, "已定稿"),
    ("submitted", 1, UNIT_TO_FINANCE, False, "待财政审核"),
])
def test_state_in_words_with_its_level(app, state, level, workflow, final, expected):
    assert words(app, state, level, workflow.chain, workflow.submitters, final) == expected


def test_keys_tell_the_levels_apart():
    assert state_key(State.SUBMITTED, 0) == "submitted-0"
    assert state_key(State.SUBMITTED, 1) == "submitted-1"
    assert state_key(State.APPROVED, 0, final=True) == "final"
    assert state_key(State.DRAFT, 0, final=True) == "draft"


def test_english_words(app):
    with app.test_request_context(), force_locale("en"):
        assert str(key_word("submitted-1", UNIT_TO_FINANCE.chain)) == "Awaiting finance review"
        assert str(key_word("submitted-0", UNIT_TO_FINANCE.chain)) == \
            "Awaiting department review"


class _Row:
    def __init__(self, state, level, finalized_at=None):
        self.state, self.review_level, self.finalized_at = state, level, finalized_at


class _Model:
    """Stands in for a mapped class: column-like attributes that build SQL conditions."""

    from sqlalchemy import column as _column

    state = _column("state")
    review_level = _column("review_level")
    finalized_at = _column("finalized_at")


def test_filter_options_are_one_word_per_level(app):
    states = WorkflowStates(_Model, UNIT_TO_FINANCE)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        options = [(k, str(v)) for k, v in states.options()]
    assert options == [("draft", "待单位提交"), ("submitted-0", "待部门审核"),
                       ("submitted-1", "待财政审核"), ("returned", "已退回"),
                       ("approved", "已通过")]
    final = WorkflowStates(_Model, UNIT_TO_FINANCE, final="finalized_at")
    assert final.keys()[-1] == "final"


def test_filter_condition_is_on_state_and_level():
    states = WorkflowStates(_Model, UNIT_TO_FINANCE, final="finalized_at")
    compiled = states.condition("submitted-1").compile()
    assert "state = :state_1" in str(compiled) and "review_level = :review_level_1" in str(compiled)
    assert set(compiled.params.values()) == {State.SUBMITTED, 1}
    approved = str(states.condition("approved"))
    assert "finalized_at IS NULL" in approved
    assert "finalized_at IS NOT NULL" in str(states.condition("final"))


def test_state_filter_refuses_unknown_values():
    flt = WorkflowStates(_Model, UNIT_TO_FINANCE).filter()
    assert flt.validate("submitted-1")
    assert not flt.validate("submitted")
    assert not flt.validate("submitted-7")
    with pytest.raises(ValueError):
        flt.clean("nonsense")


def test_column_formatter_reads_the_row(app):
    states = WorkflowStates(_Model, UNIT_TO_FINANCE, final="finalized_at")
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert states.column(None, None, _Row(State.SUBMITTED, 1), "state") == "待财政审核"
        assert states.column(None, None, _Row(State.APPROVED, 2, "x"), "state") == "已定稿"
        assert states.text(_Row(State.APPROVED, 2)) == "已通过"


# --- org filters ------------------------------------------------------------------------

def _department_options(page: str) -> list[str]:
    """The names offered by the 部门 filter of a list page."""
    return [name for _id, name in filter_options(page, "部门")]


def test_department_options_follow_the_row_scope(app, login):
    finance = login("finance").get("/admin/targetsheet/").text
    dept = login("dept01").get("/admin/targetsheet/").text
    with app.app_context():
        all_depts = set(db.session.scalars(select(OrgUnit.name).where(
            OrgUnit.kind.in_(("department", "town", "town_department")))))
        dept01 = db.session.scalar(select(OrgUnit.name).where(OrgUnit.code == "D01"))
    assert set(_department_options(finance)) == all_depts
    assert _department_options(dept) == [dept01]


def test_visible_org_units_outside_a_request_are_empty(app):
    with app.app_context():
        assert list(VisibleOrgUnits(("department",))) == []
        assert VisibleOrgUnits(("department",))  # Flask-Admin keeps the filter's options
