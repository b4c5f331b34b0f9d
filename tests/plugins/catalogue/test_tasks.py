"""The catalogue stage's 待办: the department draws up, confirms and fixes its catalogue and
runs the key evaluations planned for the year; the finance bureau approves (a count)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import BudgetItem, OrgUnit, State
from core.plugins import hooks
from core.scope import current_principal, unscoped
from tests.support import user

CYCLE = 2031  # after the demo catalogues' cycle: the test's own catalogue


def tasks_of(app, username: str, year: int) -> list[dict]:
    with app.test_request_context():
        login_user(user(username))
        return [{"title": str(t.title), "link": t.link, "due": t.due, "count": t.count}
                for t in hooks().tasks(principal=current_principal(), year=year)
                if t.stage == "catalogue"]


@pytest.fixture
def catalogue(app):
    """``make(state, planned_year=None)`` → a D01 catalogue of the 2031 cycle (with one entry
    on a D01U01 item when ``planned_year`` is given): (catalogue id, entry id, item id)."""
    from plugins.catalogue.models import Catalogue, CatalogueEntry, CoverageRecord

    made: list[int] = []

    def make(state: State, planned_year: int | None = None):
        with app.app_context():
            d01 = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
            listed = select(CatalogueEntry.budget_item_id)
            item = db.session.scalar(select(BudgetItem).where(
                BudgetItem.org_unit_id == unit.id, BudgetItem.id.not_in(listed))
                .order_by(BudgetItem.id).limit(1))
            cat = Catalogue(org_unit_id=d01.id, cycle_start=CYCLE, cycle_years=5,
                            rules_code="test", state=state,
                            review_level=1 if state == State.APPROVED else 0)
            db.session.add(cat)
            db.session.flush()
            entry_id = None
            if planned_year is not None:
                entry = CatalogueEntry(catalogue_id=cat.id, budget_item_id=item.id,
                                       org_unit_id=item.org_unit_id, reason="key_task",
                                       amount=item.amount, planned_year=planned_year)
                db.session.add(entry)
                db.session.flush()
                entry_id = entry.id
            db.session.commit()
            made.append(cat.id)
            return cat.id, entry_id, item.id

    yield make
    with app.app_context():
        entries = select(CatalogueEntry.id).where(CatalogueEntry.catalogue_id.in_(made))
        db.session.execute(delete(CoverageRecord).where(CoverageRecord.entry_id.in_(entries)))
        db.session.execute(delete(CatalogueEntry).where(CatalogueEntry.catalogue_id.in_(made)))
        db.session.execute(delete(Catalogue).where(Catalogue.id.in_(made)))
        db.session.commit()


def _set_state(app, cat_id: int, state: State) -> None:
    from plugins.catalogue.models import Catalogue

    with app.app_context():
        cat = db.session.get(Catalogue, cat_id)
        cat.state, cat.review_level = state, 0
        db.session.commit()


def test_the_department_confirms_then_finance_approves(app, catalogue):
    from plugins.catalogue.models import Catalogue

    year = CYCLE + 2
    assert tasks_of(app, "dept01", year) == []
    cat_id, _e, _i = catalogue(State.DRAFT)
    link = f"/admin/catalogue/catalogue/?id={cat_id}"
    mine = tasks_of(app, "dept01", year)
    confirm = [t for t in mine if t["link"] == link]
    assert len(confirm) == 1 and confirm[0]["title"].startswith("确认")
    assert f"{CYCLE}–{CYCLE + 4}" in confirm[0]["title"]
    assert not [t for t in tasks_of(app, "dept02", year) if t["link"] == link]
    assert tasks_of(app, "unit0101", year) == []

    _set_state(app, cat_id, State.SUBMITTED)
    assert not [t for t in tasks_of(app, "dept01", year) if t["link"] == link]
    [queue] = tasks_of(app, "finance", year)
    with app.app_context(), unscoped() as session:
        waiting = session.scalar(select(func.count(Catalogue.id)).where(
            Catalogue.state == State.SUBMITTED, Catalogue.cycle_start <= year,
            Catalogue.cycle_start + Catalogue.cycle_years > year))
    assert queue["count"] == waiting == 1 and queue["link"].startswith("/admin/catalogue/")

    _set_state(app, cat_id, State.RETURNED)
    fix = [t for t in tasks_of(app, "dept01", year) if t["link"] == link]
    assert len(fix) == 1 and "退回" in fix[0]["title"]
    assert tasks_of(app, "finance", year) == []


def test_an_entry_planned_for_the_year_waits_until_it_is_evaluated(app, catalogue):
    from plugins.catalogue.models import CoverageRecord

    year = CYCLE + 1
    cat_id, entry_id, item_id = catalogue(State.APPROVED, planned_year=year)
    with app.app_context():
        code = db.session.get(BudgetItem, item_id).code

    planned = [t for t in tasks_of(app, "dept01", year) if code in t["title"]]
    assert len(planned) == 1 and planned[0]["due"] == date(year, 12, 31)
    assert planned[0]["link"] == f"/admin/catalogue/catalogue/?id={cat_id}"
    assert not [t for t in tasks_of(app, "dept01", year + 1) if code in t["title"]]
    assert not [t for t in tasks_of(app, "dept02", year) if code in t["title"]]

    with app.app_context():
        db.session.add(CoverageRecord(
            entry_id=entry_id, org_unit_id=db.session.get(BudgetItem, item_id).org_unit_id,
            evaluation_id=999999, evaluation_kind="department_key", fiscal_year=year,
            score=Decimal("88.00"), grade="B", finalized_at=datetime(year, 11, 1, 8, 0)))
        db.session.commit()
    assert not [t for t in tasks_of(app, "dept01", year) if code in t["title"]]


def test_the_stage_is_the_menu_category_in_stage_order(app):
    with app.test_request_context():
        stage = hooks().stages()["catalogue"]
        assert (str(stage.label), stage.order) == ("重点绩效评价目录", 50)
