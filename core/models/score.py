"""Computed scores, each stored with the trace that explains and reproduces it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import OrgScoped, TimestampMixin


class ScoreRecord(OrgScoped, TimestampMixin, db.Model):
    """One computed score of one object (an evaluation, an assessment…).

    ``trace`` is ``core.services.scoring.ScoreTrace.to_dict()``: the rule version, every
    indicator's inputs, method, points and formula. A new computation adds a
    record; the newest one of an object and purpose is the current score.
    """

    __tablename__ = "score_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(40), default="")
    rule_code: Mapped[str] = mapped_column(String(60))
    total: Mapped[Decimal] = mapped_column(Numeric(9, 2, asdecimal=True))
    grade: Mapped[str] = mapped_column(String(20))
    trace: Mapped[dict] = mapped_column(JSON)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.total} ({self.grade})"
