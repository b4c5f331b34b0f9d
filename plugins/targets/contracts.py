"""The targets plugin's answer to ``jixiao_approved_targets`` (core/contracts.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.contracts import IndicatorView, ItemTargets
from core.extensions import db
from core.models import FiscalYear, State
from plugins.targets.models import TargetIndicator, TargetSheet


def approved_targets(year: int | None, item_ids: list[int] | None) -> dict[int, ItemTargets]:
    query = (select(TargetSheet, FiscalYear.year)
             .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
             .where(TargetSheet.state == State.APPROVED)
             .options(selectinload(TargetSheet.indicators)))
    if year is not None:
        query = query.where(FiscalYear.year == year)
    if item_ids is not None:
        query = query.where(TargetSheet.budget_item_id.in_(item_ids))
    return {sheet.budget_item_id: ItemTargets(
        budget_item_id=sheet.budget_item_id, sheet_id=sheet.id, org_unit_id=sheet.org_unit_id,
        fiscal_year=fy, goal=sheet.goal,
        indicators=tuple(IndicatorView(
            id=i.id, level1=i.level1, level2=i.level2, name=i.name,
            comparator=str(i.comparator), target_value=i.target_value, unit=i.unit,
            weight=i.weight, scoring_method=i.scoring_method) for i in sheet.indicators))
        for sheet, fy in db.session.execute(query)}


def approved_indicator_select(year: int):
    return (select(TargetSheet.budget_item_id.label("budget_item_id"),
                   TargetSheet.id.label("sheet_id"),
                   TargetSheet.org_unit_id.label("org_unit_id"),
                   FiscalYear.year.label("fiscal_year"),
                   TargetIndicator.id.label("indicator_id"),
                   TargetIndicator.position.label("position"),
                   TargetIndicator.level1.label("level1"),
                   TargetIndicator.level2.label("level2"),
                   TargetIndicator.name.label("name"),
                   TargetIndicator.comparator.label("comparator"),
                   TargetIndicator.target_value.label("target_value"),
                   TargetIndicator.unit.label("unit"),
                   TargetIndicator.weight.label("weight"),
                   TargetIndicator.scoring_method.label("scoring_method"))
            .join(TargetIndicator, TargetIndicator.sheet_id == TargetSheet.id)
            .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
            .where(TargetSheet.state == State.APPROVED, FiscalYear.year == year))
