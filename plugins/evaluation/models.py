"""Evaluation records: self-evaluations (单位自评) with their indicator lines, key
evaluations (重点评价) with their 决策/过程/产出/效益 sheets, re-evaluations (再评价) of
sampled self-evaluations, and the result application (结果应用) that follows a
finalized evaluation: suggestions and rectification tasks (整改).

A ``SelfEvaluation`` copies what it needs from the approved target sheet when it is
created (target value, unit, comparator, method, weight), so a later change of
the targets does not alter it. Its score lives in the core's ``ScoreRecord``
(with the trace); ``score`` and ``grade`` here are the current figures, for lists.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
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
    OrgUnit,
    TimestampMixin,
    VersionedMixin,
    WorkflowMixin,
)
from core.money import Money
from core.services.review import unit_and_department

WEIGHT = Numeric(7, 2, asdecimal=True)
POINTS = Numeric(7, 2, asdecimal=True)

OBJECT_KIND_LABELS = {"project": _l("Project"), "policy": _l("Fiscal policy"),
                      "department": _l("Department overall expenditure")}


class SelfEvaluation(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """The SelfEvaluation (单位自评) of one budget item with approved targets."""

    __tablename__ = "self_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), unique=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    #: the approved target sheet it was copied from (owned by the targets plugin)
    target_sheet_id: Mapped[int] = mapped_column(Integer)
    object_kind: Mapped[str] = mapped_column(String(20), default="project")
    rule_code: Mapped[str] = mapped_column(String(60))
    budget: Mapped[Decimal] = mapped_column(Money)
    spent: Mapped[Decimal | None] = mapped_column(Money)
    execution_weight: Mapped[Decimal] = mapped_column(WEIGHT)
    score: Mapped[Decimal | None] = mapped_column(POINTS)
    grade: Mapped[str | None] = mapped_column(String(20), index=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: set when the department approves it: from then on it cannot change
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    #: public summary (findings and recommendations) — disclosed with the result
    summary: Mapped[str] = mapped_column(Text, default="")

    budget_item: Mapped[BudgetItem] = relationship()
    fiscal_year: Mapped[FiscalYear] = relationship()
    lines: Mapped[list[SelfEvaluationLine]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan",
        order_by="SelfEvaluationLine.position")

    def __str__(self) -> str:
        item = self.budget_item
        return f"{item.code} {item.name}" if item is not None else f"#{self.id}"


class SelfEvaluationLine(OrgScoped, db.Model):
    """One indicator of a self-evaluation: the copied target and the unit's actual value."""

    __tablename__ = "self_evaluation_line"
    __table_args__ = (UniqueConstraint("evaluation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("self_evaluation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    level1: Mapped[str] = mapped_column(String(20))
    level2: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[str] = mapped_column(String(20))
    target_value: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str | None] = mapped_column(String(40))
    weight: Mapped[Decimal] = mapped_column(WEIGHT)
    method: Mapped[str] = mapped_column(String(40))
    #: the actual value as entered (exact text; a decimal number for quantitative ones)
    actual: Mapped[str | None] = mapped_column(String(200))
    #: qualitative: achieved / partly / not_achieved, and the share of the weight
    grade: Mapped[str | None] = mapped_column(String(20))
    ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 4, asdecimal=True))
    #: why the target was missed (required for every indicator below full points)
    explanation: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[SelfEvaluation] = relationship(back_populates="lines")

    def __str__(self) -> str:
        return f"{self.level1}/{self.level2}/{self.name}"


class ResultSuggestion(OrgScoped, TimestampMixin, db.Model):
    """A suggestion (结果应用建议) made from a finalized evaluation's grade; finance decides."""

    __tablename__ = "evaluation_suggestion"
    __table_args__ = (UniqueConstraint("evaluation_kind", "evaluation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_kind: Mapped[str] = mapped_column(String(20))
    evaluation_id: Mapped[int] = mapped_column(Integer)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    score: Mapped[Decimal] = mapped_column(POINTS)
    grade: Mapped[str] = mapped_column(String(20))
    suggested: Mapped[str] = mapped_column(String(20))
    #: finance's decision (the suggestion accepted, or changed); None while open
    decided: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __str__(self) -> str:
        return self.title


class Rectification(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """A rectification task (整改) with an owner, a deadline and evidence; reviewed by finance."""

    __tablename__ = "rectification"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_suggestion.id", ondelete="CASCADE"), index=True)
    problem: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    suggestion: Mapped[ResultSuggestion] = relationship()

    def __str__(self) -> str:
        return self.problem[:60]

    @property
    def owner_org_ids(self) -> tuple[int, ...]:
        """A unit's task is reported done by the unit or its department (which does not
        review it)."""
        return unit_and_department(self.org_unit_id)


class KeyEvaluation(OrgScoped, VersionedMixin, TimestampMixin, db.Model):
    """A KeyEvaluation (部门/财政重点评价) of a project, a policy or a department's overall
    expenditure, on the 决策 / 过程 / 产出 / 效益 framework.

    ``org_unit_id`` is the department (or unit) evaluated; ``kind`` says who runs
    it: the department (department_key) or the finance bureau (finance_key).
    """

    __tablename__ = "key_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: evaluated after the implementation period: outputs + outcomes need ≥ 60 % of the weight
    after_period: Mapped[bool] = mapped_column(default=True)
    rule_code: Mapped[str] = mapped_column(String(60))
    #: finance (财政人员), experts (专家) or agency (第三方机构)
    team_kind: Mapped[str] = mapped_column(String(20), default="finance")
    team: Mapped[str] = mapped_column(Text, default="")
    #: the agencies plugin's engagement when an agency is the evaluation team
    engagement_id: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[Decimal | None] = mapped_column(POINTS)
    grade: Mapped[str | None] = mapped_column(String(20))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    fiscal_year: Mapped[FiscalYear] = relationship()
    org_unit: Mapped[OrgUnit] = relationship()
    items: Mapped[list[BudgetItem]] = relationship(secondary="key_evaluation_item")
    indicators: Mapped[list[KeyIndicator]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan",
        order_by="KeyIndicator.position")

    def __str__(self) -> str:
        return self.title


key_evaluation_item = db.Table(
    "key_evaluation_item",
    db.Column("evaluation_id", ForeignKey("key_evaluation.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("budget_item_id", ForeignKey("budget_item.id", ondelete="CASCADE"),
              primary_key=True),
)


class KeyIndicator(OrgScoped, db.Model):
    """One indicator of a key evaluation's sheet, with the team's scores."""

    __tablename__ = "key_evaluation_indicator"
    __table_args__ = (UniqueConstraint("evaluation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("key_evaluation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    level1: Mapped[str] = mapped_column(String(20))
    level2: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[Decimal] = mapped_column(WEIGHT)
    #: the team's scores (0–weight each) as text, e.g. "8, 9, 9.5"; their mean is the points
    scores: Mapped[str] = mapped_column(String(200), default="")

    evaluation: Mapped[KeyEvaluation] = relationship(back_populates="indicators")

    def __str__(self) -> str:
        return f"{self.level1}/{self.level2}/{self.name}"


class ReEvaluation(OrgScoped, TimestampMixin, db.Model):
    """A ReEvaluation (再评价) of one department's self-evaluations of a year by finance."""

    __tablename__ = "re_evaluation"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    sample_size: Mapped[int] = mapped_column(Integer)
    #: share (%) of the sampled items whose self score held (no flagged difference)
    accuracy: Mapped[Decimal | None] = mapped_column(Numeric(5, 1, asdecimal=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime)

    fiscal_year: Mapped[FiscalYear] = relationship()
    org_unit: Mapped[OrgUnit] = relationship()
    samples: Mapped[list[ReEvaluationSample]] = relationship(
        back_populates="re_evaluation", cascade="all, delete-orphan",
        order_by="ReEvaluationSample.id")

    def __str__(self) -> str:
        return f"#{self.id}"


class ReEvaluationSample(OrgScoped, db.Model):
    """One re-scored self-evaluation: finance's corrected values, both scores, the flag."""

    __tablename__ = "re_evaluation_sample"
    __table_args__ = (UniqueConstraint("re_evaluation_id", "self_evaluation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    re_evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("re_evaluation.id", ondelete="CASCADE"), index=True)
    self_evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("self_evaluation.id", ondelete="CASCADE"), index=True)
    self_score: Mapped[Decimal] = mapped_column(POINTS)
    self_grade: Mapped[str] = mapped_column(String(20))
    #: finance's corrections: {"spent": "…", "lines": {position: {"actual"|"grade"|"ratio": …}}}
    corrections: Mapped[dict] = mapped_column(db.JSON, default=dict)
    score: Mapped[Decimal | None] = mapped_column(POINTS)
    grade: Mapped[str | None] = mapped_column(String(20))
    flagged: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    re_evaluation: Mapped[ReEvaluation] = relationship(back_populates="samples")
    self_evaluation: Mapped[SelfEvaluation] = relationship()

    def __str__(self) -> str:
        return f"#{self.self_evaluation_id}"
