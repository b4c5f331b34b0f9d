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
from sqlalchemy import select

from core.extensions import db
from core.models import OrgKind, OrgUnit, State
from core.scope import SKIP
from core.workflow import Workflow, WorkflowError

_PARENTS = "jixiao_unit_parents"  # session.info: each unit's department, read once
#: states in which the owner may change a record
EDITABLE = (State.DRAFT, State.RETURNED)


def unit_and_department(org_unit_id: int) -> tuple[int, ...]:
    """The owners of a unit's record whose chain has no department level: the unit and its
    department (a model's ``owner_org_ids``, read by ``Workflow.owns``)."""
    parents = db.session.info.get(_PARENTS)
    if parents is None:  # one query per session (a request), not one per row of a list
        parents = db.session.info[_PARENTS] = {
            row.id: row.parent_id for row in db.session.execute(
                select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.kind == OrgKind.UNIT)
                .execution_options(**{SKIP: True}))}
    parent = parents.get(org_unit_id)
    return (org_unit_id,) if parent is None else (org_unit_id, parent)


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
