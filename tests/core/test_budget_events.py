"""Plugins hear about every budget item that is created or changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit
from core.plugins import hookimpl


class Listener:
    def __init__(self, veto: bool = False):
        self.seen: list[tuple[str, Decimal]] = []
        self.veto = veto

    @hookimpl
    def jixiao_budget_item_changed(self, item):
        self.seen.append((item.code, item.amount))
        if self.veto:
            raise ValueError("refused by a plugin")


@pytest.fixture
def listener(app):
    pm = app.extensions["jixiao_plugins"]
    plugin = Listener()
    pm.register(plugin, name="test-budget-listener")
    yield plugin
    pm.unregister(plugin)


def _new_item(code: str) -> BudgetItem:
    year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
    return BudgetItem(code=code, name="广播测试项目", fiscal_year_id=year.id, org_unit_id=unit.id,
                      kind="project", amount=Decimal("100.00"))


def test_created_and_changed_items_are_broadcast(app, listener):
    with app.app_context():
        item = _new_item("2026-BCAST-1")
        db.session.add(item)
        db.session.commit()
        assert listener.seen == [("2026-BCAST-1", Decimal("100.00"))]
        item.amount = Decimal("250.00")
        db.session.commit()
        assert listener.seen[-1] == ("2026-BCAST-1", Decimal("250.00"))
        count = len(listener.seen)
        db.session.commit()  # nothing changed: nothing broadcast
        assert len(listener.seen) == count
        db.session.delete(item)
        db.session.commit()


def test_a_plugin_raising_undoes_the_change(app, listener):
    listener.veto = True
    with app.app_context():
        db.session.add(_new_item("2026-BCAST-2"))
        with pytest.raises(ValueError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(BudgetItem).where(
            BudgetItem.code == "2026-BCAST-2")) is None
