"""Workflow state stored on reviewable objects, and the history of transitions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.extensions import db
from core.models.base import utcnow


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted"),
    State.RETURNED: _l("Returned for revision"),
    State.APPROVED: _l("Approved"),
}

#: the workflow's actions, as a reviewer sees them (buttons and history lines)
ACTION_LABELS = {"submit": _l("Submit"), "approve": _l("Approve"),
                 "return": _l("Return for revision"), "reopen": _l("Reopen")}


class WorkflowMixin:
    """Adds ``state`` and ``review_level`` (index in the review chain) to a model."""

    @declared_attr
    def state(cls) -> Mapped[State]:  # noqa: N805
        return mapped_column(Enum(State, native_enum=False, length=20),
                             default=State.DRAFT, index=True, nullable=False)

    @declared_attr
    def review_level(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(Integer, default=0, nullable=False)


class WorkflowEvent(db.Model):
    """One transition of one object: from, to, who, when, comment."""

    __tablename__ = "workflow_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: who acted, as people read it: set by ``Workflow.history`` (not stored)
    actor_name = ""

    @classmethod
    def last_at(cls, model: type) -> Any:
        """SQL, correlated on ``model``: when its row last moved (None if it never did)."""
        return (db.select(db.func.max(cls.at)).where(
            cls.object_type == model.__tablename__, cls.object_id == model.id)
            .correlate(model).scalar_subquery())

    @property
    def action_label(self) -> str:
        """The action in the reader's language."""
        return str(ACTION_LABELS.get(self.action, self.action))

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.from_state}→{self.to_state}"
