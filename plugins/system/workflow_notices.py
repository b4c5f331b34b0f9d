"""Notifications from the workflow itself: every transition tells the people it concerns,
once per event, in the transaction that records it (``jixiao_workflow_transition``).

- submitted, or approved on to the next level → the reviewers of that level: active
  users holding ``workflow.chain[level]`` whose org unit is the record's or above it
  (a department's administrators for a unit's record; the finance bureau for all);
- returned → the submitter, with the comment;
- finally approved, or reopened → the submitter.
The one who acted is never told of their own action.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.models import OrgKind, OrgUnit, State, User, WorkflowEvent
from core.services.notifications import notify_all
from core.services.scoring import grade_label
from core.web.admin.base import record_link

SKIP = {"jixiao_unscoped": True}  # recipients are outside the actor's row scope


def _org_of(obj: Any) -> int | None:
    org_id = getattr(obj, "org_unit_id", None)
    item = getattr(obj, "budget_item", None)
    return org_id if org_id is not None else getattr(item, "org_unit_id", None)


def reviewers(role: str, org_id: int | None) -> list[int]:
    """Active users of ``role`` over the org unit ``org_id`` (the root bureau is over all)."""
    path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_id)
                             .execution_options(**SKIP)) if org_id else None
    rows = db.session.execute(
        select(User.id, OrgUnit.path, OrgUnit.kind, OrgUnit.parent_id)
        .join(User.role).join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.active, User.role.has(name=role)).execution_options(**SKIP)).all()
    return [r.id for r in rows
            if (r.kind == OrgKind.FINANCE_BUREAU and r.parent_id is None)
            or (path is not None and path.startswith(r.path))]


def submitter(obj: Any) -> list[int]:
    """Who submitted ``obj`` last (none if it was never submitted)."""
    user_id = db.session.scalar(
        select(WorkflowEvent.user_id).where(
            WorkflowEvent.object_type == obj.__tablename__, WorkflowEvent.object_id == obj.id,
            WorkflowEvent.action == "submit").order_by(WorkflowEvent.id.desc()).limit(1)
        .execution_options(**SKIP))
    return [user_id] if user_id else []


def on_transition(obj: Any, new: State, user: Any, action: str, comment: str,
                  workflow: Any) -> None:
    label, link = record_link(obj)
    record = _("%(kind)s “%(name)s”", kind=label, name=str(obj))
    actor = getattr(user, "full_name", "") or getattr(user, "username", "") or _("the system")
    if new == State.SUBMITTED:
        recipients = reviewers(workflow.chain[obj.review_level], _org_of(obj))
        title = _("%(record)s waits for your review", record=record)
        body = _("%(actor)s passed it to you.", actor=actor)
    elif action == "return":
        recipients, title = submitter(obj), _("%(record)s was returned", record=record)
        body = _("%(actor)s returned it: %(comment)s", actor=actor, comment=comment)
    elif new == State.APPROVED:
        recipients, title = submitter(obj), _("%(record)s was approved", record=record)
        body = _("%(actor)s approved it.", actor=actor) + (f" {comment}" if comment else "")
    elif action == "reopen":
        recipients, title = submitter(obj), _("%(record)s was reopened", record=record)
        body = _("%(actor)s reopened it for changes.", actor=actor)
    else:
        return
    acting = getattr(user, "id", None)
    notify_all([r for r in recipients if r != acting], title, body, link)


def on_finalized(result: Any) -> None:
    """A final evaluation result (``EvaluationResult``) → the evaluated org unit's people."""
    users = db.session.scalars(select(User.id).where(
        User.active, User.org_unit_id == result.org_unit_id).execution_options(**SKIP)).all()
    notify_all(users, _("The evaluation of “%(title)s” is final", title=result.title),
               _("Score %(score)s, grade %(grade)s.", score=result.score,
                 grade=grade_label(result.grade)))
