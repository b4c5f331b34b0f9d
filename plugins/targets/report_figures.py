"""The target figures of the bureau's annual report (``jixiao_report_figures``).

Coverage of the year's budget items by approved target sheets: all items, the
departments' overall expenditure (整体目标), and the towns' items (区镇两级); a
figure whose whole is empty (no town items, say) is left out.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgKind, OrgUnit, State
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.targets.models import TargetSheet


def _town_units() -> list[int]:
    """The org units of the towns (the towns, their departments and units)."""
    towns = [path for path, in db.session.execute(
        select(OrgUnit.path).where(OrgUnit.kind == OrgKind.TOWN))]
    return [org_id for org_id, path in db.session.execute(select(OrgUnit.id, OrgUnit.path))
            if any(path.startswith(town) for town in towns)]


def report_figures(year: int) -> list[ReportFigure]:
    approved = exists().where(TargetSheet.budget_item_id == BudgetItem.id,
                              TargetSheet.state == State.APPROVED)
    items = (select(BudgetItem.id, BudgetItem.amount)
             .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
             .where(FiscalYear.year == year))
    link = url_for("targetcoverage.index", year=year)
    rows = [
        ("items", _l("Budget items with approved performance targets"), items),
        ("department_overall", _l("Departments' overall expenditure with approved targets"),
         items.where(BudgetItem.kind == ItemKind.DEPARTMENT_OVERALL)),
        ("towns", _l("Town items with approved performance targets"),
         items.where(BudgetItem.org_unit_id.in_(_town_units()))),
    ]
    out = []
    for order, (key, label, stmt) in enumerate(rows):
        whole, _amount = count_and_amount(stmt)
        if not whole:
            continue
        count, amount = count_and_amount(stmt.where(approved))
        out.append(ReportFigure("targets", f"targets.{key}", label, count, link, amount=amount,
                                of=whole, order=order))
    return out
