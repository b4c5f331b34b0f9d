"""Fiscal years (预算年度) and their stage deadlines."""

from __future__ import annotations

from datetime import date

from flask import g, has_request_context, session
from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import TimestampMixin

YEAR_KEY = "jixiao_year"  # the session key of the year a person chose


class FiscalYear(TimestampMixin, db.Model):
    __tablename__ = "fiscal_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    deadlines: Mapped[list[StageDeadline]] = relationship(
        back_populates="fiscal_year", cascade="all, delete-orphan", order_by="StageDeadline.due")

    def __str__(self) -> str:
        return self.name or str(self.year)

    @classmethod
    def current(cls) -> FiscalYear | None:
        """The year pages show by default, read once a request: the one the person chose
        (``session[YEAR_KEY]``, the year switch), else the latest open year, else the latest."""
        chosen, memo = (session.get(YEAR_KEY), g.setdefault("jixiao_current_year", {})) \
            if has_request_context() else (None, {})
        order = (cls.year == (chosen or 0)).desc(), (cls.status == "open").desc(), cls.year.desc()
        return memo[chosen] if chosen in memo else memo.setdefault(
            chosen, db.session.scalars(db.select(cls).order_by(*order).limit(1)).first())

    def deadline(self, stage: str) -> date | None:
        return next((d.due for d in self.deadlines if d.stage == stage), None)


class StageDeadline(db.Model):
    """When a stage (targets, monitoring, self-evaluation…) is due in a fiscal year."""

    __tablename__ = "stage_deadline"
    __table_args__ = (UniqueConstraint("fiscal_year_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(40))
    due: Mapped[date] = mapped_column(Date)
    fiscal_year: Mapped[FiscalYear] = relationship(back_populates="deadlines")

    def __str__(self) -> str:
        return f"{self.stage}: {self.due.isoformat()}"
