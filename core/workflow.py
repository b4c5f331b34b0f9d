"""The one review state machine used by every reviewable object.

    draft ──submit──▶ submitted(level 0) ──approve──▶ submitted(level 1) … ──approve──▶ approved
      ▲                    │
      └──── returned ◀─return─┘   (returned ──submit──▶ submitted(level 0))

A ``Workflow`` names its review chain, e.g. ``("dept_admin", "finance_admin")``
for unit → department → finance. Level *i* of a submitted object can only be
approved or returned by a user holding the role at ``chain[i]``; only its owner
(``owns``) submits it. ``reopen`` lets the last reviewer send an approved object
back to draft. Every transition writes a ``WorkflowEvent`` and calls
``jixiao_workflow_transition``; an illegal one raises ``WorkflowError`` and
changes nothing. It runs in a savepoint, so a hook that raises undoes it. The
row is locked and re-read first: of two reviewers acting on the same record at
once, the second gets a ``WorkflowError``. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from core.extensions import db
from core.models.base import STALE_RECORD
from core.models.user import User
from core.models.workflow import ACTION_LABELS, STATE_LABELS, State, WorkflowEvent
from core.plugins import hooks
from core.scope import SKIP


class WorkflowError(ValueError):
    """An illegal transition; the message says why, in the user's language."""


#: action -> states it may start from
_FROM = {
    "submit": {State.DRAFT, State.RETURNED},
    "approve": {State.SUBMITTED},
    "return": {State.SUBMITTED},
    "reopen": {State.APPROVED},
}


@dataclass(frozen=True)
class Workflow:
    """A review chain: the roles that approve, level by level."""

    name: str
    chain: tuple[str, ...]
    #: Roles allowed to submit (the owner's roles).
    submitters: tuple[str, ...] = ("unit_user", "dept_admin", "finance_admin")
    comment_required_on_return: bool = True

    def allowed_actions(self, obj, user) -> list[str]:
        """The actions ``user`` may take on ``obj`` now (a return still needs a comment)."""
        return [a for a in _FROM if self._problem(obj, a, user) is None]

    def owns(self, obj, user) -> bool:
        """Is ``obj`` the record of ``user``: a submitter of its org unit (or of its
        ``owner_org_ids``), or any submitter when only reviewers submit (the bureau's decisions)?"""
        return getattr(user, "role_name", None) in self.submitters and (set(self.submitters) <= set(
            self.chain) or user.org_unit_id in getattr(obj, "owner_org_ids", (obj.org_unit_id,)))

    def _problem(self, obj, action: str, user):
        if action not in _FROM:
            return _l("Unknown action %(action)s.", action=action)
        state = State(obj.state or State.DRAFT)
        if state not in _FROM[action]:
            return _l("Cannot %(action)s a record that is %(state)s.",
                      action=ACTION_LABELS[action], state=STATE_LABELS[state])
        role = getattr(user, "role_name", None)
        if action == "submit":
            if not self.owns(obj, user):
                return _l("Only the record's owner may submit it; reviewers approve it.")
        elif action == "reopen":
            if role != self.chain[-1]:
                return _l("Only the final reviewer may reopen an approved record.")
        else:
            level = obj.review_level or 0
            if level >= len(self.chain) or role != self.chain[level]:
                return _l("This record is waiting for review by another level.")
        return None

    def transition(self, obj, action: str, user, comment: str = "") -> WorkflowEvent:
        """Apply ``action``; record the event and broadcast it. Raises WorkflowError."""
        problem = self._problem(obj, action, user)
        if problem is not None:
            raise WorkflowError(problem)
        comment = (comment or "").strip()
        if action == "return" and self.comment_required_on_return and not comment:
            raise WorkflowError(_l("A comment is required when returning a record."))
        self._lock_current(obj)
        old = State(obj.state or State.DRAFT)
        level = obj.review_level or 0
        if action == "submit":
            new, new_level = State.SUBMITTED, 0
        elif action == "approve":
            new_level = level + 1
            new = State.APPROVED if new_level >= len(self.chain) else State.SUBMITTED
        elif action == "return":
            new, new_level = State.RETURNED, 0
        else:  # reopen
            new, new_level = State.DRAFT, 0
        with db.session.begin_nested():
            obj.state = new
            obj.review_level = new_level
            db.session.flush()
            event = WorkflowEvent(
                object_type=obj.__tablename__, object_id=obj.id, action=action,
                from_state=old.value, to_state=new.value, level=level,
                user_id=getattr(user, "id", None), comment=comment)
            db.session.add(event)
            db.session.flush()
            hooks().workflow_transition(obj=obj, old=old, new=new, user=user,
                                        action=action, comment=comment, workflow=self)
        return event

    @staticmethod
    def _lock_current(obj) -> None:
        """Lock the object's row and refuse if it moved on since it was loaded."""
        state = inspect(obj)
        if state.identity is None:
            return  # not stored yet: nobody else can act on it
        cls = type(obj)
        with db.session.no_autoflush:
            row = db.session.execute(
                select(cls.state, cls.review_level)
                .where(*[col == val for col, val in
                         zip(state.mapper.primary_key, state.identity, strict=True)])
                .with_for_update()).first()
        if row is None or State(row.state) != State(obj.state or State.DRAFT) or \
                (row.review_level or 0) != (obj.review_level or 0):
            raise WorkflowError(STALE_RECORD)

    def history(self, obj) -> list[WorkflowEvent]:
        """The object's transitions, oldest first, each with ``actor_name`` set: the actor's
        display name (else username), also outside the reader's scope (a unit sees who returned it)."""
        events = list(db.session.scalars(
            db.select(WorkflowEvent)
            .where(WorkflowEvent.object_type == obj.__tablename__,
                   WorkflowEvent.object_id == obj.id)
            .order_by(WorkflowEvent.id)))
        ids = {e.user_id for e in events if e.user_id is not None}
        names = {row.id: row.full_name or row.username for row in db.session.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(ids))
            .execution_options(**{SKIP: True}))} if ids else {}
        for event in events:
            event.actor_name = names.get(event.user_id) or str(_l("Automatic (system)"))
        return events
