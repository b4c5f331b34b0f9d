"""The service-fee panel on a budget item's page: the quotes of its engagements."""

from __future__ import annotations

from flask_login import login_user
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem
from core.plugins import hooks
from tests.plugins.agency_fees.conftest import api_post
from tests.plugins.agency_fees.test_engagement_fees import NEAR
from tests.support import user


def panels_of(app, username: str, item_code: str) -> list:
    with app.test_request_context():
        login_user(user(username))
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.code == item_code)
                                 .execution_options(jixiao_unscoped=True))
        return [(str(p.title), str(p.html)) for p in hooks().item_panels(item=item)
                if p.stage == "agency_fees"]


def test_the_panel_shows_the_quotes_of_the_items_engagements_with_their_total(
        app, login, code, make_schedule, engagements):
    make_schedule()
    item = f"2026-FEE{engagements['tag']}"
    assert panels_of(app, "finance", item) == []  # engagements, but no quote yet
    d01, d02 = engagements["ids"]
    for eid, who in ((d01, "dept01"), (d02, "dept02")):
        r = api_post(login(who), "/api/v1/fees/quotes", {"engagement_id": eid, **NEAR,
                                                          "schedule_code": code})
        assert r.status_code == 201, r.get_json()
    [(title, html)] = panels_of(app, "finance", item)
    assert title == "服务费测算"
    assert "153,678.80" in html and "307,357.60" in html  # each quote, and both
    assert "300,000.00" in html  # the two contracts
    assert "容差范围内" in html or "需说明理由" in html
    # a department sees only the quote of the engagement it commissioned
    [(_t, mine)] = panels_of(app, "dept01", item)
    assert mine.count("153,678.80") == 2 and "307,357.60" not in mine
