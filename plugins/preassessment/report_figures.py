"""The pre-assessment figures of the bureau's annual report (``jixiao_report_figures``)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.models import BudgetItem, FiscalYear
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.preassessment.models import Conclusion, Preassessment


def report_figures(year: int) -> list[ReportFigure]:
    """The pre-assessments made in ``year``: those of the next year's items (the year's
    assessments decide the next budget), the bureau's key ones, and those supported."""
    base = (select(Preassessment.id, BudgetItem.amount)
            .join(BudgetItem, BudgetItem.id == Preassessment.budget_item_id)
            .join(FiscalYear, FiscalYear.id == Preassessment.fiscal_year_id)
            .where(FiscalYear.year == year + 1))
    rows = [
        ("all", _l("Pre-assessments for the next year's budget (department self-assessments)"), base,
         url_for("preassessment.index_view")),
        ("key", _l("Key pre-assessments by the finance bureau, with an expert review"),
         base.where(Preassessment.is_key.is_(True)), url_for("preassessment_key.index")),
        ("supported", _l("Concluded: supported (also after adjustment)"),
         base.where(Preassessment.conclusion.in_([Conclusion.SUPPORT, Conclusion.ADJUST])),
         url_for("preassessment_budget.index")),
    ]
    out = []
    for order, (key, label, stmt, link) in enumerate(rows):
        count, amount = count_and_amount(stmt)
        out.append(ReportFigure("preassessment", f"preassessment.{key}", label, count, link,
                                amount=amount, order=order))
    return out
