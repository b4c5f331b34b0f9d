"""What waits for a person in the disclosure stage (待办, ``jixiao_tasks``).

- a department: the year's publications to submit (draft) or fix (returned), one task
  each, due by the year's disclosure deadline;
- the finance bureau: the publications waiting for its approval (a count).

A few queries under the reader's row scope.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.contracts import Task
from core.extensions import db
from core.models import State, WorkflowEvent
from core.services.years import fiscal_year
from core.web.admin.base import list_url
from plugins.disclosure import service
from plugins.disclosure.models import KIND_LABELS, Publication

STAGE = "disclosure"
OPEN = (State.DRAFT, State.RETURNED)
#: the ``StageDeadline.stage`` name of the fiscal year (plugins/system)
DEADLINE = "disclosure"



def disclosure_tasks(principal: Any, year: int) -> list[Task]:
    if principal is None or principal.role not in ("finance_admin", "dept_admin"):
        return []
    fy = fiscal_year(year)
    due = fy.deadline(DEADLINE) if fy is not None else None
    if principal.role == "finance_admin":
        levels = [i for i, r in enumerate(service.WORKFLOW.chain) if r == principal.role]
        count, oldest = db.session.execute(
            select(func.count(Publication.id), func.min(Publication.updated_at))
            .where(Publication.fiscal_year == year, Publication.state == State.SUBMITTED,
                   Publication.review_level.in_(levels))).one()
        if not count:
            return []
        return [Task(STAGE, _l("Publications to approve"), list_url(
            "publication", (Publication.state, FilterEqual, State.SUBMITTED.name),
            (Publication.fiscal_year, FilterEqual, year)), since=oldest, due=due, count=count)]
    events = (select(WorkflowEvent.object_id, func.max(WorkflowEvent.at).label("at"))
              .where(WorkflowEvent.object_type == Publication.__tablename__)
              .group_by(WorkflowEvent.object_id).subquery())
    tasks = []
    for pub, since in db.session.execute(
            select(Publication, func.coalesce(events.c.at, Publication.updated_at))
            .options(selectinload(Publication.budget_item), selectinload(Publication.result))
            .outerjoin(events, events.c.object_id == Publication.id)
            .where(Publication.fiscal_year == year, Publication.state.in_(OPEN))
            .order_by(Publication.kind, Publication.id)):
        kind, name = KIND_LABELS[pub.kind], str(pub)
        title = _l("Fix the returned publication (%(kind)s) %(name)s", kind=kind, name=name) \
            if State(pub.state) == State.RETURNED else \
            _l("Submit for publication (%(kind)s) %(name)s", kind=kind, name=name)
        tasks.append(Task(STAGE, title, url_for("publication.review", id=pub.id),
                          since=since, due=due))
    return tasks
