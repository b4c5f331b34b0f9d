"""The disclosure figures of the bureau's annual report (``jixiao_report_figures``):
item targets published with the budget (of the items in the disclosure scope), policy
targets published as a pilot, and evaluation results published."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.models import BudgetItem, FiscalYear
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.disclosure.models import Publication, PublicationKind
from plugins.disclosure.rules import rules_for_year


def report_figures(year: int) -> list[ReportFigure]:
    published = select(Publication.id, Publication.amount).where(
        Publication.fiscal_year == year, Publication.published_at.is_not(None))
    in_scope, _amount = count_and_amount(
        select(BudgetItem.id, BudgetItem.amount)
        .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .where(FiscalYear.year == year, BudgetItem.kind.in_(rules_for_year(year).scope_kinds)))
    link = url_for("publication.index_view")
    out = []
    for order, (kind, label, whole) in enumerate((
            (PublicationKind.ITEM_TARGETS,
             _l("Items in the budget disclosure scope whose targets were published"), in_scope),
            (PublicationKind.POLICY_PILOT, _l("Fiscal policies whose targets were published "
                                              "as a pilot"), None),
            (PublicationKind.EVALUATION_RESULT, _l("Evaluation results published"), None))):
        count, amount = count_and_amount(published.where(Publication.kind == kind))
        out.append(ReportFigure("disclosure", f"disclosure.{kind.value}", label, count, link,
                                amount=amount, of=whole or None, order=order))
    return out
