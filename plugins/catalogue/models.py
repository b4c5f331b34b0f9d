"""The key evaluation catalogue (重点绩效评价目录), its entries and their coverage.

A ``Catalogue`` belongs to one department (预算部门, or a town's department) and
one 5-year cycle; the department confirms it (submit) and the finance bureau
approves it (core workflow). Each ``CatalogueEntry`` is a budget item with the
reason it is listed and the year planned for its department key evaluation; it
carries the item's org unit, so a unit sees its own entries. A
``CoverageRecord`` (覆盖记录) is a finalized key evaluation covering an entry,
stored from ``jixiao_evaluation_finalized``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
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
from core.web.admin.display import register_labels


class EntryReason(enum.StrEnum):
    RECURRING_LARGE = "recurring_large"  # 经常性项目 ≥ 1000 万元
    KEY_TASK = "key_task"  # 中央、市、区重点任务
    HIGH_IMPACT = "high_impact"  # 覆盖面广、影响力大


REASON_LABELS = {
    EntryReason.RECURRING_LARGE: _l("Recurring, 10 million yuan or more"),
    EntryReason.KEY_TASK: _l("Key task (central, city or district)"),
    EntryReason.HIGH_IMPACT: _l("Wide-reaching and high-impact"),
}
register_labels(EntryReason, REASON_LABELS)


class Catalogue(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """A department's Catalogue (重点绩效评价目录) for one evaluation cycle."""

    __tablename__ = "catalogue"
    __table_args__ = (UniqueConstraint("org_unit_id", "cycle_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the budget year whose items are listed; the cycle starts with it
    cycle_start: Mapped[int] = mapped_column(Integer, index=True)
    cycle_years: Mapped[int] = mapped_column(Integer, default=5)
    rules_code: Mapped[str] = mapped_column(String(40), default="")

    org_unit: Mapped[OrgUnit] = relationship()
    entries: Mapped[list[CatalogueEntry]] = relationship(
        back_populates="catalogue", cascade="all, delete-orphan", order_by="CatalogueEntry.id")

    @property
    def cycle_end(self) -> int:
        return self.cycle_start + self.cycle_years - 1

    def __str__(self) -> str:
        name = self.org_unit.name if self.org_unit is not None else f"#{self.org_unit_id}"
        return f"{name} {self.cycle_start}–{self.cycle_end}"


class CatalogueEntry(OrgScoped, VersionedMixin, TimestampMixin, db.Model):
    """An item of a catalogue with its reason and planned evaluation year."""

    __tablename__ = "catalogue_entry"
    __table_args__ = (UniqueConstraint("catalogue_id", "budget_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalogue_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue.id", ondelete="CASCADE"), index=True)
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), index=True)
    reason: Mapped[EntryReason] = mapped_column(
        db.Enum(EntryReason, native_enum=False, length=20))
    note: Mapped[str | None] = mapped_column(Text)
    #: the item's amount when it was listed (the planner spreads these)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    planned_year: Mapped[int | None] = mapped_column(Integer, index=True)
    #: set when the department chose the year: the planner keeps it
    plan_adjusted: Mapped[bool] = mapped_column(Boolean, default=False)

    catalogue: Mapped[Catalogue] = relationship(back_populates="entries")
    budget_item: Mapped[BudgetItem] = relationship()
    coverage: Mapped[list[CoverageRecord]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="CoverageRecord.fiscal_year")

    def __str__(self) -> str:
        item = self.budget_item
        return f"{item.code} {item.name}" if item is not None else f"#{self.id}"


class CoverageRecord(OrgScoped, TimestampMixin, db.Model):
    """A finalized key evaluation that covers a catalogue entry."""

    __tablename__ = "catalogue_coverage"
    __table_args__ = (UniqueConstraint("entry_id", "evaluation_kind", "evaluation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_entry.id", ondelete="CASCADE"), index=True)
    #: ``core.contracts.EvaluationResult.id`` (the evaluation plugin's record)
    evaluation_id: Mapped[int] = mapped_column(Integer, index=True)
    evaluation_kind: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2, asdecimal=True))
    grade: Mapped[str] = mapped_column(String(2))
    finalized_at: Mapped[datetime] = mapped_column(DateTime)

    entry: Mapped[CatalogueEntry] = relationship(back_populates="coverage")

    def __str__(self) -> str:
        return f"#{self.entry_id} {self.fiscal_year} {self.grade}"
