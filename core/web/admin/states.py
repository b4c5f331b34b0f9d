"""Workflow states as people read them: who the record is waiting for.

``State.SUBMITTED`` alone says 已提交 whether a target sheet waits for its
department or for finance. ``state_key`` adds the level: a submitted record at
``review_level`` *i* waits for the role at ``workflow.chain[i]``, so the words
are 待部门审核 or 待财政审核; a draft waits for whoever submits (待单位提交,
待部门提交 or 待提交); a plugin with a "finalized" notion (self-evaluations)
shows 已定稿 for an approved, finalized record.

``WorkflowStates(Model, WORKFLOW)`` gives a list view both the column
formatter (``.column``) and the "State" list filter (``.filter()``) whose
options are these words and which filters on ``(state, review_level)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import and_, or_

from core.models.workflow import State

DRAFT, RETURNED, APPROVED, FINAL = "draft", "returned", "approved", "final"

#: a draft waits for whoever submits it: the lowest role among the submitters
_DRAFT_WORDS = {
    "unit_user": _l("Awaiting submission by the unit"),
    "dept_admin": _l("Awaiting submission by the department"),
}
#: a submitted record waits for the reviewer role at ``chain[review_level]``
_REVIEW_WORDS = {
    "dept_admin": _l("Awaiting department review"),
    "finance_admin": _l("Awaiting finance review"),
}
_WORDS = {
    DRAFT: _l("To be submitted"),
    RETURNED: _l("Returned for revision"),
    APPROVED: lazy_pgettext("workflow state", "Approved"),
    FINAL: _l("Finalized"),
}
_UNDER_REVIEW = _l("Under review")
STATE_FILTER_NAME = _l("State")


def _submitted(level: int) -> str:
    return f"submitted-{level}"


def state_key(state: Any, review_level: int | None, final: bool = False) -> str:
    """``draft``, ``submitted-<level>``, ``returned``, ``approved`` or ``final``."""
    state = State(state or State.DRAFT)
    if state is State.SUBMITTED:
        return _submitted(review_level or 0)
    if state is State.APPROVED:
        return FINAL if final else APPROVED
    return RETURNED if state is State.RETURNED else DRAFT


def key_word(key: str, chain: Sequence[str], submitters: Sequence[str] = ()) -> Any:
    """The words (a lazy string) of a ``state_key`` for a workflow's chain and submitters."""
    if key.startswith("submitted-"):
        level = int(key.removeprefix("submitted-"))
        role = chain[level] if 0 <= level < len(chain) else None
        return _REVIEW_WORDS.get(role, _UNDER_REVIEW)
    if key == DRAFT:
        for role in ("unit_user", "dept_admin"):
            if role in submitters:
                return _DRAFT_WORDS[role]
    return _WORDS[key]


def state_text(state: Any, review_level: int | None, chain: Sequence[str],
               submitters: Sequence[str] = (), final: bool = False) -> str:
    """The state in words with its level, e.g. 待财政审核 (submitted, chain[level] = finance)."""
    return str(key_word(state_key(state, review_level, final), chain, submitters))


class StateFilter(BaseSQLAFilter):
    """The "State" list filter: one option per word, on ``(state, review_level)``."""

    def __init__(self, states: WorkflowStates, name: Any = STATE_FILTER_NAME) -> None:
        self.states = states
        super().__init__(states.model.state, name, options=states.options())

    def clean(self, value: str) -> str:
        if value not in self.states.keys():
            raise ValueError(value)
        return value

    def validate(self, value: str) -> bool:
        return value in self.states.keys()

    def apply(self, query, value, alias=None):
        return query.filter(self.states.condition(self.clean(value)))

    def operation(self):
        return admin_lazy_gettext("equals")


class WorkflowStates:
    """The readable states of one model under one ``Workflow``.

    ``final``: the name of a column that is set (not None) once an approved record
    is finalized, e.g. ``"finalized_at"``; such a record reads 已定稿.
    ``words``: a plugin's own words for some keys, e.g. an approved engagement is
    "In progress" and a finalized (closed) one "Closed".
    ``submitters``: who really submits, when the permissions narrow the workflow's
    (a draft waits for them: 待部门提交 when only departments may edit the record).
    """

    def __init__(self, model: Any, workflow: Any, final: str | None = None,
                 words: Mapping[str, Any] | None = None,
                 submitters: Sequence[str] | None = None) -> None:
        self.model = model
        self.chain = tuple(workflow.chain)
        self.submitters = tuple(workflow.submitters if submitters is None else submitters)
        self.final = final
        self.words = dict(words or {})

    def word(self, key: str) -> Any:
        """The words (a lazy string) of one key."""
        if key in self.words:
            return self.words[key]
        return key_word(key, self.chain, self.submitters)

    def keys(self) -> list[str]:
        keys = [DRAFT, *(_submitted(i) for i in range(len(self.chain))), RETURNED, APPROVED]
        return [*keys, FINAL] if self.final else keys

    def key_for(self, value: str, role: str | None = None) -> str:
        """The filter key of a link's state: a key as it is, or a ``State`` member's name;
        SUBMITTED means the level where ``role`` reviews (the queue waiting for them)."""
        if value in self.keys():
            return value
        state = State[value] if value in State.__members__ else State(value)
        if state is State.SUBMITTED:
            return _submitted(self.chain.index(role) if role in self.chain else 0)
        return state_key(state, 0)

    def options(self) -> list[tuple[str, Any]]:
        return [(key, self.word(key)) for key in self.keys()]

    def key_of(self, obj: Any) -> str:
        final = self.final is not None and getattr(obj, self.final) is not None
        return state_key(obj.state, obj.review_level, final)

    def text(self, obj: Any) -> str:
        """The state of ``obj`` in words, e.g. 待部门审核."""
        return str(self.word(self.key_of(obj)))

    def column(self, view: Any, context: Any, model: Any, name: str) -> str:
        """A Flask-Admin column formatter (list, details and export)."""
        return self.text(model)

    def condition(self, key: str):
        """The SQL condition of one key."""
        m = self.model
        if key.startswith("submitted-"):
            return and_(m.state == State.SUBMITTED,
                        m.review_level == int(key.removeprefix("submitted-")))
        if key == DRAFT:
            return or_(m.state == State.DRAFT, m.state.is_(None))
        if key == RETURNED:
            return m.state == State.RETURNED
        if self.final is None:
            return m.state == State.APPROVED
        final = getattr(m, self.final)
        return and_(m.state == State.APPROVED,
                    final.is_not(None) if key == FINAL else final.is_(None))

    def filter(self, name: Any = STATE_FILTER_NAME) -> StateFilter:
        return StateFilter(self, name)
