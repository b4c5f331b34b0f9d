"""The agencies panel on a budget item's page: the engagements covering the item."""

from __future__ import annotations

from datetime import datetime

from flask_login import login_user
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem
from core.plugins import hooks
from tests.support import user


def panels_of(app, username: str, item_id: int) -> list:
    with app.test_request_context():
        login_user(user(username))
        # the page shows the item (an agency user reaches it through its engagement)
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.id == item_id)
                                 .execution_options(jixiao_unscoped=True))
        return [(str(p.title), str(p.html)) for p in hooks().item_panels(item=item)
                if p.stage == "agencies"]


def test_the_panel_lists_the_engagements_of_the_item(app, world):
    from plugins.agencies.models import Engagement

    with app.app_context():
        eng = db.session.get(Engagement, world.engagement_ids[0])
        code, agency = eng.code, eng.agency.name
        eng.closed_at = datetime(2026, 6, 30, 17, 5)  # stored in UTC
        db.session.commit()
    [(title, html)] = panels_of(app, "dept01", world.item_ids[0])
    assert title == "第三方机构委托"
    assert code in html and agency in html
    assert "150,000.00" in html
    assert "2026-03-01 – 2026-10-31" in html
    assert "已结束" in html
    assert "2026-07-01 01:05" in html  # Asia/Shanghai, to the minute
    assert f'/admin/engagement/review/?id={world.engagement_ids[0]}' in html
    # the agency reads it in its portal; another agency sees no panel on this item
    [(_title, portal_html)] = panels_of(app, "agency01", world.item_ids[0])
    assert f"/portal/engagements/{world.engagement_ids[0]}" in portal_html
    assert panels_of(app, "agency02", world.item_ids[0]) == []


def test_an_item_without_engagements_has_no_panel(app, world):
    with app.app_context():
        year_item = db.session.get(BudgetItem, world.item_ids[0])
        other = BudgetItem(code=f"2026-AGNONE{world.tag}", name="无委托项目",
                           fiscal_year_id=year_item.fiscal_year_id,
                           org_unit_id=year_item.org_unit_id, kind="project",
                           amount=year_item.amount)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    try:
        assert panels_of(app, "dept01", other_id) == []
        assert panels_of(app, "finance", world.item_ids[1]) != []
    finally:
        with app.app_context():
            db.session.delete(db.session.get(BudgetItem, other_id))
            db.session.commit()
