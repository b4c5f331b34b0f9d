"""What the agencies plugin tells other plugins: engagements and an agency user's agency."""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import User
from core.plugins import hooks
from core.scope import principal_for
from tests.support import member_agency


def test_engagement_views_carry_team_logged_hours_and_deliverables(app, world, token_for):
    eng = world.engagement_ids[0]
    r = app.test_client().post(f"/api/v1/engagements/{eng}/deliverables",
                               headers=token_for("agency01"),
                               data={"file": (io.BytesIO(b"%PDF-1.4 r"), "报告.pdf")},
                               content_type="multipart/form-data")
    assert r.status_code == 201
    with app.app_context():
        [view] = hooks().engagements(ids=[eng])
        assert view.agency_id == world.agency_ids[0]
        assert [s.id for s in view.team] == world.staff_ids[0][:2]
        assert view.logged_hours == {world.staff_ids[0][0]: Decimal("3.00")}
        assert [d.filename for d in view.deliverables] == ["报告.pdf"]
        assert view.budget_item_ids == (world.item_ids[0],)
        assert view.evaluated_amount == Decimal("2000000.00")
        assert view.closed_at is None
        assert eng not in {v.id for v in hooks().engagements(ids=[eng], closed=True)}
        theirs = hooks().engagements(agency_id=world.agency_ids[1], ids=world.engagement_ids)
        assert [v.id for v in theirs] == [world.engagement_ids[1]]


def test_principal_of_an_agency_user_names_the_agency(app):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "agency02"))
        with app.test_request_context():
            assert principal_for(user).agency_id == member_agency("agency02")
        staff = db.session.scalar(select(User).where(User.username == "dept01"))
        with app.test_request_context():
            assert principal_for(staff).agency_id is None


def test_the_agency_hooks_answer_for_agency_users_only(app):
    """``jixiao_principal_agency`` for one user, ``jixiao_principal_agency_column`` in SQL
    (how a token's user is loaded with its agency in one statement): the same answers."""
    from core.plugins import hooks

    names = ["agency01", "agency02", "dept01", "finance"]
    with app.app_context():
        expected = {"agency01": member_agency("agency01"), "agency02": member_agency("agency02"),
                    "dept01": None, "finance": None}
        assert expected["agency01"] != expected["agency02"]
        users = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_(names)))}
        assert {n: hooks().principal_agency(user=users[n]) for n in names} == expected
        column = hooks().principal_agency_column(user_id=User.id)
        assert dict(db.session.execute(select(User.username, column).where(
            User.username.in_(names))).all()) == expected


def test_no_agencies_plugin_means_no_engagements(make_app):
    off = make_app(DISABLED_PLUGINS=["agencies"])
    with off.app_context():
        assert hooks().engagements() == []
        user = db.session.scalar(select(User).where(User.username == "agency01"))
        with off.test_request_context():
            assert principal_for(user).agency_id is None
