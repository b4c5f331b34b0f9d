"""What the targets plugin tells other plugins: approved targets, through core.contracts."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from core import contracts
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, State
from core.plugins import hooks
from core.scope import principal_for


def _year_with_approved(app) -> int:
    from plugins.targets.models import TargetSheet

    return db.session.scalar(
        select(FiscalYear.year).join(TargetSheet, TargetSheet.fiscal_year_id == FiscalYear.id)
        .where(TargetSheet.state == State.APPROVED).order_by(FiscalYear.year).limit(1))


def test_approved_targets_hold_only_approved_sheets_with_their_indicators(app):
    from plugins.targets.models import TargetIndicator, TargetSheet

    with app.app_context():
        year = _year_with_approved(app)
        found = hooks().approved_targets(year=year)
        approved = dict(db.session.execute(
            select(TargetSheet.budget_item_id, TargetSheet.id)
            .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
            .where(FiscalYear.year == year, TargetSheet.state == State.APPROVED)).all())
        assert approved and {k: v.sheet_id for k, v in found.items()} == approved
        sheet = db.session.get(TargetSheet, next(iter(approved.values())))
        view = found[sheet.budget_item_id]
        assert [i.name for i in view.indicators] == [i.name for i in sheet.indicators]
        assert view.indicators[0].weight == sheet.indicators[0].weight
        # a sheet that is not approved is not there
        other = db.session.scalar(select(TargetSheet).where(TargetSheet.state != State.APPROVED))
        if other is not None:
            assert other.budget_item_id not in hooks().approved_targets(
                item_ids=[other.budget_item_id])
        # the set-based form holds the same indicators
        rows = db.session.execute(hooks().approved_indicator_select(year)).mappings().all()
        assert set(rows[0].keys()) == set(contracts.INDICATOR_COLUMNS)
        assert len(rows) == db.session.scalar(
            select(func.count(TargetIndicator.id)).where(
                TargetIndicator.sheet_id.in_(list(approved.values()))))


def test_approved_targets_follow_the_callers_scope(app):
    from core.models import User

    with app.app_context():
        year = _year_with_approved(app)
        everything = hooks().approved_targets(year=year)
        user = db.session.scalar(select(User).where(User.username == "dept01"))
        dept = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
        with app.test_request_context():
            g.jixiao_principal = principal_for(user)
            mine = hooks().approved_targets(year=year)
        units = set(db.session.scalars(select(OrgUnit.id).where(
            OrgUnit.path.startswith(dept.path))))
        expected = {k for k, v in everything.items() if v.org_unit_id in units}
        assert set(mine) == expected and len(mine) < len(everything)
        assert all(db.session.get(BudgetItem, k).org_unit_id in units for k in mine)


def test_no_targets_plugin_means_no_targets(make_app):
    off = make_app(DISABLED_PLUGINS=["targets"])
    with off.app_context():
        assert hooks().approved_targets(year=2026) == {}
        assert hooks().approved_indicator_select(2026) is None
