"""The project library (项目库): one project across years, each year's budget item under it."""

from __future__ import annotations

import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import OrgScoped, TimestampMixin, VersionedMixin
from core.models.budget import BudgetItem, ItemKind
from core.models.org import OrgUnit
from core.money import Money


class ProjectStatus(enum.StrEnum):
    NEW = "new"  # 新增
    CONTINUING = "continuing"  # 延续
    ENDING = "ending"  # 到期


PROJECT_STATUS_LABELS = {ProjectStatus.NEW: _l("New"), ProjectStatus.CONTINUING: _l("Continuing"),
                         ProjectStatus.ENDING: _l("Ending")}


class Project(OrgScoped, VersionedMixin, TimestampMixin, db.Model):
    """A Project (项目) of a department with a stable code; its items are its budget years."""

    __tablename__ = "project"
    __table_args__ = (CheckConstraint("end_year IS NULL OR end_year >= start_year",
                                      name="years_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[ItemKind] = mapped_column(
        Enum(ItemKind, native_enum=False, length=32), default=ItemKind.PROJECT)
    status: Mapped[ProjectStatus] = mapped_column(
        Enum(ProjectStatus, native_enum=False, length=20), default=ProjectStatus.NEW)
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int | None] = mapped_column(Integer)  # None: open-ended
    #: the department's request for ``request_year``: opening that year uses it
    request_year: Mapped[int | None] = mapped_column(Integer)
    request_amount: Mapped[Decimal | None] = mapped_column(Money)

    org_unit: Mapped[OrgUnit] = relationship()
    items: Mapped[list[BudgetItem]] = relationship(back_populates="project", order_by="BudgetItem.id")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
