"""Figures of the overview page and the dashboard card: grade distribution by year,
agencies under restriction, restrictions that end soon. Queries run under the row scope."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from core.extensions import db
from plugins.agency_scoring.models import Rating, Restriction, RestrictionKind, restrictions_on

GRADES = ("excellent", "good", "fair", "poor")
EXPIRING_DAYS = 90


def latest_year() -> int | None:
    return db.session.scalar(select(func.max(Rating.year)))


def under_restriction(day: date) -> list[Restriction]:
    return list(db.session.scalars(restrictions_on(day).where(
        Restriction.kind == RestrictionKind.EXCLUSION)))


def overview(year: int | None = None) -> dict[str, Any]:
    today = date.today()
    year = year or latest_year() or today.year
    ratings = list(db.session.scalars(select(Rating).where(Rating.year == year)
                                      .order_by(Rating.rank, Rating.id)))
    counts = Counter(r.grade for r in ratings)
    top = max(counts.values(), default=0) or 1
    distribution = [{"grade": g, "count": counts.get(g, 0),
                     "width": round(100 * counts.get(g, 0) / top)} for g in GRADES]
    active = under_restriction(today)
    expiring = [r for r in active if r.end_on and r.end_on <= today + timedelta(EXPIRING_DAYS)]
    years = list(db.session.scalars(select(Rating.year).distinct().order_by(Rating.year.desc())))
    return {"year": year, "years": years, "ratings": ratings, "distribution": distribution,
            "restricted": active, "expiring": expiring, "expiring_days": EXPIRING_DAYS}
