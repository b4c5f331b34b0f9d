"""Budget items (预算项目): what performance is managed for."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import OrgScoped, TimestampMixin, VersionedMixin
from core.models.fiscal import FiscalYear
from core.models.org import OrgUnit
from core.money import Money

if TYPE_CHECKING:
    from core.models.project import Project


class ItemKind(enum.StrEnum):
    PROJECT = "project"  # 项目
    POLICY = "policy"  # 财政政策
    DEPARTMENT_OVERALL = "department_overall"  # 部门整体支出


class BudgetType(enum.StrEnum):
    GENERAL_PUBLIC = "general_public"  # 一般公共预算
    GOVERNMENT_FUND = "government_fund"  # 政府性基金预算
    STATE_CAPITAL = "state_capital"  # 国有资本经营预算


ITEM_KIND_LABELS = {
    ItemKind.PROJECT: _l("Project"),
    ItemKind.POLICY: _l("Fiscal policy"),
    ItemKind.DEPARTMENT_OVERALL: _l("Department overall expenditure"),
}
BUDGET_TYPE_LABELS = {
    BudgetType.GENERAL_PUBLIC: _l("General public budget"),
    BudgetType.GOVERNMENT_FUND: _l("Government fund budget"),
    BudgetType.STATE_CAPITAL: _l("State capital operation budget"),
}


class BudgetItem(OrgScoped, VersionedMixin, TimestampMixin, db.Model):
    """A BudgetItem (预算项目): a project, a fiscal policy or a department's overall spending."""

    __tablename__ = "budget_item"
    __table_args__ = (
        UniqueConstraint("fiscal_year_id", "code"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_budget_item_year_org", "fiscal_year_id", "org_unit_id"),
        Index("uq_budget_item_year_project", "fiscal_year_id", "project_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(
        Enum(ItemKind, native_enum=False, length=32), default=ItemKind.PROJECT, index=True)
    budget_type: Mapped[BudgetType] = mapped_column(
        Enum(BudgetType, native_enum=False, length=32), default=BudgetType.GENERAL_PUBLIC, index=True)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)  # 新增 vs 延续
    is_recurring: Mapped[bool] = mapped_column(Boolean, default=False)  # 经常性
    is_key_task: Mapped[bool] = mapped_column(Boolean, default=False)  # 重点任务
    is_purchase_of_services: Mapped[bool] = mapped_column(Boolean, default=False)  # 政府购买服务
    contractor: Mapped[str | None] = mapped_column(String(200))  # 承接主体
    description: Mapped[str | None] = mapped_column(Text)
    #: the project library's project (core/models/project.py); every item of a year has one
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)

    org_unit: Mapped[OrgUnit] = relationship()
    fiscal_year: Mapped[FiscalYear] = relationship()
    project: Mapped[Project | None] = relationship(back_populates="items")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
