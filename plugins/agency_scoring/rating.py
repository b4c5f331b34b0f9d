"""The annual rating (年度评级), its consequences, and eligibility for selection.

Rating of an agency for a year (the year its engagements ended): the mean of
its scored engagements weighted by contract amount, less the rule's points per
poor spot-check and per veto, graded by the rule's bands and ranked among all
agencies. A draft may be recomputed; publishing makes it final and applies the
consequences (a poor grade → exclusion for N years; N fair grades in a row → a
warning). A veto already excluded the agency when it was scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import wraps

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from core.contracts import EngagementView
from core.extensions import db
from core.models import utcnow
from core.scope import unscoped
from core.services.scoring import CONTEXT, grade_label
from plugins.agency_scoring.models import (
    Appeal,
    AppealStatus,
    Assessment,
    Rating,
    RatingStatus,
    Restriction,
    RestrictionKind,
    restrictions_on,
)
from plugins.agency_scoring.rules import rules_for_year
from plugins.agency_scoring.service import AssessmentError, _years_after


def _published(session, year: int) -> bool:
    return session.scalar(select(Rating.id).where(
        Rating.year == year, Rating.status == RatingStatus.PUBLISHED).limit(1)) is not None


def _district_wide(compute):
    """Run ``compute`` over every agency's assessments, whoever asks."""
    @wraps(compute)
    def run(year: int, progress: Callable[[int, int], None] | None = None) -> list[Rating]:
        # a rating ranks every agency of the district: all assessments count, not only
        # those of the caller's org subtree
        with unscoped() as session:
            return compute(session, year, progress or (lambda done, total: None))
    return run


@_district_wide
def compute_ratings(session, year: int, progress: Callable[[int, int], None]) -> list[Rating]:
    """(Re)compute the draft ratings of ``year`` for every agency with a scored engagement;
    ``progress(done, total)`` after each agency."""
    rules = rules_for_year(year)
    if _published(session, year):
        raise AssessmentError({"year": [_(
            "The %(year)s rating is published and can no longer be changed.", year=year)]})
    session.execute(delete(Rating).where(Rating.year == year))
    by_agency: dict[int, list[Assessment]] = defaultdict(list)
    for a in session.scalars(select(Assessment).where(
            Assessment.year == year, Assessment.score.is_not(None))
            .order_by(Assessment.id)):
        by_agency[a.agency_id].append(a)
    ratings = []
    for agency_id, found in by_agency.items():
        progress(len(ratings), len(by_agency))
        amount = sum((a.contract_amount for a in found), Decimal(0))
        weighted = sum((a.score * a.contract_amount for a in found), Decimal(0))
        mean = rules.scoring.quantize(CONTEXT.divide(weighted, amount)) if amount \
            else rules.scoring.quantize(CONTEXT.divide(sum(a.score for a in found),
                                                       len(found)))
        spot_poor = sum(1 for a in found if a.spot_total is not None
                        and rules.scoring.grade(a.spot_total).code == rules.lowest_grade)
        spot = rules.spot_poor_deduction * spot_poor
        violations = rules.violation_deduction * sum(1 for a in found if a.vetoes)
        total = max(mean - spot - violations, Decimal(0))
        ratings.append(Rating(
            agency_id=agency_id, agency_name=found[-1].agency_name, year=year,
            rule_code=rules.code, engagements=len(found), amount=amount,
            weighted_mean=mean, spot_deduction=spot, violation_deduction=violations,
            score=total, grade=rules.scoring.grade(total).code, rank=0,
            status=RatingStatus.DRAFT))
    ratings.sort(key=lambda r: (-r.score, r.agency_name))
    for i, rating in enumerate(ratings):
        same = i and ratings[i - 1].score == rating.score
        rating.rank = ratings[i - 1].rank if same else i + 1
    session.add_all(ratings)
    session.flush()
    progress(len(ratings), len(by_agency))
    return ratings


def agencies_to_rate(year: int) -> int:
    """How many agencies the ``year`` rating covers (those with a scored engagement)."""
    with unscoped() as session:
        return session.scalar(select(func.count(func.distinct(Assessment.agency_id))).where(
            Assessment.year == year, Assessment.score.is_not(None))) or 0


def rating_job(progress: Callable[[int, int], None], year: int, publish: bool) -> str:
    """The background job of "compute" (or "publish") the ``year`` rating: its summary."""
    if publish:
        ratings = publish_ratings(year, progress)
        return _("The %(year)s rating of %(n)s agencies is published.", year=year,
                 n=len(ratings))
    ratings = compute_ratings(year, progress)
    return _("The %(year)s rating of %(n)s agencies is computed (draft).", year=year,
             n=len(ratings))


@_district_wide
def publish_ratings(session, year: int, progress: Callable[[int, int], None]) -> list[Rating]:
    """Make the ``year`` ratings final and apply their consequences.

    Refused while an appeal of the year is undecided (a published rating freezes
    the scores); the ratings are computed again first, so that scores given
    since the last computation count.
    """
    rules = rules_for_year(year)
    if _published(session, year):
        raise AssessmentError({"year": [_(
            "The %(year)s rating is published and can no longer be changed.", year=year)]})
    pending = session.scalar(select(func.count(Appeal.id)).join(
        Assessment, Assessment.id == Appeal.assessment_id).where(
        Assessment.year == year, Appeal.status == AppealStatus.PENDING))
    if pending:
        raise AssessmentError({"year": [_(
            "%(n)s appeal(s) of %(year)s are not decided yet; decide them before "
            "publishing the rating.", n=pending, year=year)]})
    if not session.scalar(select(func.count(Rating.id)).where(Rating.year == year)):
        raise AssessmentError({"year": [_("Compute the %(year)s rating first.", year=year)]})
    ratings = sorted(compute_ratings(year, progress), key=lambda r: r.rank)
    today, now = date.today(), utcnow()
    for rating in ratings:
        rating.status, rating.published_at = RatingStatus.PUBLISHED, now
        source = f"rating:{rating.id}"
        if rating.grade == rules.lowest_grade and rules.poor_exclusion_years:
            session.add(Restriction(
                agency_id=rating.agency_id, agency_name=rating.agency_name,
                kind=RestrictionKind.EXCLUSION, source=source, start_on=today,
                end_on=_years_after(today, rules.poor_exclusion_years) - timedelta(days=1),
                reason=_("Rated %(grade)s for %(year)s.", grade=grade_label(rating.grade),
                         year=year)))
        elif _fair_streak(session, rating, rules.fair_streak_warning):
            session.add(Restriction(
                agency_id=rating.agency_id, agency_name=rating.agency_name,
                kind=RestrictionKind.WARNING, source=source, start_on=today,
                end_on=_years_after(today, 1) - timedelta(days=1),
                reason=_("Rated %(grade)s %(n)s years in a row (to %(year)s).",
                         grade=grade_label("fair"), n=rules.fair_streak_warning,
                         year=year)))
    session.flush()
    return ratings


def _fair_streak(session, rating: Rating, streak: int) -> bool:
    if rating.grade != "fair" or streak < 1:
        return False
    earlier = session.scalars(select(Rating.grade).where(
        Rating.agency_id == rating.agency_id, Rating.status == RatingStatus.PUBLISHED,
        Rating.year >= rating.year - streak + 1, Rating.year < rating.year)).all()
    return len(earlier) == streak - 1 and all(g == "fair" for g in earlier)


# --- eligibility --------------------------------------------------------------------------

@dataclass
class Eligibility:
    agency_id: int
    day: date
    reasons: list[str] = field(default_factory=list)  # why not eligible (exclusions)
    notes: list[str] = field(default_factory=list)  # warnings and credit records

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _describe(r: Restriction) -> str:
    until = r.end_on.isoformat() if r.end_on else _("further notice")
    who = _("Staff member %(name)s", name=r.staff_name or r.staff_id) if r.staff_id \
        else _("The agency %(name)s", name=r.agency_name or r.agency_id)
    if r.kind == RestrictionKind.EXCLUSION:
        return _("%(who)s is excluded from selection until %(until)s: %(reason)s",
                 who=who, until=until, reason=r.reason)
    if r.kind == RestrictionKind.WARNING:
        return _("%(who)s has a warning until %(until)s: %(reason)s", who=who, until=until,
                 reason=r.reason)
    return _("%(who)s has a credit record: %(reason)s", who=who, reason=r.reason)


def eligibility(agency_id: int, day: date, staff_ids: list[int] | None = None) -> Eligibility:
    """May the agency (and these staff) be commissioned on ``day``? With the reasons."""
    answer = Eligibility(agency_id, day)
    for r in db.session.scalars(restrictions_on(day, agency_id)):
        if r.staff_id is not None and r.staff_id not in (staff_ids or ()):
            continue
        (answer.reasons if r.kind == RestrictionKind.EXCLUSION
         else answer.notes).append(_describe(r))
    return answer


def engagement_reasons(engagement: EngagementView) -> list[str]:
    """``jixiao_engagement_checks``: an agency or team member excluded on the start date
    (or today, when the work started earlier) is refused."""
    day = max(engagement.start_on or date.today(), date.today())
    return eligibility(engagement.agency_id, day, [s.id for s in engagement.team]).reasons
