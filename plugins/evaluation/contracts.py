"""Answers ``jixiao_evaluation_results``: finalized self-, key and re-evaluations as
``EvaluationResult`` views (core/contracts.py), also what ``jixiao_evaluation_finalized``
announces when one is finalized."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, utcnow
from plugins.evaluation.models import (
    KeyEvaluation,
    ReEvaluation,
    ReEvaluationSample,
    SelfEvaluation,
)
from plugins.evaluation.rules import LETTERS


def evaluation_results(year: int | None, item_ids: list[int] | None,
                       kinds: list[str] | None) -> list[EvaluationResult]:
    found = []
    if kinds is None or "self" in kinds:
        found += self_results(year, item_ids)
    if kinds is None or {"department_key", "finance_key"} & set(kinds):
        found += key_results(year, item_ids, kinds)
    if kinds is None or "re_evaluation" in kinds:
        found += re_results(year, item_ids)
    return found


# --- self-evaluations ------------------------------------------------------------------------

def self_result(ev: SelfEvaluation) -> EvaluationResult:
    item = ev.budget_item
    return EvaluationResult(
        id=ev.id, kind="self", object_kind=ev.object_kind, fiscal_year=ev.fiscal_year.year,
        org_unit_id=ev.org_unit_id, title=f"{item.code} {item.name}",
        budget_item_ids=(ev.budget_item_id,), amount=ev.budget, score=ev.score or Decimal(0),
        grade=LETTERS.get(ev.grade or "", "D"), finalized_at=ev.finalized_at or utcnow(),
        summary=ev.summary or "")


def self_results(year: int | None, item_ids: list[int] | None) -> list[EvaluationResult]:
    query = (select(SelfEvaluation, FiscalYear.year, BudgetItem.code, BudgetItem.name)
             .join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id)
             .join(BudgetItem, BudgetItem.id == SelfEvaluation.budget_item_id)
             .where(SelfEvaluation.finalized_at.is_not(None))
             .order_by(SelfEvaluation.id))
    if year is not None:
        query = query.where(FiscalYear.year == year)
    if item_ids is not None:
        query = query.where(SelfEvaluation.budget_item_id.in_(item_ids))
    return [EvaluationResult(
        id=ev.id, kind="self", object_kind=ev.object_kind, fiscal_year=fy,
        org_unit_id=ev.org_unit_id, title=f"{code} {name}", budget_item_ids=(ev.budget_item_id,),
        amount=ev.budget, score=ev.score or Decimal(0), grade=LETTERS.get(ev.grade or "", "D"),
        finalized_at=ev.finalized_at, summary=ev.summary or "")
        for ev, fy, code, name in db.session.execute(query)]


# --- key evaluations -------------------------------------------------------------------------

def key_summary(ev: KeyEvaluation) -> str:
    """The public part: findings and recommendations (the problems list stays internal)."""
    return "\n\n".join(p for p in ((ev.findings or "").strip(),
                                   (ev.recommendations or "").strip()) if p)


def key_result(ev: KeyEvaluation) -> EvaluationResult:
    fy = ev.fiscal_year or db.session.get(FiscalYear, ev.fiscal_year_id)
    return EvaluationResult(
        id=ev.id, kind=ev.kind, object_kind=ev.object_kind, fiscal_year=fy.year,
        org_unit_id=ev.org_unit_id, title=ev.title,
        budget_item_ids=tuple(sorted(i.id for i in ev.items)), amount=ev.amount,
        score=ev.score or Decimal(0), grade=LETTERS.get(ev.grade or "", "D"),
        finalized_at=ev.finalized_at or utcnow(), summary=key_summary(ev))


def key_results(year: int | None, item_ids: list[int] | None,
                kinds: list[str] | None) -> list[EvaluationResult]:
    query = select(KeyEvaluation).where(KeyEvaluation.finalized_at.is_not(None)) \
        .order_by(KeyEvaluation.id)
    if year is not None:
        query = query.join(FiscalYear, FiscalYear.id == KeyEvaluation.fiscal_year_id).where(
            FiscalYear.year == year)
    if kinds is not None:
        query = query.where(KeyEvaluation.kind.in_(kinds))
    found = [key_result(ev) for ev in db.session.scalars(query)]
    if item_ids is not None:
        wanted = set(item_ids)
        found = [r for r in found if wanted & set(r.budget_item_ids)]
    return found


# --- re-evaluations --------------------------------------------------------------------------

def re_result(sample: ReEvaluationSample) -> EvaluationResult:
    ev = sample.self_evaluation
    item = ev.budget_item
    return EvaluationResult(
        id=sample.id, kind="re_evaluation", object_kind=ev.object_kind,
        fiscal_year=ev.fiscal_year.year, org_unit_id=sample.org_unit_id,
        title=f"{item.code} {item.name}", budget_item_ids=(ev.budget_item_id,),
        amount=ev.budget, score=sample.score or Decimal(0),
        grade=LETTERS.get(sample.grade or "", "D"),
        finalized_at=sample.re_evaluation.finalized_at or utcnow(), summary="")


def re_results(year: int | None, item_ids: list[int] | None) -> list[EvaluationResult]:
    query = (select(ReEvaluationSample).join(ReEvaluation)
             .join(SelfEvaluation, SelfEvaluation.id == ReEvaluationSample.self_evaluation_id)
             .where(ReEvaluation.finalized_at.is_not(None)).order_by(ReEvaluationSample.id))
    if year is not None:
        query = query.join(FiscalYear, FiscalYear.id == ReEvaluation.fiscal_year_id).where(
            FiscalYear.year == year)
    if item_ids is not None:
        query = query.where(SelfEvaluation.budget_item_id.in_(item_ids))
    return [re_result(s) for s in db.session.scalars(query)]
