"""What waits for whom in the service-fee stage (``jixiao_tasks``).

- the commissioning party: quotes beyond tolerance still to be given a reason and
  submitted (or returned for revision), and closed engagements whose quoted effort is
  far above the logged work (the reconciliation flags them);
- the reviewers of the quote workflow (the finance bureau): quotes submitted at their
  level. The bureau gets each queue as one task with its size.

A quote belongs to the fiscal year its engagement started (``FeeQuote.year``).
"""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.contracts import Task
from core.extensions import db
from core.models import State, WorkflowEvent
from core.web.admin.base import list_url
from core.web.admin.states import state_text
from plugins.agency_fees.models import FeeQuote
from plugins.agency_fees.service import QUOTE_WORKFLOW, reconciliation

STAGE = "agency_fees"
_event_t = WorkflowEvent.__table__

#: when the quote last moved in the workflow (else when it was last changed)
_LAST_EVENT = func.coalesce(
    select(func.max(_event_t.c.at)).where(_event_t.c.object_type == FeeQuote.__tablename__,
                                          _event_t.c.object_id == FeeQuote.id)
    .correlate(FeeQuote).scalar_subquery(),
    FeeQuote.updated_at)



def tasks_for(principal, year: int) -> list[Task]:
    if principal is None or principal.agency_id is not None:
        return []
    out: list[Task] = []
    levels = [i for i, role in enumerate(QUOTE_WORKFLOW.chain) if role == principal.role]
    if levels:
        out += _queue(principal, year, (FeeQuote.state == State.SUBMITTED,
                                        FeeQuote.review_level.in_(levels)),
                      _l("Fee quotes awaiting your approval"),
                      lambda code: _l("Approve the fee quote of %(code)s", code=code))
    if principal.role in QUOTE_WORKFLOW.submitters:
        out += _queue(principal, year, (FeeQuote.needs_approval,
                                        FeeQuote.state.in_((State.DRAFT, State.RETURNED))),
                      _l("Fee quotes beyond tolerance to give a reason and submit"),
                      lambda code: _l("Give the reason and submit the fee quote of %(code)s",
                                      code=code), needs_approval="1")
        out += _reconciliations(principal, year)
    return out


def _queue(principal, year, where, queue_title, record_title, **filters) -> list[Task]:
    where = (*where, FeeQuote.year == year)
    if principal.sees_everything:  # one queue per state: the list filters on one state
        rows = db.session.execute(
            select(FeeQuote.state, func.count(FeeQuote.id), func.min(_LAST_EVENT))
            .where(*where).group_by(FeeQuote.state).order_by(FeeQuote.state)).all()
        return [Task(STAGE, queue_title if len(rows) == 1 else _l(
            "%(queue)s: %(state)s", queue=queue_title, state=state_text(
                state, 0, QUOTE_WORKFLOW.chain, QUOTE_WORKFLOW.submitters)),
            list_url("fee_quote", year=year, state=State(state).name, **filters),
            since=since, count=count) for state, count, since in rows]
    if not principal.org_ids:
        return []
    return [Task(STAGE, record_title(code), url_for("fee_quote.sheet", id=quote_id), since=since)
            for quote_id, code, since in db.session.execute(
                select(FeeQuote.id, FeeQuote.engagement_code, _LAST_EVENT)
                .where(*where, FeeQuote.org_unit_id.in_(principal.org_ids))
                .order_by(FeeQuote.engagement_code))]


def _reconciliations(principal, year: int) -> list[Task]:
    """Closed engagements of ``year`` whose quoted person-days are far above the logged ones."""
    if not db.session.scalar(select(func.count(FeeQuote.id)).where(FeeQuote.year == year)):
        return []  # no quote of the year: nothing to reconcile (and no engagement to read)
    flagged = [r["quote"] for r in reconciliation(year)
               if r["flagged"] and principal.covers(r["quote"].org_unit_id)]
    link = url_for("fee_quote.reconciliation", year=year)
    if principal.sees_everything:
        return [Task(STAGE, _l("Quotes far above the logged work to reconcile"), link,
                     since=min(q.updated_at for q in flagged), count=len(flagged))] \
            if flagged else []
    return [Task(STAGE, _l("Reconcile the fee of %(code)s with the logged work",
                           code=q.engagement_code), link, since=q.updated_at)
            for q in flagged]
