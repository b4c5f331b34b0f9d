"""What waits for a person in the monitoring stage (待办, ``jixiao_tasks``).

- a unit (and a department for its own items): the reports of open rounds in draft
  or returned, due on the round's day, one task each;
- the department (level 0 of ``service.RECORD_WORKFLOW``): the reports submitted to
  it in open rounds, one task each;
- the finance bureau (sees every row): per round, the red items without a corrective
  decision, and the decisions submitted for its approval, as queues with their count.

A few queries, all under the principal's row scope.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from core.contracts import Task
from core.extensions import db
from core.models import BudgetItem, State, User, WorkflowEvent
from core.services.years import fiscal_year
from core.web.admin.base import list_url
from plugins.monitoring import service
from plugins.monitoring.admin import DecisionFilter
from plugins.monitoring.models import CorrectiveDecision, Light, MonitoringRecord, MonitoringRound

STAGE = "monitoring"
#: roles that report: a unit for every item in its scope, a department (or town) only
#: for the items of its own org unit (its units' reports it accepts)
WRITERS = ("unit_user", "dept_admin")




def monitoring_tasks(principal, year: int) -> list[Task]:
    if principal is None:
        return []
    fy = fiscal_year(year)
    if fy is None:
        return []
    fy_id = fy.id
    if principal.sees_everything:
        return _queues(fy_id)
    tasks: list[Task] = []
    if principal.role in WRITERS:
        tasks += _reports(principal, fy_id, service.EDITABLE, None)
    if principal.role in service.RECORD_WORKFLOW.chain:
        tasks += _reports(principal, fy_id, (State.SUBMITTED,),
                          service.RECORD_WORKFLOW.chain.index(principal.role))
    return tasks


def _reports(principal, fy_id: int, states, level: int | None) -> list[Task]:
    """Records of the year's open rounds in ``states``: to report (``level`` None) or to
    review at ``level``."""
    stmt = (select(MonitoringRecord.id, MonitoringRecord.state, MonitoringRecord.updated_at,
                   MonitoringRound.name.label("round"), MonitoringRound.due,
                   BudgetItem.code, BudgetItem.name,
                   WorkflowEvent.last_at(MonitoringRecord).label("moved_at"))
            .join(MonitoringRound, MonitoringRound.id == MonitoringRecord.round_id)
            .join(BudgetItem, BudgetItem.id == MonitoringRecord.budget_item_id)
            .where(MonitoringRound.fiscal_year_id == fy_id, MonitoringRound.closed_at.is_(None),
                   MonitoringRecord.state.in_(states))
            .order_by(MonitoringRound.due, BudgetItem.code))
    if level is not None:
        stmt = stmt.where(MonitoringRecord.review_level == level)
    elif principal.role != "unit_user":
        person = db.session.get(User, principal.user_id) if principal.user_id else None
        stmt = stmt.where(MonitoringRecord.org_unit_id ==
                          (person.org_unit_id if person is not None else None))
    tasks = []
    for row in db.session.execute(stmt):
        names = {"item": f"{row.code} {row.name}", "round": row.round}
        if level is not None:
            title = _l("Review the monitoring report of %(item)s (%(round)s)", **names)
        elif State(row.state) == State.RETURNED:
            title = _l("Revise the returned monitoring report of %(item)s (%(round)s)", **names)
        else:
            title = _l("Report the execution of %(item)s (%(round)s)", **names)
        tasks.append(Task(STAGE, title, url_for("monitoringrecord.record_page", id=row.id),
                          since=row.moved_at or row.updated_at, due=row.due))
    return tasks


def _queues(fy_id: int) -> list[Task]:
    """Red items without a decision (per round) and decisions waiting for approval."""
    tasks = []
    decided = exists().where(CorrectiveDecision.record_id == MonitoringRecord.id)
    for name, count, since in db.session.execute(
            select(MonitoringRound.name, func.count(MonitoringRecord.id),
                   func.min(MonitoringRecord.updated_at))
            .join(MonitoringRecord, MonitoringRecord.round_id == MonitoringRound.id)
            .where(MonitoringRound.fiscal_year_id == fy_id,
                   MonitoringRecord.light == int(Light.RED), ~decided)
            .group_by(MonitoringRound.id, MonitoringRound.name, MonitoringRound.cutoff)
            .order_by(MonitoringRound.cutoff)):
        tasks.append(Task(
            STAGE, _l("Red items without a corrective decision (%(round)s)", round=name),
            list_url("monitoringrecord", [("monitoring_round.name", name),
                                          ("monitoring_record.light", int(Light.RED)),
                                          ("monitoring_record.id", DecisionFilter, "none")]),
            since=since, count=count))
    level = service.DECISION_WORKFLOW.chain.index("finance_admin")
    count, since = db.session.execute(
        select(func.count(CorrectiveDecision.id), func.min(CorrectiveDecision.updated_at))
        .join(MonitoringRecord, MonitoringRecord.id == CorrectiveDecision.record_id)
        .join(MonitoringRound, MonitoringRound.id == MonitoringRecord.round_id)
        .where(MonitoringRound.fiscal_year_id == fy_id,
               CorrectiveDecision.state == State.SUBMITTED,
               CorrectiveDecision.review_level == level)).one()
    if count:
        tasks.append(Task(
            STAGE, _l("Corrective decisions waiting for the finance bureau's approval"),
            list_url("correctivedecision",
                          [("corrective_decision.state", State.SUBMITTED.name)]),
            since=since, count=count))
    return tasks
