"""Target sheets (绩效目标表), their indicators and revisions, and the indicator library (指标库).

A ``TargetSheet`` belongs to one budget item (and so to the item's org unit: the
core scope applies); its indicators and revisions carry the same org unit so
they are scoped too. Target values are text (exact, as entered; quantitative
ones are checked to be decimal numbers), weights are exact Decimals.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
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
    FiscalYear,
    OrgScoped,
    TimestampMixin,
    VersionedMixin,
    WorkflowMixin,
)
from core.services.scoring import METHOD_LABELS  # noqa: F401 - the plugin's method choices
from core.web.admin.display import register_labels


class Comparator(enum.StrEnum):
    GE = "ge"
    LE = "le"
    EQ = "eq"
    RANGE = "range"
    QUALITATIVE = "qualitative"


COMPARATOR_LABELS = {
    Comparator.GE: "≥", Comparator.LE: "≤", Comparator.EQ: "=",
    Comparator.RANGE: _l("Range"), Comparator.QUALITATIVE: _l("Qualitative"),
}
QUANTITATIVE = frozenset({Comparator.GE, Comparator.LE, Comparator.EQ, Comparator.RANGE})
#: the scoring method an indicator gets when none is named
DEFAULT_METHOD = {Comparator.GE: "proportional", Comparator.LE: "reverse",
                  Comparator.EQ: "proportional", Comparator.RANGE: "proportional",
                  Comparator.QUALITATIVE: "qualitative"}
register_labels(Comparator, COMPARATOR_LABELS)

WEIGHT = Numeric(7, 2, asdecimal=True)


class TargetSheet(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """The performance targets of one budget item (one sheet per item)."""

    __tablename__ = "target_sheet"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), unique=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    goal: Mapped[str] = mapped_column(Text, default="")
    #: for multi-year items: the goal of the whole period
    period_goal: Mapped[str | None] = mapped_column(Text)
    rules_code: Mapped[str] = mapped_column(String(40), default="")
    #: number of the last submitted revision (0: never submitted)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the id of the project's previous-year sheet this draft was copied from when the
    #: year was opened (a record of where it came from, not a link: that sheet may go)
    carried_from_id: Mapped[int | None] = mapped_column(Integer)

    budget_item: Mapped[BudgetItem] = relationship()
    fiscal_year: Mapped[FiscalYear] = relationship()
    indicators: Mapped[list[TargetIndicator]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan",
        order_by="TargetIndicator.position")

    def __str__(self) -> str:
        item = self.budget_item
        return f"{item.code} {item.name}" if item is not None else f"#{self.id}"


class TargetIndicator(OrgScoped, db.Model):
    """A level-3 indicator with its level-1 and level-2 categories."""

    __tablename__ = "target_indicator"
    __table_args__ = (UniqueConstraint("sheet_id", "level1", "level2", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("target_sheet.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    level1: Mapped[str] = mapped_column(String(20))
    level2: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[Comparator] = mapped_column(
        db.Enum(Comparator, native_enum=False, length=20))
    target_value: Mapped[str] = mapped_column(String(200), default="")
    #: the whole-period value of a multi-year item
    period_value: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    weight: Mapped[Decimal] = mapped_column(WEIGHT)
    data_source: Mapped[str | None] = mapped_column(String(200))
    scoring_method: Mapped[str] = mapped_column(String(40), default="proportional")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("indicator_template.id", ondelete="SET NULL"), index=True)
    #: the reviewer's comment when the sheet was returned for revision
    review_comment: Mapped[str | None] = mapped_column(Text)

    sheet: Mapped[TargetSheet] = relationship(back_populates="indicators")

    def __str__(self) -> str:
        return f"{self.level1}/{self.level2}/{self.name}"


class TargetRevision(OrgScoped, db.Model):
    """What a sheet held when it was submitted (revision n): the base of the diff."""

    __tablename__ = "target_revision"
    __table_args__ = (UniqueConstraint("sheet_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(
        ForeignKey("target_sheet.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    def __str__(self) -> str:
        return f"#{self.sheet_id} r{self.number}"


class IndicatorTemplate(TimestampMixin, db.Model):
    """A reusable indicator of the library, by sector and level-2 category."""

    __tablename__ = "indicator_template"
    __table_args__ = (UniqueConstraint("sector", "level1", "level2", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sector: Mapped[str] = mapped_column(String(60), index=True)
    level1: Mapped[str] = mapped_column(String(20), index=True)
    level2: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    comparator: Mapped[Comparator] = mapped_column(
        db.Enum(Comparator, native_enum=False, length=20))
    unit: Mapped[str | None] = mapped_column(String(40))
    reference_value: Mapped[str | None] = mapped_column(String(200))
    scoring_method: Mapped[str] = mapped_column(String(40), default="proportional")
    data_source: Mapped[str | None] = mapped_column(String(200))
    guidance: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return f"{self.sector} · {self.level2} · {self.name}"
