"""The core's dashboard cards: what the user's scope holds this year.

Every query runs through the row scope, so a department sees its own
subtree's figures and the finance bureau the whole district's. Each card
needs the permission of the list it links to.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import BudgetItem, BudgetType, FiscalYear, OrgUnit, StageDeadline
from core.permissions import can
from core.web.admin.base import list_url
from core.web.admin.display import enum_label, money_text

TEN_THOUSAND = Decimal(10000)


def wan(amount: Decimal | int) -> str:
    """Yuan → 万元 with two places: ``123456789`` → ``12,345.68``."""
    return money_text((Decimal(amount) / TEN_THOUSAND).quantize(Decimal("0.01")))


def _budget_cards(year: FiscalYear) -> list[Widget]:
    rows = db.session.execute(
        select(BudgetItem.budget_type, func.count(BudgetItem.id),
               func.coalesce(func.sum(BudgetItem.amount), 0))
        .where(BudgetItem.fiscal_year_id == year.id)
        .group_by(BudgetItem.budget_type)).all()
    by_type = {BudgetType(t): (n, Decimal(total)) for t, n, total in rows}
    count = sum(n for n, _total in by_type.values())
    total = sum((t for _n, t in by_type.values()), Decimal(0))
    cards = [Widget(
        _("Budget items %(year)s", year=year.year), f"{count:,}",
        _("Total %(amount)s ten thousand yuan", amount=wan(total)),
        link=list_url("budgetitem", {FiscalYear.year: year.year}), order=10)]
    for i, budget_type in enumerate(BudgetType):
        n, amount = by_type.get(budget_type, (0, Decimal(0)))
        cards.append(Widget(
            enum_label(budget_type), wan(amount),
            _("ten thousand yuan · %(count)s items", count=f"{n:,}"),
            link=list_url("budgetitem", {FiscalYear.year: year.year,
                                                  BudgetItem.budget_type: budget_type.name}),
            order=11 + i, tone="info"))
    return cards


def _next_deadline() -> Widget | None:
    from plugins.system.admin.views import STAGE_LABELS

    upcoming = db.session.scalars(
        select(StageDeadline).where(StageDeadline.due >= date.today())
        .order_by(StageDeadline.due).limit(1)).first()
    if upcoming is None:
        return None
    days = (upcoming.due - date.today()).days
    return Widget(_("Next stage deadline"), upcoming.due.isoformat(),
                  _("%(stage)s, in %(days)s days",
                    stage=STAGE_LABELS.get(upcoming.stage, upcoming.stage), days=days),
                  link=url_for("fiscalyear.index_view"), order=15, tone="warning")


def core_widgets(user) -> list[Widget]:
    cards: list[Widget] = []
    if can(user, "budget_item.view"):
        year = FiscalYear.current()
        if year is not None:
            cards.extend(_budget_cards(year))
    if can(user, "org_unit.view"):
        orgs = db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.active))
        cards.append(Widget(_("Org units"), f"{orgs:,}", _("in your scope"),
                            link=url_for("orgunit.index_view"), order=16, tone="secondary"))
    if can(user, "fiscal_year.view"):
        deadline = _next_deadline()
        if deadline is not None:
            cards.append(deadline)
    return cards
