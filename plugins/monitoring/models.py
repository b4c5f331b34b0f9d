"""Monitoring rounds (监控批次), records (监控记录), indicator progress and corrective decisions.

A ``MonitoringRound`` is district-wide (the finance bureau opens it for a
cut-off date); opening it writes one ``MonitoringRecord`` per budget item with
approved targets and one ``IndicatorProgress`` per target indicator, copied
from the targets plugin through ``core.contracts`` so a later change of the
targets does not change what was monitored. Records, indicator rows and
decisions carry the item's org unit, so the core scope applies to them.
Amounts are exact Decimals (``Money``), rates and deviations percentages with
two places.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
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
from core.money import Money
from core.web.admin.display import register_labels

PERCENT = Numeric(9, 2, asdecimal=True)


class Light(enum.IntEnum):
    """Warning light (预警灯); the number is the risk, so lists sort by it."""

    PENDING = 0  # not reported yet
    GREEN = 1
    YELLOW = 2
    RED = 3


LIGHT_LABELS = {Light.PENDING: _l("Not reported"), Light.GREEN: _l("Green"),
                Light.YELLOW: _l("Yellow"), Light.RED: _l("Red")}
LIGHT_COLOURS = {Light.PENDING: "#adb5bd", Light.GREEN: "#28a745", Light.YELLOW: "#ffc107",
                 Light.RED: "#dc3545"}


class Reason(enum.StrEnum):
    """The fixed list of reasons for a deviation (偏差原因)."""

    POLICY_CHANGE = "policy_change"
    PLAN_CHANGE = "plan_change"
    PROCUREMENT_DELAY = "procurement_delay"
    EMERGENCY = "emergency"
    POOR_MANAGEMENT = "poor_management"
    OTHER = "other"


REASON_LABELS = {
    Reason.POLICY_CHANGE: _l("Policy change"), Reason.PLAN_CHANGE: _l("Plan change"),
    Reason.PROCUREMENT_DELAY: _l("Procurement delay"), Reason.EMERGENCY: _l("Emergency"),
    Reason.POOR_MANAGEMENT: _l("Poor management"), Reason.OTHER: _l("Other"),
}


class Likelihood(enum.StrEnum):
    """How likely the indicator's year-end target is met (完成可能性)."""

    CERTAIN = "certain"
    POSSIBLE = "possible"
    IMPOSSIBLE = "impossible"


LIKELIHOOD_LABELS = {Likelihood.CERTAIN: _l("Certain"), Likelihood.POSSIBLE: _l("Possible"),
                     Likelihood.IMPOSSIBLE: _l("Impossible")}


#: how the copied comparator of an indicator reads
COMPARATOR_SIGNS = {"ge": "≥", "le": "≤", "eq": "=", "range": _l("Range"),
                    "qualitative": _l("Qualitative")}


class DecisionAction(enum.StrEnum):
    """What the finance bureau decides on a red item (纠偏措施)."""

    ADJUST_BUDGET = "adjust_budget"
    SUSPEND_PAYMENTS = "suspend_payments"
    STOP_PROJECT = "stop_project"
    RECTIFICATION = "rectification"


ACTION_LABELS = {
    DecisionAction.ADJUST_BUDGET: _l("Adjust the budget"),
    DecisionAction.SUSPEND_PAYMENTS: _l("Suspend payments"),
    DecisionAction.STOP_PROJECT: _l("Stop the project"),
    DecisionAction.RECTIFICATION: _l("Ask for rectification"),
}
register_labels(Reason, REASON_LABELS)
register_labels(Likelihood, LIKELIHOOD_LABELS)
register_labels(DecisionAction, ACTION_LABELS)


class MonitoringRound(TimestampMixin, db.Model):
    """A MonitoringRound (监控批次): execution from ``period_start`` to ``cutoff`` of one year."""

    __tablename__ = "monitoring_round"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "cutoff"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    cutoff: Mapped[date] = mapped_column(Date)
    #: the departments report by this day; later, reminders say they are overdue
    due: Mapped[date] = mapped_column(Date)
    #: set when the bureau closes the round: no submission or change afterwards
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    record_count: Mapped[int] = mapped_column(Integer, default=0)

    fiscal_year: Mapped[FiscalYear] = relationship()

    def __str__(self) -> str:
        return self.name


class MonitoringRecord(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """One budget item's report in one round: spending and target progress (双监控)."""

    __tablename__ = "monitoring_record"
    #: ``light`` and the figures are not indexed (and on PostgreSQL the table keeps free
    #: space in each page, see the migration), so recomputing lights is a cheap HOT update;
    #: the unique constraint serves lookups by round
    __table_args__ = (UniqueConstraint("round_id", "budget_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("monitoring_round.id", ondelete="CASCADE"))
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), index=True)
    sheet_id: Mapped[int] = mapped_column(Integer)  # the approved target sheet (targets plugin)
    #: the item's budget when the round opened
    budget: Mapped[Decimal] = mapped_column(Money)
    spent: Mapped[Decimal | None] = mapped_column(Money)
    #: required when ``spent`` is above ``budget``
    over_budget_note: Mapped[str | None] = mapped_column(Text)
    #: spent / budget and the time elapsed to the cut-off, in percent
    execution_rate: Mapped[Decimal | None] = mapped_column(PERCENT)
    expected_rate: Mapped[Decimal] = mapped_column(PERCENT)
    #: expected − execution rate, percentage points (positive: behind the time path)
    spending_deviation: Mapped[Decimal | None] = mapped_column(PERCENT)
    #: the largest shortfall of an indicator against its expected path, percent
    indicator_deviation: Mapped[Decimal | None] = mapped_column(PERCENT)
    light: Mapped[int] = mapped_column(SmallInteger, default=Light.PENDING)
    reason: Mapped[Reason | None] = mapped_column(db.Enum(Reason, native_enum=False, length=30))
    reason_note: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    measures_due: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[MonitoringRound] = relationship()
    budget_item: Mapped[BudgetItem] = relationship()
    indicators: Mapped[list[IndicatorProgress]] = relationship(
        back_populates="record", order_by="IndicatorProgress.position",
        cascade="all, delete-orphan")

    def __str__(self) -> str:
        item = self.budget_item
        return f"{item.code} {item.name}" if item is not None else f"#{self.id}"


class IndicatorProgress(OrgScoped, db.Model):
    """One target indicator in a record: achieved so far, year-end forecast, deviations."""

    __tablename__ = "monitoring_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_record.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    level1: Mapped[str] = mapped_column(String(20))
    level2: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    comparator: Mapped[str] = mapped_column(String(20))
    target_value: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    achieved: Mapped[str | None] = mapped_column(String(200))
    forecast: Mapped[str | None] = mapped_column(String(200))
    likelihood: Mapped[Likelihood | None] = mapped_column(
        db.Enum(Likelihood, native_enum=False, length=20))
    #: shortfall of ``achieved`` against the target × time elapsed, percent (0: on track)
    progress_deviation: Mapped[Decimal | None] = mapped_column(PERCENT)
    #: shortfall of ``forecast`` against the target, percent (> 0: the target will be missed)
    forecast_deviation: Mapped[Decimal | None] = mapped_column(PERCENT)
    reason: Mapped[Reason | None] = mapped_column(db.Enum(Reason, native_enum=False, length=30))

    record: Mapped[MonitoringRecord] = relationship(back_populates="indicators")

    def __str__(self) -> str:
        return f"{self.level1}/{self.level2}/{self.name}"


class CorrectiveDecision(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """The bureau's decision on a red item (纠偏决定); approved through the core workflow."""

    __tablename__ = "corrective_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_record.id", ondelete="CASCADE"), index=True)
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), index=True)
    action: Mapped[DecisionAction] = mapped_column(
        db.Enum(DecisionAction, native_enum=False, length=30))
    #: for "adjust the budget": the new amount
    new_budget: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    #: for rectification: the date by which it must be done
    due: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    record: Mapped[MonitoringRecord] = relationship()
    budget_item: Mapped[BudgetItem] = relationship()

    def __str__(self) -> str:
        return f"{self.budget_item.code if self.budget_item else self.budget_item_id} " \
               f"{ACTION_LABELS[DecisionAction(self.action)]}"
