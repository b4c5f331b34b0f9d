"""What waits for a person in the pre-assessment stage (待办, ``jixiao_tasks``).

- a unit or department: the items of the budget year that need a pre-assessment and
  have none (to fill: the trigger list), and self-assessments in draft or returned
  (to fix), one task each;
- a panel expert: each key pre-assessment whose panel they sit on that waits for
  their scores (read ``as_panel_member`` for their own reviews only);
- the finance bureau (sees every row): one task per queue with its count — the
  self-assessments submitted to it, and the accepted ones waiting for its conclusion.

A few queries, all under the principal's row scope (the expert's explicitly narrowed
to their own reviews).
"""

from __future__ import annotations

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEmpty
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.models import BudgetItem, FiscalYear, State
from core.permissions import FINANCE
from core.services.years import fiscal_year
from core.web.admin.base import list_url
from plugins.preassessment import service
from plugins.preassessment.models import ExpertReview, Preassessment

STAGE = "preassessment"
DEADLINE = "pre_assessment"  # the stage's name in the fiscal year's deadlines
#: roles that write the self-assessment (the department, and its units for their items)
WRITERS = ("unit_user", "dept_admin")



def preassessment_tasks(principal, year: int) -> list[Task]:
    if principal is None:
        return []
    fy = fiscal_year(year)
    if fy is None:
        return []
    if principal.sees_everything:
        return _queues(principal, fy)
    if principal.role == service.EXPERT_ROLE:
        return _to_score(principal, fy)
    if principal.role in WRITERS:
        return _to_write(fy)
    return []


def _to_write(fy: FiscalYear) -> list[Task]:
    due = fy.deadline(DEADLINE)
    tasks = []
    for row in service.trigger_rows(fy.year, only_missing=True):
        item = str(row.item)
        if row.pa is None:
            tasks.append(Task(STAGE, _l("Fill in the pre-assessment of %(item)s", item=item),
                              url_for("preassessment_trigger.index", year=fy.year,
                                      missing=1), since=row.item.updated_at, due=due))
            continue
        state = State(row.pa.state or State.DRAFT)
        if state not in service.EDITABLE or row.pa.final_at is not None:
            continue
        title = _l("Revise the returned self-assessment of %(item)s", item=item) \
            if state == State.RETURNED else \
            _l("Complete and submit the self-assessment of %(item)s", item=item)
        tasks.append(Task(STAGE, title, url_for("preassessment.assessment", id=row.pa.id),
                          since=row.pa.updated_at, due=due))
    return tasks


def _to_score(principal, fy: FiscalYear) -> list[Task]:
    """The expert's own open reviews of pre-assessments not yet concluded."""
    due = fy.deadline(DEADLINE)
    # the expert stands outside the org tree: their scope hides the pre-assessment and
    # its item, so this reads them as a panel member, narrowed to the expert's reviews
    with service.as_panel_member() as session:
        rows = session.execute(
            select(ExpertReview.id, ExpertReview.created_at, BudgetItem.code, BudgetItem.name)
            .join(Preassessment, Preassessment.id == ExpertReview.preassessment_id)
            .join(BudgetItem, BudgetItem.id == Preassessment.budget_item_id)
            .where(ExpertReview.user_id == principal.user_id,
                   ExpertReview.submitted_at.is_(None), Preassessment.final_at.is_(None),
                   Preassessment.fiscal_year_id == fy.id)
            .order_by(ExpertReview.id)).all()
    return [Task(STAGE, _l("Score the key pre-assessment of %(item)s as a panel expert",
                           item=" ".join((row.code, row.name))),
                 url_for("preassessment_review.score", id=row.id), since=row.created_at,
                 due=due) for row in rows]


def _queues(principal, fy: FiscalYear) -> list[Task]:
    """The bureau's queues: self-assessments to review, pre-assessments to conclude."""
    due = fy.deadline(DEADLINE)
    tasks = []
    if principal.role in service.WORKFLOW.chain:
        level = service.WORKFLOW.chain.index(principal.role)
        count, since = db.session.execute(
            select(func.count(Preassessment.id), func.min(Preassessment.updated_at))
            .where(Preassessment.fiscal_year_id == fy.id,
                   Preassessment.state == State.SUBMITTED,
                   Preassessment.review_level == level,
                   Preassessment.final_at.is_(None))).one()
        if count:
            tasks.append(Task(
                STAGE, _l("Self-assessments waiting for the finance bureau's review"),
                list_url("preassessment", [("preassessment.state", State.SUBMITTED.name),
                                                ("fiscal_year.year", fy.year)]),
                since=since, due=due, count=count))
    if principal.role in FINANCE:  # ready to conclude: a key one once its panel has scored
        for title, key in ((_l("Pre-assessments waiting for the finance bureau's conclusion"),
                            False),
                           (_l("Key pre-assessments scored by the panel, waiting for the "
                               "finance bureau's conclusion"), True)):
            count, since = db.session.execute(
                select(func.count(Preassessment.id), func.min(Preassessment.updated_at))
                .where(Preassessment.fiscal_year_id == fy.id,
                       Preassessment.state == State.APPROVED, Preassessment.final_at.is_(None),
                       Preassessment.exempt_kind.is_(None), Preassessment.is_key.is_(key),
                       *((Preassessment.panel_complete.is_(True),) if key else ()))).one()
            if count:
                tasks.append(Task(STAGE, title, list_url("preassessment", [
                    ("preassessment.state", State.APPROVED.name), ("fiscal_year.year", fy.year),
                    ("preassessment.is_key", "1" if key else "0"),
                    ("preassessment.exempt_kind", FilterEmpty, "1"),
                    *((("preassessment.panel_complete", "1"),) if key else ())]),
                    since=since, due=due, count=count))
    return tasks
