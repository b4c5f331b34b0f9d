"""The agencies plugin's answers to ``jixiao_engagements`` and ``jixiao_principal_agency``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from core.contracts import DeliverableView, EngagementView, StaffView
from core.extensions import db
from core.models import Attachment
from core.scope import unscoped_session
from plugins.agencies.models import AgencyMember, Engagement, WorkLog
from plugins.agencies.portal import DELIVERABLE_TYPE

#: the agency of a user: a Core statement built once (read outside the row scope: it is
#: what the scope is computed from)
_AGENCY_OF = select(AgencyMember.__table__.c.agency_id).where(
    AgencyMember.__table__.c.user_id == bindparam("user_id"))


def agency_column(user_id):
    """``agency_of`` as a scalar subquery on the SQL column ``user_id``."""
    member = AgencyMember.__table__
    return (select(member.c.agency_id).where(member.c.user_id == user_id)
            .limit(1).scalar_subquery())


def agency_of(user) -> int | None:
    with unscoped_session() as session:
        return session.connection().execute(_AGENCY_OF, {"user_id": user.id}).scalar()


def engagements(ids, year, agency_id, closed) -> list[EngagementView]:
    query = (select(Engagement).order_by(Engagement.id)
             .options(selectinload(Engagement.items), selectinload(Engagement.team),
                      selectinload(Engagement.agency)))
    if ids is not None:
        query = query.where(Engagement.id.in_(ids))
    if year is not None:
        query = query.where(Engagement.start_on >= date(year, 1, 1),
                            Engagement.start_on <= date(year, 12, 31))
    if agency_id is not None:
        query = query.where(Engagement.agency_id == agency_id)
    if closed is not None:
        query = query.where(Engagement.closed_at.is_not(None) if closed
                            else Engagement.closed_at.is_(None))
    return views_of(list(db.session.scalars(query)))


def view_of(eng: Engagement) -> EngagementView:
    """The ``EngagementView`` of one engagement, as the engagement hooks pass it."""
    return views_of([eng])[0]


def views_of(found: list[Engagement]) -> list[EngagementView]:
    if not found:
        return []
    found_ids = [e.id for e in found]
    hours: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for eng_id, staff_id, total in db.session.execute(
            select(WorkLog.engagement_id, WorkLog.staff_id, func.sum(WorkLog.hours))
            .where(WorkLog.engagement_id.in_(found_ids))
            .group_by(WorkLog.engagement_id, WorkLog.staff_id)):
        hours[eng_id][staff_id] = Decimal(total).quantize(Decimal("0.01"))
    files: dict[int, list[DeliverableView]] = defaultdict(list)
    for att in db.session.scalars(
            select(Attachment).where(Attachment.object_type == DELIVERABLE_TYPE,
                                     Attachment.object_id.in_(found_ids))
            .order_by(Attachment.created_at)):
        files[att.object_id].append(DeliverableView(att.id, att.filename, att.created_at))
    return [EngagementView(
        id=e.id, code=e.code, title=e.title, agency_id=e.agency_id, agency_name=e.agency.name,
        kind=str(e.kind), org_unit_id=e.org_unit_id, contract_amount=e.contract_amount,
        start_on=e.start_on, end_on=e.end_on, state=str(e.state), closed_at=e.closed_at,
        budget_item_ids=tuple(i.id for i in e.items),
        evaluated_amount=sum((i.amount for i in e.items), Decimal("0.00")),
        team=tuple(StaffView(s.id, s.name, s.grade) for s in e.team),
        logged_hours=dict(hours.get(e.id, {})), deliverables=tuple(files.get(e.id, ())))
        for e in found]
