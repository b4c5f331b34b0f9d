"""What waits for whom in the agency-assessment stage (``jixiao_tasks``).

- the commissioning party: assessments of its closed engagements awaiting its score
  (the finance bureau: one queue for the district);
- the finance bureau: appeals to decide, and the year's rating to compute or publish
  once every assessment of the year is scored;
- agency users: scored assessments they may still appeal, until the appeal period ends.

An assessment belongs to the year its engagement's work ended (``Assessment.year``).
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.permissions import can
from core.web.admin.base import list_url
from plugins.agency_scoring.models import (
    Appeal,
    AppealStatus,
    Assessment,
    AssessmentStatus,
    Rating,
    RatingStatus,
    is_agency_side,
)

STAGE = "agency_scoring"



def tasks_for(principal, year: int) -> list[Task]:
    if principal is None or not current_user.is_authenticated:
        return []
    if is_agency_side(principal):
        return _appeals_open(year) if can(current_user, "agency_appeal.file") else []
    out: list[Task] = []
    if can(current_user, "agency_assessment.score"):
        out += _to_score(principal, year)
    if can(current_user, "agency_appeal.decide"):
        out += _to_decide(year)
    if can(current_user, "agency_rating.manage"):
        out += _rating(year)
    return out


def _to_score(principal, year: int) -> list[Task]:
    where = (Assessment.status == AssessmentStatus.OPEN, Assessment.year == year)
    if principal.sees_everything:
        count, since = db.session.execute(select(
            func.count(Assessment.id),
            func.min(func.coalesce(Assessment.closed_at, Assessment.created_at)))
            .where(*where)).one()
        return [Task(STAGE, _l("Agency assessments awaiting the commissioning party's score"),
                     list_url("agency_assessment", year=year,
                              status=AssessmentStatus.OPEN.name), since=since, count=count)] \
            if count else []
    if not principal.org_ids:
        return []
    return [Task(STAGE, _l("Score agency %(agency)s on engagement %(code)s", agency=agency,
                           code=code), url_for("agency_assessment.page", id=aid),
                 since=closed or created)
            for aid, code, agency, closed, created in db.session.execute(
                select(Assessment.id, Assessment.code, Assessment.agency_name,
                       Assessment.closed_at, Assessment.created_at)
                .where(*where, Assessment.org_unit_id.in_(principal.org_ids))
                .order_by(Assessment.code))]


def _to_decide(year: int) -> list[Task]:
    count, since = db.session.execute(
        select(func.count(Appeal.id), func.min(Appeal.created_at))
        .join(Assessment, Assessment.id == Appeal.assessment_id)
        .where(Appeal.status == AppealStatus.PENDING, Assessment.year == year)).one()
    return [Task(STAGE, _l("Agency appeals to decide"),
                 list_url("agency_appeal", status=AppealStatus.PENDING.name), since=since,
                 count=count)] if count else []


def _rating(year: int) -> list[Task]:
    """Compute, then publish, the year's rating once its assessments are all scored
    and its appeals decided."""
    scored, open_, last = db.session.execute(select(
        func.count(Assessment.id).filter(Assessment.status == AssessmentStatus.SCORED),
        func.count(Assessment.id).filter(Assessment.status == AssessmentStatus.OPEN),
        func.max(Assessment.updated_at)).where(Assessment.year == year)).one()
    if not scored or open_:
        return []
    ratings, published, computed = db.session.execute(select(
        func.count(Rating.id), func.count(Rating.id).filter(
            Rating.status == RatingStatus.PUBLISHED), func.max(Rating.updated_at))
        .where(Rating.year == year)).one()
    if published:
        return []
    link = url_for("agency_scoring_overview.index", year=year)
    if not ratings or (computed is not None and last is not None and last > computed):
        return [Task(STAGE, _l("Compute the %(year)s agency ratings", year=year), link,
                     since=last)]
    if _to_decide(year):
        return []  # publishing waits for the appeals (their task is shown)
    return [Task(STAGE, _l("Publish the %(year)s agency ratings", year=year), link,
                 since=computed)]


def _appeals_open(year: int) -> list[Task]:
    today = date.today()
    appealed = select(Appeal.id).where(Appeal.assessment_id == Assessment.id) \
        .correlate(Assessment).exists()
    final = select(Rating.id).where(
        Rating.agency_id == Assessment.agency_id, Rating.year == Assessment.year,
        Rating.status == RatingStatus.PUBLISHED).correlate(Assessment).exists()
    return [Task(STAGE, _l("You may appeal the score of %(code)s (%(score)s) until %(day)s",
                           code=code, score=score, day=until.isoformat()),
                 url_for("agency_assessment.page", id=aid), since=at, due=until)
            for aid, code, score, until, at in db.session.execute(
                select(Assessment.id, Assessment.code, Assessment.score,
                       Assessment.appeal_until, Assessment.updated_at)
                .where(Assessment.year == year, Assessment.score.is_not(None),
                       Assessment.appeal_until >= today, ~appealed, ~final)
                .order_by(Assessment.appeal_until, Assessment.code))]
