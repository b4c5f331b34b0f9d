"""Eligibility: the API answer and the agencies plugin's approval check give the same
reasons; either plugin can be switched off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import State
from tests.plugins.agency_scoring.conftest import make_engagement, user


def _restrict(agency_id: int, *, staff_id: int | None = None, kind: str = "exclusion",
              start: date | None = None, days: int = 30) -> None:
    from plugins.agency_scoring.models import Restriction, RestrictionKind

    start = start or date.today()
    db.session.add(Restriction(agency_id=agency_id, agency_name="测试机构", staff_id=staff_id,
                               staff_name="测试员" if staff_id else "",
                               kind=RestrictionKind(kind), reason="测试限制原因",
                               start_on=start, end_on=start + timedelta(days=days)))
    db.session.commit()


def _approve(eng_id: int) -> list[str]:
    from plugins.agencies import service
    from plugins.agencies.models import Engagement

    eng = db.session.get(Engagement, eng_id)
    try:
        service.transition(eng, "approve", user("finance"))
    except service.EngagementError as exc:
        db.session.rollback()
        return exc.problems
    db.session.rollback()  # the test only asks whether it would pass
    return []


def test_the_eligibility_api_answers_with_reasons_by_date(app, engagements, token_for):
    agency = engagements.agency_ids[0]
    with app.app_context():
        _restrict(agency, start=date.today() + timedelta(days=10), days=30)
        _restrict(agency, kind="warning", days=5)
    client = app.test_client()
    dept = token_for("dept01")
    url = f"/api/v1/agencies/{agency}/eligibility"
    now = client.get(url, headers=dept).get_json()
    assert now["eligible"] is True and now["reasons"] == [] and len(now["notes"]) == 1
    then = date.today() + timedelta(days=20)
    later = client.get(f"{url}?date={then}", headers=dept).get_json()
    assert later["eligible"] is False and later["date"] == then.isoformat()
    assert "测试限制原因" in later["reasons"][0]
    after = client.get(f"{url}?date={date.today() + timedelta(days=60)}", headers=dept)
    assert after.get_json()["eligible"] is True
    bad = client.get(f"{url}?date=2026-13-01", headers=dept)
    assert bad.status_code == 422 and "date" in str(bad.get_json()["details"])


def test_the_agencies_approval_check_refuses_an_excluded_agency(app, engagements):
    agency = engagements.agency_ids[0]
    with app.app_context():
        eng_id = make_engagement(agency, engagements.staff_ids[0][:2], engagements.tag, 7,
                                 state=State.SUBMITTED)
        db.session.commit()
        assert _approve(eng_id) == []
        _restrict(agency, start=date(2020, 1, 1), days=365 * 20)
        problems = _approve(eng_id)
        assert any("测试限制原因" in p for p in problems)


def test_the_approval_check_refuses_a_team_member_under_restriction(app, engagements):
    agency = engagements.agency_ids[0]
    staff = engagements.staff_ids[0]
    with app.app_context():
        _restrict(agency, staff_id=staff[2], start=date(2020, 1, 1), days=365 * 20)
        on_team = make_engagement(agency, [staff[0], staff[2]], engagements.tag, 8,
                                  state=State.SUBMITTED)
        off_team = make_engagement(agency, [staff[0]], engagements.tag, 9,
                                   state=State.SUBMITTED)
        db.session.commit()
        assert any("测试员" in p for p in _approve(on_team))
        assert _approve(off_team) == []


def test_the_review_page_shows_the_reason(app, engagements, login):
    agency = engagements.agency_ids[0]
    with app.app_context():
        eng_id = make_engagement(agency, engagements.staff_ids[0][:2], engagements.tag, 6,
                                 state=State.SUBMITTED)
        _restrict(agency, start=date(2020, 1, 1), days=365 * 20)
    page = login("finance").get(f"/admin/engagement/review/?id={eng_id}")
    assert page.status_code == 200 and "测试限制原因" in page.text


def test_restrictions_hold_up_no_approval_while_scoring_is_off(make_app, engagements):
    """Pages and API of the plugin switched off: tests/plugins/test_disabled.py."""
    off = make_app(DISABLED_PLUGINS=["agency_scoring"])
    with off.app_context():
        _restrict(engagements.agency_ids[0], start=date(2020, 1, 1), days=365 * 20)
        eng_id = make_engagement(engagements.agency_ids[0], engagements.staff_ids[0][:2],
                                 engagements.tag, 5, state=State.SUBMITTED)
        db.session.commit()
        assert _approve(eng_id) == []  # nobody asks about restrictions now


@pytest.fixture(autouse=True)
def _restrictions_removed(app):
    yield
    from plugins.agency_scoring.models import Restriction

    with app.app_context():
        for r in db.session.scalars(select(Restriction).where(
                Restriction.reason == "测试限制原因")):
            db.session.delete(r)
        db.session.commit()
