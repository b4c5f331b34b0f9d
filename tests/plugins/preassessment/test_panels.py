"""The pre-assessment panel on a budget item's page: state and, once final, the conclusion."""

from __future__ import annotations

from decimal import Decimal

from core.extensions import db
from core.models import BudgetItem, State, utcnow
from core.plugins import hooks
from plugins.preassessment.models import Conclusion
from tests.plugins.preassessment.conftest import make_pa
from tests.support import signed_in


def panels(app, username, item_id):
    with signed_in(app, username):
        item = db.session.get(BudgetItem, item_id)
        return [p.html for p in hooks().item_panels(item=item) if p.stage == "preassessment"] \
            if item is not None else []


def test_the_conclusion_shows_once_final(app, world):
    assert panels(app, "unit0101", world.big) == []
    make_pa(app, world.big, state=State.APPROVED, conclusion=Conclusion.ADJUST,
            recommended_amount=Decimal("6500000.00"))
    (draft,) = panels(app, "unit0101", world.big)
    assert "自评估已受理" in draft and "8,000,000.00" in draft
    assert "6,500,000.00" not in draft  # a draft conclusion is the bureau's own
    assert "6,500,000.00" in panels(app, "finance", world.big)[0]
    make_pa(app, world.big, final_at=utcnow())
    (final,) = panels(app, "unit0101", world.big)
    assert "部分支持（调整后支持）" in final and "6,500,000.00" in final
    assert panels(app, "unit0201", world.big) == []  # outside its scope
