"""Answers ``jixiao_preassessment_conclusions``: final conclusions and exempt items."""

from __future__ import annotations

from sqlalchemy import select

from core.contracts import PreassessmentConclusion
from core.extensions import db
from core.models import BudgetItem, FiscalYear
from plugins.preassessment import service
from plugins.preassessment.models import Preassessment


def conclusions(year: int | None, item_ids: list[int] | None) -> dict[int, PreassessmentConclusion]:
    stmt = (select(Preassessment, BudgetItem.amount, FiscalYear.year)
            .join(BudgetItem, BudgetItem.id == Preassessment.budget_item_id)
            .join(FiscalYear, FiscalYear.id == Preassessment.fiscal_year_id)
            .where(Preassessment.final_at.is_not(None) | Preassessment.exempt_kind.is_not(None)))
    if year is not None:
        stmt = stmt.where(FiscalYear.year == year)
    if item_ids is not None:
        stmt = stmt.where(Preassessment.budget_item_id.in_(item_ids))
    out = {}
    for pa, requested, fiscal_year in db.session.execute(stmt):
        status = service.status_of(pa)
        if status not in ("concluded", "exempt"):
            continue
        final = status == "concluded"
        out[pa.budget_item_id] = PreassessmentConclusion(
            budget_item_id=pa.budget_item_id, preassessment_id=pa.id, fiscal_year=fiscal_year,
            conclusion=pa.conclusion.value if final else "exempt",
            requested_amount=requested,
            recommended_amount=pa.recommended_amount if final else requested,
            score=service.basis_score(pa), is_key=pa.is_key, final_at=pa.final_at)
    return out
