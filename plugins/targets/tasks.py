"""What waits for a person in the targets stage (待办, ``jixiao_tasks``).

- a unit (and a department for its own items): the items of the year that need a
  target sheet and have none yet (to fill), and its sheets in draft or returned (to fix);
- a reviewer below the bureau (the department, level 0 of ``service.WORKFLOW``):
  every sheet submitted and waiting at that level, one task each;
- the finance bureau (sees every row): one task per queue, with its count, linking
  to the sheet list filtered to the queue.

Three queries at most, all under the principal's row scope.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, State, User, WorkflowEvent
from core.services.years import fiscal_year
from core.web.admin.base import list_url
from plugins.targets.models import TargetSheet
from plugins.targets.rules import rules_for_year
from plugins.targets.service import EDITABLE, WORKFLOW

STAGE = "targets"
#: roles that write target sheets: a unit for every item in its scope, a department
#: (or town) only for the items of its own org unit (its units' items it reviews)
WRITERS = ("unit_user", "dept_admin")




def own_org_id(principal) -> int | None:
    """The org unit of the principal's own account (the current user: no query)."""
    person = db.session.get(User, principal.user_id) if principal.user_id else None
    return person.org_unit_id if person is not None else None


def target_tasks(principal, year: int) -> list[Task]:
    if principal is None:
        return []
    fy = fiscal_year(year)
    if fy is None:
        return []
    due = fy.deadline("targets")
    if principal.sees_everything:
        return _queues(principal, fy)
    tasks: list[Task] = []
    if principal.role in WRITERS:
        tasks += _to_write(principal, fy, due)
    if principal.role in WORKFLOW.chain:
        tasks += _to_review(WORKFLOW.chain.index(principal.role), fy, due)
    return tasks


def _to_write(principal, fy: FiscalYear, due: date | None) -> list[Task]:
    """Items without a sheet (to fill) and sheets in draft or returned (to fix)."""
    rules = rules_for_year(fy.year)
    stmt = (select(BudgetItem.id, BudgetItem.code, BudgetItem.name, BudgetItem.kind,
                   BudgetItem.updated_at, OrgUnit.kind.label("org_kind"),
                   TargetSheet.id.label("sheet_id"), TargetSheet.state,
                   TargetSheet.updated_at.label("sheet_updated"),
                   WorkflowEvent.last_at(TargetSheet).label("moved_at"))
            .join(OrgUnit, OrgUnit.id == BudgetItem.org_unit_id)
            .outerjoin(TargetSheet, TargetSheet.budget_item_id == BudgetItem.id)
            .where(BudgetItem.fiscal_year_id == fy.id,
                   TargetSheet.id.is_(None) | TargetSheet.state.in_(EDITABLE))
            .order_by(BudgetItem.code))
    if principal.role != "unit_user":
        stmt = stmt.where(BudgetItem.org_unit_id == own_org_id(principal))
    tasks = []
    for row in db.session.execute(stmt):
        item = f"{row.code} {row.name}"
        if row.sheet_id is None:
            if not rules.needs_targets(row.kind.value, row.org_kind.value):
                continue
            tasks.append(Task(STAGE, _l("Fill in the performance targets of %(item)s",
                                        item=item),
                              url_for("targetsheet.create_view"), since=row.updated_at,
                              due=due))
        else:
            title = _l("Revise the returned performance targets of %(item)s", item=item) \
                if State(row.state) == State.RETURNED else \
                _l("Complete and submit the performance targets of %(item)s", item=item)
            tasks.append(Task(STAGE, title, url_for("targetsheet.sheet_page", id=row.sheet_id),
                              since=row.moved_at or row.sheet_updated, due=due))
    return tasks


def _to_review(level: int, fy: FiscalYear, due: date | None) -> list[Task]:
    rows = db.session.execute(
        select(TargetSheet.id, TargetSheet.updated_at, BudgetItem.code, BudgetItem.name,
               WorkflowEvent.last_at(TargetSheet).label("moved_at"))
        .join(BudgetItem, BudgetItem.id == TargetSheet.budget_item_id)
        .where(TargetSheet.fiscal_year_id == fy.id, TargetSheet.state == State.SUBMITTED,
               TargetSheet.review_level == level)
        .order_by(TargetSheet.id))
    return [Task(STAGE, _l("Review the performance targets of %(item)s",
                           item=" ".join((row.code, row.name))),
                 url_for("targetsheet.sheet_page", id=row.id),
                 since=row.moved_at or row.updated_at, due=due) for row in rows]


def _queues(principal, fy: FiscalYear) -> list[Task]:
    """The bureau's queue: sheets submitted and waiting at its level of the chain."""
    if principal.role not in WORKFLOW.chain:
        return []
    level = WORKFLOW.chain.index(principal.role)
    count, since = db.session.execute(
        select(func.count(TargetSheet.id), func.min(TargetSheet.updated_at))
        .where(TargetSheet.fiscal_year_id == fy.id, TargetSheet.state == State.SUBMITTED,
               TargetSheet.review_level == level)).one()
    if not count:
        return []
    link = list_url("targetsheet", [("target_sheet.state", State.SUBMITTED.name),
                                         ("fiscal_year.year", fy.year)])
    return [Task(STAGE, _l("Target sheets waiting for the finance bureau's review"), link,
                 since=since, due=fy.deadline("targets"), count=count)]
