"""Publications (公开事项), their public snapshot, and stored evaluation results.

A ``Publication`` is one thing to publish for a fiscal year: the targets of an
item in the budget disclosure scope, the targets of a policy chosen for the
pilot, or an evaluation result. Publishing is an explicit approval (core
workflow). On approval the public content is copied into the snapshot columns
and ``PublishedIndicator`` rows; public pages and open data read only these,
only for approved publications, so nothing unapproved, no person and no
internal comment can reach them. Reopening clears the snapshot.

``StoredResult`` keeps each finalized evaluation as the evaluation plugin
broadcast it (``jixiao_evaluation_finalized``), public summary included.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import (
    BudgetItem,
    OrgScoped,
    OrgUnit,
    TimestampMixin,
    VersionedMixin,
    WorkflowMixin,
)
from core.money import Money
from core.services.review import unit_and_department
from core.web.admin.display import register_labels

SCORE = Numeric(6, 2, asdecimal=True)


class PublicationKind(enum.StrEnum):
    ITEM_TARGETS = "item_targets"  # 项目绩效目标
    POLICY_PILOT = "policy_pilot"  # 政策绩效目标（试点公开）
    EVALUATION_RESULT = "evaluation_result"  # 绩效评价结果


KIND_LABELS = {
    PublicationKind.ITEM_TARGETS: _l("Item targets"),
    PublicationKind.POLICY_PILOT: _l("Policy targets (pilot)"),
    PublicationKind.EVALUATION_RESULT: _l("Evaluation result"),
}
register_labels(PublicationKind, KIND_LABELS)
GRADE_LABELS = {"A": _l("Excellent"), "B": _l("Good"), "C": _l("Fair"), "D": _l("Poor")}
EVALUATION_KIND_LABELS = {"self": _l("Self-evaluation"),
                          "department_key": _l("Department key evaluation"),
                          "finance_key": _l("Finance key evaluation"),
                          "re_evaluation": _l("Re-evaluation")}


class StoredResult(OrgScoped, TimestampMixin, db.Model):
    """A finalized evaluation result (评价结果) as broadcast by the evaluation plugin."""

    __tablename__ = "disclosure_result"
    __table_args__ = (UniqueConstraint("kind", "evaluation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: with ``kind``: the evaluation plugin's ids are unique per kind only
    evaluation_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    object_kind: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    budget_item_ids: Mapped[list] = mapped_column(JSON, default=list)
    amount: Mapped[Decimal] = mapped_column(Money)
    score: Mapped[Decimal] = mapped_column(SCORE)
    grade: Mapped[str] = mapped_column(String(2))
    summary: Mapped[str] = mapped_column(Text, default="")
    finalized_at: Mapped[datetime] = mapped_column(DateTime)

    def __str__(self) -> str:
        return f"{self.fiscal_year} {self.title}"


class Publication(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """One Publication (公开事项): what is to be published, and once approved, what is."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PublicationKind] = mapped_column(
        db.Enum(PublicationKind, native_enum=False, length=20), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    #: the department (or town department) whose public page shows it
    department_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    budget_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), index=True)
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("disclosure_result.id", ondelete="CASCADE"), index=True)
    #: "item:<id>" or "result:<id>": one publication per kind and subject
    subject: Mapped[str] = mapped_column(String(40))
    # --- the public snapshot: written on approval, cleared on reopening -----------------
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    item_code: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    goal: Mapped[str | None] = mapped_column(Text)
    evaluation_kind: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[Decimal | None] = mapped_column(SCORE)
    grade: Mapped[str | None] = mapped_column(String(2))
    summary: Mapped[str | None] = mapped_column(Text)

    department: Mapped[OrgUnit] = relationship(foreign_keys=[department_id])
    budget_item: Mapped[BudgetItem | None] = relationship()
    result: Mapped[StoredResult | None] = relationship()
    indicators: Mapped[list[PublishedIndicator]] = relationship(
        back_populates="publication", cascade="all, delete-orphan",
        order_by="PublishedIndicator.position")

    def __str__(self) -> str:
        if self.budget_item is not None:
            return f"{self.budget_item.code} {self.budget_item.name}"
        if self.result is not None:
            return str(self.result)
        return f"#{self.id}"

    @property
    def owner_org_ids(self) -> tuple[int, ...]:
        """A unit's publication is prepared and submitted by the unit or its department
        (which does not review it)."""
        return unit_and_department(self.org_unit_id)


class PublishedIndicator(OrgScoped, db.Model):
    """A published target indicator (copied from the approved target sheet)."""

    __tablename__ = "published_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    level1: Mapped[str] = mapped_column(String(20))
    level2: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[str] = mapped_column(String(20))
    target_value: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))

    publication: Mapped[Publication] = relationship(back_populates="indicators")

    def __str__(self) -> str:
        return f"{self.level1}/{self.level2}/{self.name}"
