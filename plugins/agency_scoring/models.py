"""Assessments of agency engagements (考核), appeals (申诉), annual ratings (年度评级)
and restrictions (限制: exclusion, warning, credit record).

Engagements and agencies belong to the agencies plugin: rows here keep their ids
as plain integers (no foreign key, so this plugin loads without it) and a
snapshot of what the assessment needs (code, title, agency name, amount, dates).

Row scope (``core.scope``):

- an agency user (``Principal.agency_id``) sees only their own agency's rows;
- assessments and appeals: everybody else sees those commissioned by their org
  subtree (the finance bureau sees all);
- ratings and restrictions are about agencies, not org units: staff see them all
  (an agency sees its own rating once published).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

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
    and_,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import OrgScoped, TimestampMixin, VersionedMixin
from core.money import Money
from core.web.admin.display import register_labels

AGENCY_ROLE = "agency_user"
POINTS = Numeric(6, 2, asdecimal=True)


def agency_of(principal) -> int | None:
    """The principal's agency, as the core computed it for the scope (``Principal.agency_id``)."""
    return principal.agency_id


def is_agency_side(principal) -> bool:
    return principal.role == AGENCY_ROLE or principal.agency_id is not None


class AgencySide:
    """Rows of one agency: its users see only their own agency's; staff see all."""

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_side(principal):
            agency = agency_of(principal)
            return false() if agency is None else cls.agency_id == agency
        return None

    @staticmethod
    def scope_allows(obj, principal) -> bool:
        return not is_agency_side(principal) or obj.agency_id == agency_of(principal)


class CommissionedSide(OrgScoped):
    """Agency users: their agency's rows; everybody else: the commissioning org subtree."""

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_side(principal):
            return AgencySide.scope_criteria.__func__(cls, principal)
        return OrgScoped.scope_criteria.__func__(cls, principal)

    @staticmethod
    def scope_allows(obj, principal) -> bool:
        if is_agency_side(principal):
            return AgencySide.scope_allows(obj, principal)
        return principal.covers(obj.org_unit_id)


class AssessmentStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the commissioning party's score
    SCORED = "scored"


class AppealStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"  # the score was changed
    REJECTED = "rejected"


class RatingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # final: consequences applied, no more changes


class RestrictionKind(enum.StrEnum):
    EXCLUSION = "exclusion"  # may not be commissioned
    WARNING = "warning"  # shown with the eligibility, does not block
    CREDIT_RECORD = "credit_record"  # a credit record (信用记录), does not block by itself


ASSESSMENT_STATUS_LABELS = {AssessmentStatus.OPEN: _l("Awaiting score"),
                            AssessmentStatus.SCORED: _l("Scored")}
APPEAL_STATUS_LABELS = {AppealStatus.PENDING: _l("Pending"), AppealStatus.UPHELD: _l("Upheld"),
                        AppealStatus.REJECTED: _l("Rejected")}
RATING_STATUS_LABELS = {RatingStatus.DRAFT: _l("Draft"), RatingStatus.PUBLISHED: _l("Published")}
RESTRICTION_LABELS = {RestrictionKind.EXCLUSION: _l("Excluded from selection"),
                      RestrictionKind.WARNING: _l("Warning"),
                      RestrictionKind.CREDIT_RECORD: _l("Credit record")}
for _enum, _labels in ((AssessmentStatus, ASSESSMENT_STATUS_LABELS),
                       (AppealStatus, APPEAL_STATUS_LABELS),
                       (RatingStatus, RATING_STATUS_LABELS),
                       (RestrictionKind, RESTRICTION_LABELS)):
    register_labels(_enum, _labels)


def _enum(cls):
    return db.Enum(cls, native_enum=False, length=20)


class Assessment(CommissionedSide, VersionedMixin, TimestampMixin, db.Model):
    """The assessment (考核) of one closed engagement.

    ``org_unit_id`` is the commissioning party, who scores the sheet once; the
    finance bureau may add one spot-check (抽查) score; ``score``/``grade`` is
    their combination (a veto sets the lowest grade). Each score's trace is a
    ``core.models.ScoreRecord`` (``party_record_id``, ``spot_record_id``).
    """

    __tablename__ = "agency_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for an earlier assessment carried over without its engagement in the system
    engagement_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    contract_amount: Mapped[Decimal] = mapped_column(Money)
    end_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    year: Mapped[int] = mapped_column(Integer, index=True)  # the year the work ended
    rule_code: Mapped[str] = mapped_column(String(60))
    #: what the portal recorded: days late, team vs logged staff (see service.evidence)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[AssessmentStatus] = mapped_column(_enum(AssessmentStatus),
                                                     default=AssessmentStatus.OPEN)
    party_total: Mapped[Decimal | None] = mapped_column(POINTS)
    party_record_id: Mapped[int | None] = mapped_column(ForeignKey("score_record.id"))
    party_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    party_at: Mapped[datetime | None] = mapped_column(DateTime)
    spot_total: Mapped[Decimal | None] = mapped_column(POINTS)
    spot_record_id: Mapped[int | None] = mapped_column(ForeignKey("score_record.id"))
    spot_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    spot_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: veto codes found by either scorer
    vetoes: Mapped[list] = mapped_column(JSON, default=list)
    score: Mapped[Decimal | None] = mapped_column(POINTS)
    grade: Mapped[str | None] = mapped_column(String(20))
    appeal_until: Mapped[date | None] = mapped_column(Date)

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Appeal(CommissionedSide, VersionedMixin, TimestampMixin, db.Model):
    """An agency's appeal (申诉) against an assessment; finance decides. Keeps both scores."""

    __tablename__ = "agency_appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("agency_assessment.id"), index=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[AppealStatus] = mapped_column(_enum(AppealStatus),
                                                 default=AppealStatus.PENDING)
    score_before: Mapped[Decimal] = mapped_column(POINTS)
    grade_before: Mapped[str] = mapped_column(String(20))
    score_after: Mapped[Decimal | None] = mapped_column(POINTS)
    grade_after: Mapped[str | None] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __str__(self) -> str:
        return f"#{self.id} ({self.status})"


class Rating(AgencySide, VersionedMixin, TimestampMixin, db.Model):
    """An agency's annual rating (年度评级): the amount-weighted mean of its engagement
    scores, less the spot-check and violation deductions, as a grade and a rank.
    An agency sees its own rating once it is published."""

    __tablename__ = "agency_rating"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer, index=True)
    rule_code: Mapped[str] = mapped_column(String(60))
    engagements: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    weighted_mean: Mapped[Decimal] = mapped_column(POINTS)
    spot_deduction: Mapped[Decimal] = mapped_column(POINTS)
    violation_deduction: Mapped[Decimal] = mapped_column(POINTS)
    score: Mapped[Decimal] = mapped_column(POINTS)
    grade: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[RatingStatus] = mapped_column(_enum(RatingStatus), default=RatingStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    @classmethod
    def scope_criteria(cls, principal):
        own = AgencySide.scope_criteria.__func__(cls, principal)
        return None if own is None else and_(own, cls.status == RatingStatus.PUBLISHED)

    def __str__(self) -> str:
        return f"{self.agency_name} {self.year}"


class Restriction(AgencySide, TimestampMixin, db.Model):
    """A consequence for an agency (or one of its staff, ``staff_id``): an exclusion
    from selection, a warning or a credit record, from ``start_on`` to ``end_on``."""

    __tablename__ = "agency_restriction"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_name: Mapped[str] = mapped_column(String(200), default="")
    staff_id: Mapped[int | None] = mapped_column(Integer, index=True)
    staff_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[RestrictionKind] = mapped_column(_enum(RestrictionKind))
    reason: Mapped[str] = mapped_column(Text)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)  # None: until lifted
    #: what caused it: "rating:<id>", "assessment:<id>" or "" (entered by hand)
    source: Mapped[str] = mapped_column(String(40), default="")

    def __str__(self) -> str:
        return f"{self.agency_name} {self.kind}"


def restrictions_on(day: date, agency_id: int | None = None):
    """A SELECT of the restrictions in force on ``day`` (of one agency if given)."""
    stmt = select(Restriction).where(
        Restriction.start_on <= day,
        (Restriction.end_on.is_(None)) | (Restriction.end_on >= day))
    if agency_id is not None:
        stmt = stmt.where(Restriction.agency_id == agency_id)
    return stmt.order_by(Restriction.start_on, Restriction.id)
