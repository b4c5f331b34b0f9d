"""The catalogue panel on a budget item's page: the catalogue entries naming the item, with
the catalogue's state in words, the planned year and whether it was evaluated."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import login_user

from core.extensions import db
from core.models import BudgetItem, State
from core.plugins import hooks
from core.scope import unscoped
from tests.plugins.catalogue.test_tasks import CYCLE, catalogue  # noqa: F401 (fixture)
from tests.support import user


def panels_of(app, username: str, item_id: int) -> list[str]:
    with app.test_request_context():
        login_user(user(username))
        with unscoped() as session:  # the page's item, even for a reader outside its scope
            item = session.get(BudgetItem, item_id)
        return [str(p.html) for p in hooks().item_panels(item=item) if p.stage == "catalogue"]


def test_the_panel_lists_the_entry_and_its_coverage(app, catalogue):  # noqa: F811
    from plugins.catalogue.models import CoverageRecord

    cat_id, entry_id, item_id = catalogue(State.APPROVED, planned_year=CYCLE + 1)
    with app.app_context():
        amount = db.session.get(BudgetItem, item_id).amount
    [html] = panels_of(app, "dept01", item_id)
    assert f"{amount:,.2f}" in html  # with thousands separators
    assert "已审核通过" in html and str(CYCLE + 1) in html and "尚未评价" in html
    assert f"/admin/catalogue/catalogue/?id={cat_id}" in html
    # a unit sees its item's entry, linked to the entry (it may not open catalogues)
    [html] = panels_of(app, "unit0101", item_id)
    assert f"/admin/catalogueentry/details/?id={entry_id}" in html
    assert panels_of(app, "dept02", item_id) == []

    with app.app_context():
        db.session.add(CoverageRecord(
            entry_id=entry_id, org_unit_id=db.session.get(BudgetItem, item_id).org_unit_id,
            evaluation_id=999998, evaluation_kind="department_key", fiscal_year=CYCLE + 1,
            score=Decimal("91.00"), grade="A", finalized_at=datetime(CYCLE + 1, 10, 1, 8, 0)))
        db.session.commit()
    [html] = panels_of(app, "dept01", item_id)
    assert "尚未评价" not in html and html.count(str(CYCLE + 1)) >= 2


def test_an_item_in_no_catalogue_has_no_panel(app, catalogue):  # noqa: F811
    _c, _e, item_id = catalogue(State.DRAFT)  # the catalogue lists nothing
    assert panels_of(app, "dept01", item_id) == []
