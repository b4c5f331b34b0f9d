"""Owners edit, reviewers review: who may change a workflow-backed record.

The owner (``Workflow.owns``: a submitter of the record's org unit, or the
reviewers themselves when only they submit) edits and submits a draft or
returned record; a reviewer at the current level approves or returns it with
a comment and never edits or submits; nobody edits a submitted or approved
record. Pages show a button only when these answer yes, and every POST asks
them again (docs/architecture.md, "Owners edit, reviewers review").
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from core.models import State
from core.workflow import Workflow, WorkflowError

#: states in which the owner may change a record
EDITABLE = (State.DRAFT, State.RETURNED)


def edit_problem(workflow: Workflow, obj: Any, user: Any,
                 states: tuple[State, ...] = EDITABLE) -> Any:
    """Why ``user`` may not change ``obj`` now (a message), or None when they may."""
    if State(obj.state or State.DRAFT) not in states:
        return _l("This record is under review or approved and cannot be changed.")
    if not workflow.owns(obj, user):
        return _l("Only the record's owner may change it; reviewers approve or return it.")
    return None


def may_edit(workflow: Workflow, obj: Any, user: Any,
             states: tuple[State, ...] = EDITABLE) -> bool:
    return edit_problem(workflow, obj, user, states) is None


def check_edit(workflow: Workflow, obj: Any, user: Any,
               states: tuple[State, ...] = EDITABLE) -> None:
    """Raise ``WorkflowError`` (a ``ValueError``: admin views flash it) unless ``user`` may
    change ``obj``."""
    problem = edit_problem(workflow, obj, user, states)
    if problem is not None:
        raise WorkflowError(problem)
