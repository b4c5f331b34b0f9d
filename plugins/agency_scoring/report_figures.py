"""The agency rating figures of the bureau's annual report (``jixiao_report_figures``):
the published annual ratings of the year by grade."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.services.report_figures import ReportFigure, count_and_amount
from core.services.scoring import grade_label
from plugins.agency_scoring.models import Rating, RatingStatus

GRADES = ("excellent", "good", "fair", "poor")


def report_figures(year: int) -> list[ReportFigure]:
    ratings = select(Rating.id, Rating.amount).where(
        Rating.year == year, Rating.status == RatingStatus.PUBLISHED)
    whole, _amount = count_and_amount(ratings)
    if not whole:
        return []
    link = url_for("agency_rating.index_view")
    out = [ReportFigure("agencies", "agency_scoring.rated",
                        _l("Agencies rated for the year (published ratings)"), whole, link,
                        order=10)]
    for n, grade in enumerate(GRADES, start=11):
        count, _amount = count_and_amount(ratings.where(Rating.grade == grade))
        out.append(ReportFigure("agencies", f"agency_scoring.{grade}",
                                _l("Rated %(grade)s", grade=grade_label(grade)), count, link,
                                of=whole, order=n))
    return out
