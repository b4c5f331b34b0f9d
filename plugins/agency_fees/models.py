"""Fee schedules (收费标准) and stored engagement quotes (服务费测算单).

A schedule is versioned rule data: one ``code`` has numbered ``revision`` s;
a draft may be edited, an active one never (a new draft supersedes it on
activation, and the old one is retired with ``valid_to`` set). Schedules are
bureau-wide rule data and not row-scoped.

A quote belongs to an agency engagement of the agencies plugin through a plain
``engagement_id`` (no foreign key: this plugin loads without the agencies
plugin) and keeps a snapshot of what it needs (code, agency, commissioning org
unit for the row scope, contract amount), its inputs, its lines and the
schedule revision it used, so it can be shown and recomputed years later.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
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
from core.models import OrgScoped, OrgUnit, TimestampMixin, VersionedMixin
from core.models.workflow import WorkflowMixin
from core.money import Money
from core.web.admin.display import register_labels


class ScheduleStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


SCHEDULE_STATUS_LABELS = {ScheduleStatus.DRAFT: _l("Draft"), ScheduleStatus.ACTIVE: _l("In force"),
                          ScheduleStatus.RETIRED: _l("Retired")}
register_labels(ScheduleStatus, SCHEDULE_STATUS_LABELS)


class FeeSchedule(VersionedMixin, TimestampMixin, db.Model):
    """A fee schedule version (收费标准): the rule data of one revision of a code."""

    __tablename__ = "fee_schedule"
    __table_args__ = (UniqueConstraint("code", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ScheduleStatus] = mapped_column(
        db.Enum(ScheduleStatus, native_enum=False, length=20), default=ScheduleStatus.DRAFT)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: the rule data (``plugins.agency_fees.schedule``), numbers as decimal strings
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def label(self) -> str:
        return f"{self.code} r{self.revision}"

    def __str__(self) -> str:
        return f"{self.label} {self.name}"


class FeeQuote(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """The stored quote of one agency engagement, compared with its contract amount.

    ``org_unit_id`` is the engagement's commissioning party (the row scope).
    When the contract deviates from the quote or from the sliding-scale
    cross-check by more than the schedule's tolerance, the quote needs a written
    ``reason`` and finance approval through the core workflow.
    """

    __tablename__ = "fee_quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(Integer, unique=True)
    engagement_code: Mapped[str] = mapped_column(String(40))
    engagement_title: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_name: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int] = mapped_column(Integer, index=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedule.id"), index=True)
    schedule_label: Mapped[str] = mapped_column(String(60))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    lines: Mapped[list[Any]] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Money)
    scale_fee: Mapped[Decimal | None] = mapped_column(Money)
    contract_amount: Mapped[Decimal] = mapped_column(Money)
    #: (contract - quote) / quote in per cent, and the same against the sliding scale
    deviation_pct: Mapped[Decimal | None] = mapped_column(Numeric(9, 2, asdecimal=True))
    scale_deviation_pct: Mapped[Decimal | None] = mapped_column(Numeric(9, 2, asdecimal=True))
    needs_approval: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")

    org_unit: Mapped[OrgUnit] = relationship()
    schedule: Mapped[FeeSchedule] = relationship()

    def __str__(self) -> str:
        return f"{self.engagement_code} {self.total}"
