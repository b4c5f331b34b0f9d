"""What waits for a person in the evaluation stage (待办, ``jixiao_tasks``).

- units: their self-evaluations to fill in (draft) or fix (returned), due by the
  year's self-evaluation deadline; departments the same for their own items;
- the reviewer at a self-evaluation's level (the department): one task per
  submitted record, the finance bureau a count per queue;
- key evaluations not yet final, for whoever runs them (department key → the
  department, one per record; finance key → the bureau, a count);
- the bureau: re-evaluations to finish and result-application decisions to take;
- rectifications (整改): the unit or department that must rectify, one task per open
  task with its deadline (overdue when passed); the bureau a count of reported ones.

A few grouped queries under the reader's row scope, no per-record loading.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEmpty, FilterEqual
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from core.contracts import Task
from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, User, WorkflowEvent
from core.scope import SKIP
from core.services.years import fiscal_year
from core.web.admin.base import list_url
from plugins.evaluation import key, rectify, service
from plugins.evaluation.models import (
    KeyEvaluation,
    Rectification,
    ReEvaluation,
    ResultSuggestion,
    SelfEvaluation,
)

STAGE = "evaluation"
FINANCE_ROLE = "finance_admin"
OPEN = (State.DRAFT, State.RETURNED)
#: the ``StageDeadline.stage`` names of the fiscal year (plugins/system)
SELF_DEADLINE = "self_evaluation"
KEY_DEADLINE = "evaluation"



def my_levels(workflow, role: str) -> list[int]:
    """The review levels of ``workflow`` that ``role`` decides."""
    return [i for i, r in enumerate(workflow.chain) if r == role]


def last_event(object_type: str):
    """A subquery: each object's latest workflow event time (``object_id``, ``at``)."""
    return (select(WorkflowEvent.object_id, func.max(WorkflowEvent.at).label("at"))
            .where(WorkflowEvent.object_type == object_type)
            .group_by(WorkflowEvent.object_id).subquery())


def evaluation_tasks(principal: Any, year: int) -> list[Task]:
    if principal is None or principal.role not in (FINANCE_ROLE, "dept_admin", "unit_user"):
        return []
    fy = fiscal_year(year)
    if fy is None:
        return []
    return [*self_evaluation_tasks(principal, fy), *key_evaluation_tasks(principal, fy),
            *finance_tasks(principal, fy), *rectification_tasks(principal, fy)]


# --- self-evaluations ---------------------------------------------------------------------

def _own_org(principal: Any) -> int | None:
    return db.session.scalar(select(User.org_unit_id).where(User.id == principal.user_id)
                             .execution_options(**{SKIP: True}))


def self_evaluation_tasks(principal: Any, fy: FiscalYear) -> list[Task]:
    due = fy.deadline(SELF_DEADLINE)
    events = last_event(SelfEvaluation.__tablename__)
    since = func.coalesce(events.c.at, SelfEvaluation.updated_at).label("since")
    base = (select(SelfEvaluation.id, SelfEvaluation.state, BudgetItem.code, BudgetItem.name,
                   since)
            .join(BudgetItem, BudgetItem.id == SelfEvaluation.budget_item_id)
            .outerjoin(events, events.c.object_id == SelfEvaluation.id)
            .where(SelfEvaluation.fiscal_year_id == fy.id,
                   SelfEvaluation.finalized_at.is_(None))
            .order_by(BudgetItem.code))
    tasks: list[Task] = []
    fill = None
    if principal.role == "unit_user":
        fill = base.where(SelfEvaluation.state.in_(OPEN))
    elif principal.role == "dept_admin":  # the department's own items only
        fill = base.where(SelfEvaluation.state.in_(OPEN),
                          SelfEvaluation.org_unit_id == _own_org(principal))
    if fill is not None:
        for row in db.session.execute(fill):
            title = _l("Fix the returned self-evaluation of %(name)s", name=_name(row)) \
                if State(row.state) == State.RETURNED else \
                _l("Fill in the self-evaluation of %(name)s", name=_name(row))
            tasks.append(Task(STAGE, title, url_for("selfevaluation.score_page", id=row.id),
                              since=row.since, due=due))
    levels = my_levels(service.WORKFLOW, principal.role)
    if not levels:
        return tasks
    waiting = SelfEvaluation.state == State.SUBMITTED, SelfEvaluation.review_level.in_(levels)
    if principal.role == FINANCE_ROLE:
        count, oldest = db.session.execute(
            select(func.count(SelfEvaluation.id), func.min(SelfEvaluation.updated_at))
            .where(SelfEvaluation.fiscal_year_id == fy.id, *waiting)).one()
        if count:
            tasks.append(Task(STAGE, _l("Self-evaluations to review"), list_url(
                "selfevaluation", (SelfEvaluation.state, FilterEqual, State.SUBMITTED.name),
                (FiscalYear.year, FilterEqual, fy.year)), since=oldest, due=due, count=count))
        return tasks
    for row in db.session.execute(base.where(*waiting)):
        tasks.append(Task(STAGE, _l("Review the self-evaluation of %(name)s", name=_name(row)),
                          url_for("selfevaluation.score_page", id=row.id), since=row.since,
                          due=due))
    return tasks


def _name(row: Any) -> str:
    return f"{row.code} {row.name}"


# --- key evaluations ----------------------------------------------------------------------

def key_evaluation_tasks(principal: Any, fy: FiscalYear) -> list[Task]:
    kinds = [k for k in key.KINDS if key.owner_role(k) == principal.role]
    if not kinds:
        return []
    due = fy.deadline(KEY_DEADLINE)
    where = (KeyEvaluation.fiscal_year_id == fy.id, KeyEvaluation.finalized_at.is_(None),
             KeyEvaluation.kind.in_(kinds))
    if principal.role == FINANCE_ROLE:
        count, oldest = db.session.execute(
            select(func.count(KeyEvaluation.id), func.min(KeyEvaluation.updated_at))
            .where(*where)).one()
        if not count:
            return []
        return [Task(STAGE, _l("Key evaluations to score and finalize"), list_url(
            "keyevaluation", (KeyEvaluation.kind, FilterEqual, "finance_key"),
            (FiscalYear.year, FilterEqual, fy.year)), since=oldest, due=due, count=count)]
    return [Task(STAGE, _l("Score and finalize the key evaluation %(name)s", name=row.title),
                 url_for("keyevaluation.sheet_page", id=row.id), since=row.updated_at, due=due)
            for row in db.session.execute(
                select(KeyEvaluation.id, KeyEvaluation.title, KeyEvaluation.updated_at)
                .where(*where).order_by(KeyEvaluation.id))]


# --- the bureau's decisions ---------------------------------------------------------------

def finance_tasks(principal: Any, fy: FiscalYear) -> list[Task]:
    if principal.role != FINANCE_ROLE:
        return []
    tasks = []
    count, oldest = db.session.execute(
        select(func.count(ReEvaluation.id), func.min(ReEvaluation.updated_at))
        .where(ReEvaluation.fiscal_year_id == fy.id, ReEvaluation.finalized_at.is_(None))).one()
    if count:
        tasks.append(Task(STAGE, _l("Re-evaluations to finish"),
                          url_for("reevaluation.index_view"), since=oldest, count=count))
    count, oldest = db.session.execute(
        select(func.count(ResultSuggestion.id), func.min(ResultSuggestion.created_at))
        .where(ResultSuggestion.fiscal_year == fy.year,
               ResultSuggestion.decided.is_(None))).one()
    if count:
        tasks.append(Task(STAGE, _l("Result application decisions to take"), list_url(
            "evaluationsuggestion", (ResultSuggestion.decided, FilterEmpty, "1"),
            (ResultSuggestion.fiscal_year, FilterEqual, fy.year)), since=oldest, count=count))
    return tasks


# --- rectifications -----------------------------------------------------------------------

def rectification_tasks(principal: Any, fy: FiscalYear) -> list[Task]:
    of_year = and_(ResultSuggestion.id == Rectification.suggestion_id,
                   ResultSuggestion.fiscal_year == fy.year)
    tasks = []
    if principal.role in ("dept_admin", "unit_user"):
        events = last_event(Rectification.__tablename__)
        rows = db.session.execute(
            select(Rectification.id, Rectification.problem, Rectification.state,
                   Rectification.due_on,
                   func.coalesce(events.c.at, Rectification.updated_at).label("since"))
            .join(ResultSuggestion, of_year)
            .outerjoin(events, events.c.object_id == Rectification.id)
            .where(Rectification.state.in_(OPEN))
            .order_by(Rectification.due_on, Rectification.id))
        for row in rows:
            problem = _short(row.problem)
            title = _l("Fix the returned rectification: %(name)s", name=problem) \
                if State(row.state) == State.RETURNED else \
                _l("Rectify and report: %(name)s", name=problem)
            tasks.append(Task(STAGE, title, url_for("rectification.follow_up", id=row.id),
                              since=row.since, due=row.due_on))
    levels = my_levels(rectify.WORKFLOW, principal.role)
    if levels and principal.role == FINANCE_ROLE:
        count, oldest = db.session.execute(
            select(func.count(Rectification.id), func.min(Rectification.updated_at))
            .join(ResultSuggestion, of_year)
            .where(Rectification.state == State.SUBMITTED,
                   Rectification.review_level.in_(levels))).one()
        if count:
            tasks.append(Task(STAGE, _l("Rectifications reported done, to accept"), list_url(
                "rectification", (Rectification.state, FilterEqual, State.SUBMITTED.name)),
                since=oldest, count=count))
    return tasks


def _short(text: str, size: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[:size - 1] + "…"
