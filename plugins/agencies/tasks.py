"""What waits for whom in the agencies stage (``jixiao_tasks``), in a few queries.

- the reviewers of the engagement workflow (the finance bureau): engagements submitted
  at their level; the bureau gets one queue with its size;
- the commissioning party (a department, or the bureau as a queue): engagements in
  draft or returned to fix and submit, and approved ones past their end date to close;
- agency users: their agency's open engagements with no work logged in the last
  ``WORKLOG_GAP_DAYS`` days, and deliverables not yet uploaded as the end date nears.

An engagement belongs to the fiscal year its dates overlap. Queries run under the
principal's row scope (an agency user sees only their agency's engagements).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.models import Attachment, State, WorkflowEvent
from core.web.admin.base import list_url
from plugins.agencies.models import Engagement, WorkLog, is_agency_principal
from plugins.agencies.portal import DELIVERABLE_TYPE
from plugins.agencies.service import WORKFLOW

STAGE = "agencies"
#: an open engagement with no work log dated within this many days is "missing logs"
WORKLOG_GAP_DAYS = 7
#: deliverables are asked for from this many days before the engagement's end
DELIVERABLE_NOTICE_DAYS = 30

_event_t, _log_t, _file_t = WorkflowEvent.__table__, WorkLog.__table__, Attachment.__table__



def _at(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time())


def _in_year(year: int):
    return (Engagement.start_on <= date(year, 12, 31), Engagement.end_on >= date(year, 1, 1))


#: when the engagement last moved in the workflow (else when it was last changed)
_LAST_EVENT = func.coalesce(
    select(func.max(_event_t.c.at)).where(_event_t.c.object_type == Engagement.__tablename__,
                                          _event_t.c.object_id == Engagement.id)
    .correlate(Engagement).scalar_subquery(),
    Engagement.updated_at)


def tasks_for(principal, year: int) -> list[Task]:
    if principal is None:
        return []
    if is_agency_principal(principal):
        return _agency_tasks(year)
    out: list[Task] = []
    levels = [i for i, role in enumerate(WORKFLOW.chain) if role == principal.role]
    if levels:
        out += _to_review(principal, year, levels)
    if principal.role in WORKFLOW.submitters:
        out += _commissioned(principal, year)
    return out


def _to_review(principal, year: int, levels: list[int]) -> list[Task]:
    where = (Engagement.state == State.SUBMITTED, Engagement.review_level.in_(levels),
             Engagement.closed_at.is_(None), *_in_year(year))
    if principal.sees_everything:
        count, since = db.session.execute(
            select(func.count(Engagement.id), func.min(_LAST_EVENT)).where(*where)).one()
        if not count:
            return []
        return [Task(STAGE, _l("Engagements awaiting your approval"),
                     list_url("engagement", state=State.SUBMITTED.name), since=since,
                     count=count)]
    return [Task(STAGE, _l("Approve engagement %(code)s", code=code),
                 url_for("engagement.review", id=eng_id), since=since)
            for eng_id, code, since in db.session.execute(
                select(Engagement.id, Engagement.code, _LAST_EVENT).where(
                    *where, Engagement.org_unit_id.in_(principal.org_ids))
                .order_by(Engagement.code))]


def _commissioned(principal, year: int) -> list[Task]:
    """The commissioning party's drafts, returned engagements and engagements to close."""
    today = date.today()
    fix = (Engagement.state.in_((State.DRAFT, State.RETURNED)), Engagement.closed_at.is_(None),
           *_in_year(year))
    close = (Engagement.state == State.APPROVED, Engagement.closed_at.is_(None),
             Engagement.end_on < today, *_in_year(year))
    if principal.sees_everything:
        count, due, since = db.session.execute(
            select(func.count(Engagement.id), func.min(Engagement.end_on),
                   func.min(Engagement.updated_at)).where(*close)).one()
        if not count:
            return []
        return [Task(STAGE, _l("Engagements past their end date to close"),
                     list_url("engagement", state=State.APPROVED.name), since=since, due=due,
                     count=count)]
    if not principal.org_ids:
        return []
    # commissioned by them (not the engagements that assess their units' items)
    mine = Engagement.org_unit_id.in_(principal.org_ids)
    out = []
    for eng_id, code, state, since in db.session.execute(
            select(Engagement.id, Engagement.code, Engagement.state, _LAST_EVENT)
            .where(mine, *fix).order_by(Engagement.code)):
        title = _l("Revise and resubmit engagement %(code)s", code=code) \
            if state == State.RETURNED else _l("Complete and submit engagement %(code)s", code=code)
        out.append(Task(STAGE, title, url_for("engagement.review", id=eng_id), since=since))
    for eng_id, code, end_on, since in db.session.execute(
            select(Engagement.id, Engagement.code, Engagement.end_on, _LAST_EVENT)
            .where(mine, *close).order_by(Engagement.end_on, Engagement.code)):
        out.append(Task(STAGE, _l("Close engagement %(code)s (ended %(day)s)", code=code,
                                  day=end_on.isoformat()),
                        url_for("engagement.review", id=eng_id), since=since, due=end_on))
    return out


def _agency_tasks(year: int) -> list[Task]:
    """An agency's open engagements without recent work logs or without deliverables."""
    today = date.today()
    recent = today - timedelta(days=WORKLOG_GAP_DAYS - 1)
    last_log = (select(func.max(_log_t.c.work_date))
                .where(_log_t.c.engagement_id == Engagement.id)
                .correlate(Engagement).scalar_subquery())
    delivered = (select(_file_t.c.id).where(_file_t.c.object_type == DELIVERABLE_TYPE,
                                            _file_t.c.object_id == Engagement.id)
                 .correlate(Engagement).exists())
    rows = db.session.execute(
        select(Engagement.id, Engagement.code, Engagement.start_on, Engagement.end_on,
               Engagement.updated_at, last_log.label("last_log"), delivered.label("delivered"))
        .where(Engagement.state == State.APPROVED, Engagement.closed_at.is_(None),
               Engagement.start_on <= today, *_in_year(year))
        .order_by(Engagement.end_on, Engagement.code)).all()
    out = []
    for row in rows:
        link = url_for("agency_portal.engagement", engagement_id=row.id)
        started_long_ago = row.start_on <= today - timedelta(days=WORKLOG_GAP_DAYS)
        if row.end_on >= today and started_long_ago and \
                (row.last_log is None or row.last_log < recent):
            out.append(Task(STAGE, _l("No work logged on %(code)s in the last %(days)s days",
                                      code=row.code, days=WORKLOG_GAP_DAYS),
                            link, since=_at(row.last_log or row.start_on)))
        if not row.delivered and row.end_on <= today + timedelta(days=DELIVERABLE_NOTICE_DAYS):
            out.append(Task(STAGE, _l("Upload the deliverables of %(code)s", code=row.code),
                            link, since=row.updated_at, due=row.end_on))
    return out
