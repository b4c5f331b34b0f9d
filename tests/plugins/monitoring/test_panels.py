"""The monitoring panel on a budget item's page: each round's light and execution rate."""

from __future__ import annotations

from decimal import Decimal

from core.extensions import db
from core.models import BudgetItem
from core.plugins import hooks
from plugins.monitoring.models import Light
from tests.plugins.monitoring.test_tasks import set_record
from tests.support import signed_in


def test_the_panel_shows_each_round_with_its_light(app, world):
    set_record(app, world.record_ids[0], light=int(Light.YELLOW),
               execution_rate=Decimal("41.50"))
    with signed_in(app, "unit0101"):
        item = db.session.get(BudgetItem, world.item_ids[0])
        (panel,) = [p for p in hooks().item_panels(item=item) if p.stage == "monitoring"]
    assert "测试批次" in panel.html and "黄灯" in panel.html and "#ffc107" in panel.html
    assert "41.50%" in panel.html and "1,000.00" in panel.html
    with signed_in(app, "unit0201"):
        item = db.session.get(BudgetItem, world.item_ids[0])
        assert item is None  # outside the scope: no page, no panel
