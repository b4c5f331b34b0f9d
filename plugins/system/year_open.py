"""Opening a fiscal year (``flask jixiao year open YYYY``, the fiscal years page).

From the year before: its stage deadlines one year later, and the continuing
projects' budget items (amount: the project's request for the year if it has one,
else last year's), in one ``INSERT … SELECT``; projects carried become continuing
(ending in their end year). Then ``jixiao_year_opened`` lets the stages carry
their own data (the targets plugin copies approved target sheets as drafts).
Idempotent: what exists already is kept, so opening twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, update

from core.extensions import db
from core.models import BudgetItem, FiscalYear, Project, ProjectStatus, StageDeadline, utcnow
from core.plugins import hooks

#: the item columns carried as they were last year
SAME = ("name", "org_unit_id", "kind", "budget_type", "is_recurring", "is_key_task",
        "is_purchase_of_services", "contractor", "description", "project_id")


class YearOpenError(ValueError):
    """The year cannot be opened; the message says why."""


@dataclass(frozen=True)
class Opened:
    year: FiscalYear
    created: bool
    deadlines: int
    items: int


def next_year(day: date) -> date:
    """The same day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def open_year(year: int) -> Opened:
    """Open ``year`` from ``year - 1`` (in the session; the caller commits)."""
    previous = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year - 1))
    if previous is None:
        raise YearOpenError(_l("%(year)s cannot be opened: the year before it, %(previous)s, "
                               "does not exist.", year=year, previous=year - 1))
    fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year))
    created = fy is None
    if fy is None:
        name = previous.name.replace(str(previous.year), str(year)) if previous.name else ""
        fy = FiscalYear(year=year, name=name, status="open")
        db.session.add(fy)
        db.session.flush()
    have = {d.stage for d in fy.deadlines}
    carried = [StageDeadline(stage=d.stage, due=next_year(d.due))
               for d in previous.deadlines if d.stage not in have]
    fy.deadlines.extend(carried)
    items = carry_items(previous, fy)
    db.session.flush()
    hooks().year_opened(previous=previous, year=fy)
    return Opened(fy, created, len(carried), items)


def carry_items(previous: FiscalYear, fy: FiscalYear) -> int:
    """The items of ``previous`` whose project runs on into ``fy`` and has none there yet."""
    prev = BudgetItem.__table__.alias("prev")
    cur = BudgetItem.__table__.alias("cur")
    proj = Project.__table__
    requested = and_(proj.c.request_year == fy.year, proj.c.request_amount.is_not(None))
    now = utcnow()
    last_id = db.session.scalar(select(func.coalesce(func.max(BudgetItem.id), 0)))
    rows = (select(proj.c.code, literal(fy.id), *(prev.c[name] for name in SAME),
                   case((requested, proj.c.request_amount), else_=prev.c.amount),
                   literal(False), literal(1), literal(now), literal(now))
            .select_from(prev.join(proj, proj.c.id == prev.c.project_id))
            .where(prev.c.fiscal_year_id == previous.id, proj.c.start_year <= fy.year,
                   or_(proj.c.end_year.is_(None), proj.c.end_year >= fy.year),
                   ~exists().where(cur.c.fiscal_year_id == fy.id,
                                   or_(cur.c.project_id == proj.c.id, cur.c.code == proj.c.code))))
    db.session.execute(insert(BudgetItem).from_select(
        ["code", "fiscal_year_id", *SAME, "amount", "is_new", "version", "created_at",
         "updated_at"], rows))
    status = proj.c.status.type
    new_ids = select(BudgetItem.project_id).where(BudgetItem.fiscal_year_id == fy.id,
                                                  BudgetItem.id > last_id)
    db.session.execute(
        update(Project).where(Project.id.in_(new_ids))
        .values(status=case((Project.end_year == fy.year, literal(ProjectStatus.ENDING, status)),
                            else_=literal(ProjectStatus.CONTINUING, status)),
                version=Project.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    return db.session.scalar(select(func.count()).where(
        BudgetItem.fiscal_year_id == fy.id, BudgetItem.id > last_id))
