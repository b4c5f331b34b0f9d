"""The demo data of this stage: two years of scored engagements, a published rating, one
appeal and one agency under restriction — visible on the dashboard."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.extensions import db


def test_demo_has_two_years_an_appeal_and_a_restricted_agency(app, login):
    from plugins.agency_scoring.models import (
        Appeal,
        Assessment,
        Rating,
        RatingStatus,
        RestrictionKind,
        restrictions_on,
    )

    with app.app_context():
        years = db.session.scalars(select(Assessment.year).distinct().where(
            Assessment.score.is_not(None))).all()
        assert len(set(years)) >= 2
        assert db.session.scalar(select(func.count(Appeal.id))) >= 1
        assert db.session.scalar(select(func.count(Rating.id)).where(
            Rating.status == RatingStatus.PUBLISHED)) >= 4
        excluded = {r.agency_id for r in db.session.scalars(restrictions_on(date.today()))
                    if r.kind == RestrictionKind.EXCLUSION}
        assert len(excluded) >= 1
    home = login("finance").get("/admin/").text
    assert "机构评级" in home and "受限机构" in home
