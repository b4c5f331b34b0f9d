"""Opening a year (``jixiao_year_opened``): the project's approved target sheet of last
year becomes a draft of this year's item, with its indicators, marked ``carried_from_id``,
so the unit edits it rather than typing it again. Two ``INSERT … SELECT`` statements;
an item that has a sheet already keeps it (opening twice adds nothing)."""

from __future__ import annotations

from sqlalchemy import exists, func, insert, literal, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, utcnow
from plugins.targets.models import TargetIndicator, TargetSheet

INDICATOR_COLUMNS = ("position", "level1", "level2", "name", "comparator", "target_value",
                     "period_value", "unit", "weight", "data_source", "scoring_method",
                     "template_id")


def carry_sheets(previous: FiscalYear, year: FiscalYear) -> int:
    """Copy the approved sheets of ``previous`` to the same projects' items of ``year``."""
    src = TargetSheet.__table__.alias("src")
    old = BudgetItem.__table__.alias("old")
    new = BudgetItem.__table__.alias("new")
    sheet = TargetSheet.__table__
    now = utcnow()
    draft = literal(State.DRAFT, sheet.c.state.type)
    last_id = db.session.scalar(select(func.coalesce(func.max(sheet.c.id), 0)))
    rows = (select(new.c.id, literal(year.id), new.c.org_unit_id, src.c.goal, src.c.period_goal,
                   src.c.rules_code, literal(0), draft, literal(0), literal(1), literal(now),
                   literal(now), src.c.id)
            .select_from(src.join(old, old.c.id == src.c.budget_item_id)
                         .join(new, new.c.project_id == old.c.project_id))
            .where(src.c.fiscal_year_id == previous.id, src.c.state == State.APPROVED,
                   new.c.fiscal_year_id == year.id,
                   ~exists().where(sheet.c.budget_item_id == new.c.id)))
    db.session.execute(insert(TargetSheet).from_select(
        ["budget_item_id", "fiscal_year_id", "org_unit_id", "goal", "period_goal", "rules_code",
         "revision", "state", "review_level", "version", "created_at", "updated_at",
         "carried_from_id"], rows))
    ind = TargetIndicator.__table__
    db.session.execute(insert(TargetIndicator).from_select(
        ["sheet_id", "org_unit_id", *INDICATOR_COLUMNS],
        select(sheet.c.id, sheet.c.org_unit_id, *(ind.c[name] for name in INDICATOR_COLUMNS))
        .join(ind, ind.c.sheet_id == sheet.c.carried_from_id)
        .where(sheet.c.fiscal_year_id == year.id, sheet.c.id > last_id)))
    return db.session.scalar(select(func.count()).where(
        sheet.c.fiscal_year_id == year.id, sheet.c.id > last_id))
