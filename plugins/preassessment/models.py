"""Pre-assessments (事前绩效评估) of budget items and the experts' reviews (专家评审).

A ``Preassessment`` belongs to one budget item (and so to the item's org unit:
the core scope applies). It holds the item's trigger flags (substantially
changed, expiring policy to extend, or an exempt kind reviewed by a specialist
department), the department's self-assessment (部门自评估, reviewed through
the core workflow), the finance bureau's key selection, and the conclusion
with the recommended amount that next year's budget uses.

An ``ExpertReview`` is one panel expert's scores of one key pre-assessment.
Its row scope: the finance bureau sees every review, anyone else only their
own — so an expert never reads another expert's scores through a query; the
panel's scores are shown to the panel only once everyone has submitted
(``plugins.preassessment.service.panel_of``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
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
    User,
    VersionedMixin,
    WorkflowMixin,
)
from core.money import Money
from core.services.review import unit_and_department
from core.web.admin.display import register_labels

SCORE = Numeric(7, 2, asdecimal=True)


class ExemptKind(enum.StrEnum):
    CAPITAL_CONSTRUCTION = "capital_construction"  # 基本建设
    INFORMATION_TECHNOLOGY = "information_technology"  # 信息化
    URBAN_MAINTENANCE = "urban_maintenance"  # 城市维护
    INDUSTRIAL_POLICY = "industrial_policy"  # 产业政策


class Conclusion(enum.StrEnum):
    SUPPORT = "support"  # 予以支持
    ADJUST = "adjust"  # 部分支持（调整后支持）
    REJECT = "reject"  # 不予支持


EXEMPT_KIND_LABELS = {
    ExemptKind.CAPITAL_CONSTRUCTION: _l("Capital construction"),
    ExemptKind.INFORMATION_TECHNOLOGY: _l("Information technology"),
    ExemptKind.URBAN_MAINTENANCE: _l("Urban maintenance"),
    ExemptKind.INDUSTRIAL_POLICY: _l("Industrial policy"),
}
CONCLUSION_LABELS = {
    Conclusion.SUPPORT: _l("Support"),
    Conclusion.ADJUST: _l("Partial support (support after adjustment)"),
    Conclusion.REJECT: _l("No support"),
}
register_labels(ExemptKind, EXEMPT_KIND_LABELS)
register_labels(Conclusion, CONCLUSION_LABELS)


class Preassessment(OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin, db.Model):
    """The pre-assessment of one budget item (one per item)."""

    __tablename__ = "preassessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_item_id: Mapped[int] = mapped_column(
        ForeignKey("budget_item.id", ondelete="CASCADE"), unique=True)
    fiscal_year_id: Mapped[int] = mapped_column(ForeignKey("fiscal_year.id"), index=True)
    rules_code: Mapped[str] = mapped_column(String(40), default="")
    # --- trigger flags (the item's own: is_new and amount are on the BudgetItem) ---
    substantially_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    change_note: Mapped[str | None] = mapped_column(Text)
    extends_expiring_policy: Mapped[bool] = mapped_column(Boolean, default=False)
    exempt_kind: Mapped[ExemptKind | None] = mapped_column(
        db.Enum(ExemptKind, native_enum=False, length=32))
    reviewing_department: Mapped[str | None] = mapped_column(String(200))
    review_opinion: Mapped[str | None] = mapped_column(Text)
    high_attention: Mapped[bool] = mapped_column(Boolean, default=False)  # 社会关注度高
    # --- the department's self-assessment ---
    #: indicator path → {"points": "8.50", "comment": "…"}
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    self_score: Mapped[Decimal | None] = mapped_column(SCORE)
    # --- the finance bureau's key pre-assessment ---
    is_key: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    panel_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    panel_score: Mapped[Decimal | None] = mapped_column(SCORE)
    # --- the conclusion ---
    conclusion: Mapped[Conclusion | None] = mapped_column(
        db.Enum(Conclusion, native_enum=False, length=20))
    recommended_amount: Mapped[Decimal | None] = mapped_column(Money)
    conclusion_note: Mapped[str | None] = mapped_column(Text)
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    final_at: Mapped[datetime | None] = mapped_column(DateTime)

    budget_item: Mapped[BudgetItem] = relationship()
    fiscal_year: Mapped[FiscalYear] = relationship()
    reviews: Mapped[list[ExpertReview]] = relationship(
        back_populates="preassessment", cascade="all, delete-orphan",
        order_by="ExpertReview.id")

    def __str__(self) -> str:
        item = self.budget_item
        return f"{item.code} {item.name}" if item is not None else f"#{self.id}"

    @property
    def owner_org_ids(self) -> tuple[int, ...]:
        """A unit's pre-assessment is made and submitted by the unit or its department
        (which does not review it)."""
        return unit_and_department(self.org_unit_id)


class ExpertReview(TimestampMixin, db.Model):
    """One panel expert's scores and opinion on one key pre-assessment."""

    __tablename__ = "preassessment_review"
    __table_args__ = (UniqueConstraint("preassessment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preassessment_id: Mapped[int] = mapped_column(
        ForeignKey("preassessment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: indicator path → points (decimal strings)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal | None] = mapped_column(SCORE)
    opinion: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)

    preassessment: Mapped[Preassessment] = relationship(back_populates="reviews")
    expert: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"#{self.preassessment_id} · {self.user_id}"

    @classmethod
    def scope_criteria(cls, principal):
        if principal.sees_everything:
            return None
        return cls.user_id == principal.user_id

    @staticmethod
    def scope_allows(obj, principal) -> bool:
        return principal.sees_everything or obj.user_id == principal.user_id
