"""The evaluation figures of the bureau's annual report (``jixiao_report_figures``):
self-evaluation coverage, department and finance key evaluations (by object kind,
with their amounts) and re-evaluations."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.models import FiscalYear
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.evaluation.coverage import coverage
from plugins.evaluation.models import (
    KeyEvaluation,
    ReEvaluation,
    ReEvaluationSample,
    SelfEvaluation,
)

#: object kind of a key evaluation → what the report calls it
OBJECTS = {"project": _l("of them projects"), "policy": _l("of them fiscal policies"),
           "department": _l("of them departments' overall expenditure")}


def report_figures(year: int) -> list[ReportFigure]:
    out = []
    _lines, total = coverage(year)
    if total.items:
        finished, amount = count_and_amount(
            select(SelfEvaluation.id, SelfEvaluation.budget)
            .join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id)
            .where(FiscalYear.year == year, SelfEvaluation.finalized_at.is_not(None)))
        out.append(ReportFigure("evaluation", "evaluation.self",
                                _l("Items with targets whose self-evaluation is finished"),
                                finished, url_for("evaluationcoverage.index", year=year),
                                amount=amount, of=total.items))
    key = (select(KeyEvaluation.id, KeyEvaluation.amount)
           .join(FiscalYear, FiscalYear.id == KeyEvaluation.fiscal_year_id)
           .where(FiscalYear.year == year, KeyEvaluation.finalized_at.is_not(None)))
    link = url_for("keyevaluation.index_view")
    for order, kind, label in ((10, "department_key", _l("Department key evaluations (finished)")),
                               (20, "finance_key", _l("Finance key evaluations (finished)"))):
        count, amount = count_and_amount(key.where(KeyEvaluation.kind == kind))
        out.append(ReportFigure("evaluation", f"evaluation.{kind}", label, count, link,
                                amount=amount, order=order))
        if kind == "finance_key":
            for n, (obj, obj_label) in enumerate(OBJECTS.items(), start=1):
                count, amount = count_and_amount(key.where(
                    KeyEvaluation.kind == kind, KeyEvaluation.object_kind == obj))
                out.append(ReportFigure("evaluation", f"evaluation.{kind}.{obj}", obj_label,
                                        count, link, amount=amount, order=order + n))
    reevals = (select(ReEvaluation.id, ReEvaluation.id)
               .join(FiscalYear, FiscalYear.id == ReEvaluation.fiscal_year_id)
               .where(FiscalYear.year == year))
    departments, _none = count_and_amount(reevals)
    samples, _none = count_and_amount(
        select(ReEvaluationSample.id, ReEvaluationSample.id)
        .join(ReEvaluation, ReEvaluation.id == ReEvaluationSample.re_evaluation_id)
        .join(FiscalYear, FiscalYear.id == ReEvaluation.fiscal_year_id)
        .where(FiscalYear.year == year))
    link = url_for("reevaluation.index_view")
    out += [ReportFigure("evaluation", "evaluation.re_evaluation",
                         _l("Departments whose self-evaluations were re-evaluated"),
                         departments, link, order=50),
            ReportFigure("evaluation", "evaluation.re_evaluation_samples",
                         _l("Self-evaluations re-checked and re-scored"), samples, link,
                         order=51)]
    return out
