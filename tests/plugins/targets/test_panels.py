"""The targets panel on a budget item's page: the sheet's state with its level, in words."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, State
from core.plugins import hooks
from tests.plugins.targets.test_tasks import set_state
from tests.support import signed_in


def panels(app, username, item_id):
    with signed_in(app, username):
        item = db.session.get(BudgetItem, item_id)
        return [p for p in hooks().item_panels(item=item) if p.stage == "targets"] \
            if item is not None else []


def test_the_panel_shows_the_state_with_its_level(app, draft_items):
    item_id, code = draft_items[0]
    assert panels(app, "finance", item_id) == []  # no sheet yet
    sheet_id = set_state(app, item_id, State.SUBMITTED, 1)
    (panel,) = panels(app, "finance", item_id)
    assert panel.title == "绩效目标"
    assert "待财政审核" in panel.html
    assert f"/admin/targetsheet/sheet/?id={sheet_id}" in panel.html
    assert 'jixiao-indicator-count">0<' in panel.html
    set_state(app, item_id, State.SUBMITTED, 0)
    assert "待部门审核" in panels(app, "dept01", item_id)[0].html
    set_state(app, item_id, State.RETURNED)
    assert "已退回" in panels(app, "unit0101", item_id)[0].html


def test_the_panel_counts_the_indicators(app):
    from plugins.targets.models import TargetSheet

    with app.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(
            TargetSheet.state == State.APPROVED).order_by(TargetSheet.id).limit(1))
        item_id, count = sheet.budget_item_id, len(sheet.indicators)
    (panel,) = panels(app, "finance", item_id)
    assert f'jixiao-indicator-count">{count}<' in panel.html and "已通过" in panel.html
