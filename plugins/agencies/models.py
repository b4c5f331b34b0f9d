"""The agency registry, agency users, engagements (委托) and work logs.

Row scope (``core.scope``), declared here once:

- an agency user (role ``agency_user``) sees only the rows of the agency their
  account is attached to (``agency_member``), found by a subquery on the
  principal's user id, so the core's ``principal_for`` needs no change;
- every other user sees the whole registry (agencies, staff), and the
  engagements and work logs commissioned by their org subtree (the finance
  bureau sees everything).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import BudgetItem, OrgScoped, OrgUnit, TimestampMixin, User, VersionedMixin
from core.models.workflow import WorkflowMixin
from core.money import Money
from core.web.admin.display import register_labels

AGENCY_ROLE = "agency_user"


def is_agency_principal(principal) -> bool:
    return principal.role == AGENCY_ROLE or getattr(principal, "agency_id", None) is not None


def my_agency_ids(principal):
    """The agency of an agency user, as something ``.in_()`` accepts."""
    if getattr(principal, "agency_id", None) is not None:
        return [principal.agency_id]
    if principal.user_id is None:
        return []
    return select(AgencyMember.agency_id).where(AgencyMember.user_id == principal.user_id)


class AgencyKind(enum.StrEnum):
    CONSULTANCY = "consultancy"
    ACCOUNTING = "accounting"
    APPRAISAL = "appraisal"
    LAW = "law"
    RESEARCH = "research"
    UNIVERSITY = "university"
    OTHER = "other"


class AgencyStatus(enum.StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    BANNED = "banned"


class WorkKind(enum.StrEnum):
    PRE_ASSESSMENT = "pre_assessment"
    EVALUATION = "evaluation"
    RE_EVALUATION = "re_evaluation"
    TARGET_REVIEW = "target_review"
    MONITORING = "monitoring"
    #: other services that create a conflict of interest for later assessments
    CONSULTING = "consulting"
    AUDIT = "audit"


class Procurement(enum.StrEnum):
    GOVERNMENT_PROCUREMENT = "government_procurement"
    PURCHASE_OF_SERVICES = "purchase_of_services"


class Activity(enum.StrEnum):
    DESK_REVIEW = "desk_review"
    SITE_VISIT = "site_visit"
    INTERVIEW = "interview"
    SURVEY = "survey"
    EXPERT_MEETING = "expert_meeting"
    REPORT_WRITING = "report_writing"
    OTHER = "other"


AGENCY_KIND_LABELS = {
    AgencyKind.CONSULTANCY: _l("Consultancy"), AgencyKind.ACCOUNTING: _l("Accounting firm"),
    AgencyKind.APPRAISAL: _l("Asset appraiser"), AgencyKind.LAW: _l("Law firm"),
    AgencyKind.RESEARCH: _l("Research institute"), AgencyKind.UNIVERSITY: _l("University"),
    AgencyKind.OTHER: _l("Other"),
}
AGENCY_STATUS_LABELS = {
    AgencyStatus.ACTIVE: _l("Active"), AgencyStatus.RESTRICTED: _l("Restricted"),
    AgencyStatus.BANNED: _l("Banned"),
}
WORK_KIND_LABELS = {
    WorkKind.PRE_ASSESSMENT: _l("Pre-assessment"), WorkKind.EVALUATION: _l("Evaluation"),
    WorkKind.RE_EVALUATION: _l("Re-evaluation"), WorkKind.TARGET_REVIEW: _l("Target review"),
    WorkKind.MONITORING: _l("Monitoring"), WorkKind.CONSULTING: _l("Consulting"),
    WorkKind.AUDIT: _l("Audit"),
}
PROCUREMENT_LABELS = {
    Procurement.GOVERNMENT_PROCUREMENT: _l("Government procurement"),
    Procurement.PURCHASE_OF_SERVICES: _l("Purchase of services"),
}
ACTIVITY_LABELS = {
    Activity.DESK_REVIEW: _l("Desk review"), Activity.SITE_VISIT: _l("Site visit"),
    Activity.INTERVIEW: _l("Interview"), Activity.SURVEY: _l("Survey"),
    Activity.EXPERT_MEETING: _l("Expert meeting"), Activity.REPORT_WRITING: _l("Report writing"),
    Activity.OTHER: _l("Other"),
}
for _enum, _labels in ((AgencyKind, AGENCY_KIND_LABELS), (AgencyStatus, AGENCY_STATUS_LABELS),
                       (WorkKind, WORK_KIND_LABELS), (Procurement, PROCUREMENT_LABELS),
                       (Activity, ACTIVITY_LABELS)):
    register_labels(_enum, _labels)

HOURS = Numeric(5, 2, asdecimal=True)


def _enum(cls):
    return db.Enum(cls, native_enum=False, length=30)


class AgencyScoped:
    """Rows of one agency: its users see only their own agency's; staff see all."""

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_principal(principal):
            return cls.agency_id.in_(my_agency_ids(principal))
        return None

    @staticmethod
    def scope_allows(obj, principal) -> bool:
        if not is_agency_principal(principal):
            return True
        ids = my_agency_ids(principal)
        if not isinstance(ids, list):
            ids = list(db.session.scalars(ids.execution_options(jixiao_unscoped=True)))
        return obj.agency_id in ids


class Agency(TimestampMixin, db.Model):
    """A third-party agency (第三方机构)."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(_enum(AgencyKind), default=AgencyKind.CONSULTANCY)
    qualifications: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[AgencyStatus] = mapped_column(_enum(AgencyStatus), default=AgencyStatus.ACTIVE)
    status_note: Mapped[str] = mapped_column(Text, default="")

    staff: Mapped[list[AgencyStaff]] = relationship(back_populates="agency",
                                                    order_by="AgencyStaff.id")

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_principal(principal):
            return cls.id.in_(my_agency_ids(principal))
        return None

    def __str__(self) -> str:
        return self.name


class AgencyStaff(AgencyScoped, TimestampMixin, db.Model):
    """A member of an agency's staff who may work on engagements."""

    __tablename__ = "agency_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    grade: Mapped[str] = mapped_column(String(40), default="")
    qualifications: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="staff")
    certificates: Mapped[list[StaffCertificate]] = relationship(
        back_populates="staff", cascade="all, delete-orphan")
    employments: Mapped[list[StaffEmployment]] = relationship(
        back_populates="staff", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name


class _StaffChild:
    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_principal(principal):
            return cls.staff_id.in_(select(AgencyStaff.id).where(
                AgencyStaff.agency_id.in_(my_agency_ids(principal))))
        return None


class StaffCertificate(_StaffChild, db.Model):
    """A professional certificate of a staff member, with its expiry."""

    __tablename__ = "agency_staff_certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("agency_staff.id", ondelete="CASCADE"),
                                          index=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100), default="")
    expires_on: Mapped[date | None] = mapped_column(Date)

    staff: Mapped[AgencyStaff] = relationship(back_populates="certificates")

    def __str__(self) -> str:
        return self.name


class StaffEmployment(_StaffChild, db.Model):
    """A former (or other) employer of a staff member; links an org unit when it was one."""

    __tablename__ = "agency_staff_employment"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("agency_staff.id", ondelete="CASCADE"),
                                          index=True)
    employer: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)

    staff: Mapped[AgencyStaff] = relationship(back_populates="employments")
    org_unit: Mapped[OrgUnit | None] = relationship()

    def __str__(self) -> str:
        return self.employer


class AgencyMember(db.Model):
    """Attaches a user account (role agency_user) to one agency."""

    __tablename__ = "agency_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)

    user: Mapped[User] = relationship()
    agency: Mapped[Agency] = relationship()

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_principal(principal):
            return cls.user_id == principal.user_id
        return None

    def __str__(self) -> str:
        return f"{self.user} → {self.agency}"


engagement_item = Table(
    "engagement_item", db.metadata,
    Column("engagement_id", ForeignKey("engagement.id", ondelete="CASCADE"), primary_key=True),
    Column("budget_item_id", ForeignKey("budget_item.id"), primary_key=True, index=True),
)
engagement_staff = Table(
    "engagement_staff", db.metadata,
    Column("engagement_id", ForeignKey("engagement.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("agency_staff.id"), primary_key=True, index=True),
)


class _EngagementScope:
    """Agency users: their agency's rows; everybody else: the commissioning org subtree."""

    @classmethod
    def scope_criteria(cls, principal):
        if is_agency_principal(principal):
            return cls.agency_id.in_(my_agency_ids(principal))
        if principal.sees_everything:
            return None
        if not principal.org_ids:
            return false()
        return cls.org_unit_id.in_(principal.org_ids)

    @staticmethod
    def scope_allows(obj, principal) -> bool:
        if is_agency_principal(principal):
            return AgencyScoped.scope_allows(obj, principal)
        return principal.covers(obj.org_unit_id)


class Engagement(_EngagementScope, OrgScoped, WorkflowMixin, VersionedMixin, TimestampMixin,
                 db.Model):
    """A commission (委托) of an agency by the finance bureau or a department.

    ``org_unit_id`` is the commissioning party. Review goes through the core
    workflow; ``closed_at`` marks the end of the work (then no more logs). The
    units whose budget items it assesses see it too, read-only (writes are
    checked against the commissioning party only).
    """

    @classmethod
    def scope_criteria(cls, principal):
        criteria = super().scope_criteria(principal)
        if criteria is None or is_agency_principal(principal) or not principal.org_ids:
            return criteria
        items = BudgetItem.__table__
        assessed = (select(engagement_item.c.engagement_id)
                    .join(items, items.c.id == engagement_item.c.budget_item_id)
                    .where(items.c.org_unit_id.in_(principal.org_ids)))
        return or_(criteria, cls.id.in_(assessed))

    __tablename__ = "engagement"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[WorkKind] = mapped_column(_enum(WorkKind))
    procurement: Mapped[Procurement] = mapped_column(_enum(Procurement))
    contract_amount: Mapped[Decimal] = mapped_column(Money)
    #: the approved budget line that pays the fee (先有预算、后购买服务)
    budget_reference: Mapped[str] = mapped_column(String(200), default="")
    budget_amount: Mapped[Decimal | None] = mapped_column(Money)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    deliverables: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    org_unit: Mapped[OrgUnit] = relationship()
    agency: Mapped[Agency] = relationship()
    items: Mapped[list[BudgetItem]] = relationship(secondary=engagement_item,
                                                   order_by=BudgetItem.code)
    team: Mapped[list[AgencyStaff]] = relationship(secondary=engagement_staff,
                                                   order_by=AgencyStaff.id)

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class WorkLog(_EngagementScope, TimestampMixin, db.Model):
    """A piece of service work by one staff member on one day for one engagement.

    ``agency_id`` and ``org_unit_id`` are copied from the engagement so that the
    row scope needs no join. A log is a draft until submitted.
    """

    __tablename__ = "work_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagement.id", ondelete="CASCADE"),
                                               index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("agency_staff.id"), index=True)
    work_date: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    activity: Mapped[Activity] = mapped_column(_enum(Activity))
    location: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    engagement: Mapped[Engagement] = relationship()
    staff: Mapped[AgencyStaff] = relationship()

    def __str__(self) -> str:
        return f"{self.work_date} {self.staff_id} {self.hours}h"
