"""Rectification (整改) follow-up: the department reports a task done with its evidence,
the finance bureau accepts it (approve) or sends it back (return, with a comment)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from core.models import State, utcnow
from core.permissions import FINANCE
from core.services import review
from core.services.scoring import Problem
from core.workflow import Workflow, WorkflowError
from plugins.evaluation.models import Rectification
from plugins.evaluation.service import EvaluationError

WORKFLOW = Workflow("rectification", FINANCE)
EDITABLE = (State.DRAFT, State.RETURNED)


def overdue(task: Rectification, today: date | None = None) -> bool:
    return State(task.state or State.DRAFT) != State.APPROVED and task.due_on is not None \
        and task.due_on < (today or date.today())


def check_editable(task: Rectification, user: Any) -> None:
    """Refuse unless ``user`` owns the task (``Rectification.owner_org_ids``) and it is open."""
    if State(task.state or State.DRAFT) not in EDITABLE:
        raise EvaluationError(Problem("", _l(
            "The rectification task is reported done or accepted and cannot be changed.")))
    if task.id is not None and (problem := review.edit_problem(WORKFLOW, task, user)):
        raise EvaluationError(Problem("", problem))


def transition(task: Rectification, action: str, user: Any, comment: str = "") -> None:
    """Submit (report done: evidence needed), approve (accept) or return it."""
    if action == "submit" and not (task.evidence or "").strip():
        raise EvaluationError(Problem("evidence", _l(
            "Attach or describe the evidence before marking the task done.")))
    try:
        WORKFLOW.transition(task, action, user, comment)
    except WorkflowError as exc:
        raise EvaluationError(Problem("", str(exc))) from None
    if action == "submit":
        task.done_at = utcnow()
    elif action == "return":
        task.done_at = None
