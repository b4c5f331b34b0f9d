"""The core's dashboard cards: what the user's scope holds."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.dashboard import Widget
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit
from core.permissions import can


def core_widgets(user) -> list[Widget]:
    if not can(user, "budget_item.view"):
        return []
    year = db.session.scalar(select(func.max(FiscalYear.year)))
    stmt = select(func.count(BudgetItem.id), func.coalesce(func.sum(BudgetItem.amount), 0))
    if year is not None:
        stmt = stmt.join(FiscalYear).where(FiscalYear.year == year)
    count, total = db.session.execute(stmt).one()
    total = Decimal(total or 0)
    orgs = db.session.scalar(select(func.count(OrgUnit.id)))
    return [
        Widget(_("Budget items %(year)s", year=year or ""), f"{count:,}",
               _("Total %(amount)s ten thousand yuan", amount=f"{total / 10000:,.2f}"),
               link="/admin/budgetitem/", order=10),
        Widget(_("Org units"), f"{orgs:,}", _("in your scope"), link="/admin/orgunit/", order=11,
               tone="secondary"),
    ]
