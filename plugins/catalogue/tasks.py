"""What waits for a person in the catalogue stage (待办, ``jixiao_tasks``).

- a department: its catalogue of the cycle holding the year to confirm (draft) or to
  fix (returned); the entries planned for a department key
  evaluation in the year and not covered by one yet, due by the year's end;
- the finance bureau: the catalogues waiting for its approval (a count).

A few queries under the reader's row scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.models import BudgetItem, State, WorkflowEvent
from core.web.admin.base import list_url
from plugins.catalogue import service
from plugins.catalogue.models import Catalogue, CatalogueEntry, CoverageRecord

STAGE = "catalogue"
OPEN = (State.DRAFT, State.RETURNED)



def in_cycle(year: int):
    """Catalogues whose cycle holds ``year``."""
    return (Catalogue.cycle_start <= year,
            Catalogue.cycle_start + Catalogue.cycle_years > year)


def catalogue_tasks(principal: Any, year: int) -> list[Task]:
    if principal is None:
        return []
    if principal.role == "finance_admin":
        return finance_tasks(principal, year)
    if principal.role == "dept_admin":
        return department_tasks(principal, year)
    return []


def finance_tasks(principal: Any, year: int) -> list[Task]:
    levels = [i for i, r in enumerate(service.WORKFLOW.chain) if r == principal.role]
    count, oldest = db.session.execute(
        select(func.count(Catalogue.id), func.min(Catalogue.updated_at))
        .where(Catalogue.state == State.SUBMITTED, Catalogue.review_level.in_(levels),
               *in_cycle(year))).one()
    if not count:
        return []
    return [Task(STAGE, _l("Key evaluation catalogues to approve"), list_url(
        "catalogue", (Catalogue.state, FilterEqual, State.SUBMITTED.name)),
        since=oldest, count=count)]


def department_tasks(principal: Any, year: int) -> list[Task]:
    tasks: list[Task] = []
    events = (select(WorkflowEvent.object_id, func.max(WorkflowEvent.at).label("at"))
              .where(WorkflowEvent.object_type == Catalogue.__tablename__)
              .group_by(WorkflowEvent.object_id).subquery())
    rows = db.session.execute(
        select(Catalogue.id, Catalogue.state, Catalogue.cycle_start, Catalogue.cycle_years,
               func.coalesce(events.c.at, Catalogue.updated_at).label("since"))
        .outerjoin(events, events.c.object_id == Catalogue.id)
        .where(Catalogue.state.in_(OPEN), *in_cycle(year)).order_by(Catalogue.id))
    for row in rows:
        cycle = f"{row.cycle_start}–{row.cycle_start + row.cycle_years - 1}"
        title = _l("Fix the returned key evaluation catalogue %(name)s", name=cycle) \
            if State(row.state) == State.RETURNED else \
            _l("Confirm the key evaluation catalogue %(name)s", name=cycle)
        tasks.append(Task(STAGE, title, url_for("catalogue.catalogue_page", id=row.id),
                          since=row.since))
    covered = select(CoverageRecord.id).where(CoverageRecord.entry_id == CatalogueEntry.id)
    for row in db.session.execute(
            select(CatalogueEntry.id, CatalogueEntry.catalogue_id, CatalogueEntry.updated_at,
                   BudgetItem.code, BudgetItem.name)
            .join(BudgetItem, BudgetItem.id == CatalogueEntry.budget_item_id)
            .join(Catalogue, Catalogue.id == CatalogueEntry.catalogue_id)
            .where(CatalogueEntry.planned_year == year, ~covered.exists(),
                   Catalogue.state == State.APPROVED)
            .order_by(BudgetItem.code)):
        name = " ".join((row.code, row.name))
        tasks.append(Task(
            STAGE, _l("Run the planned key evaluation of %(name)s", name=name),
            url_for("catalogue.catalogue_page", id=row.catalogue_id),
            since=row.updated_at, due=date(year, 12, 31)))
    return tasks
