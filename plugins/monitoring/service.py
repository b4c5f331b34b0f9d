"""Working with rounds and records: open a round, fill in and submit a record, lights, decisions.

Opening a round is set-based: two ``INSERT … SELECT`` statements per batch of
items over the targets plugin's ``approved_indicator_select`` (core/contracts.py);
people do it as a background job (``open_round_job``) with a progress bar. Lights are one ``UPDATE`` over the round's records
(``refresh_lights``). Every refusal raises ``MonitoringError`` listing each
problem by field; the caller rolls back, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, update

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, utcnow
from core.money import MoneyError, parse_money
from core.permissions import FINANCE
from core.plugins import hooks
from core.services import review
from core.workflow import Workflow, WorkflowError
from plugins.monitoring import figures
from plugins.monitoring.models import (
    CorrectiveDecision,
    DecisionAction,
    IndicatorProgress,
    Light,
    Likelihood,
    MonitoringRecord,
    MonitoringRound,
    Reason,
)

#: the unit reports, its department accepts (a record is then "completed")
RECORD_WORKFLOW = Workflow("monitoring_record", ("dept_admin",))
#: the bureau drafts a decision, then the bureau approves it
DECISION_WORKFLOW = Workflow("monitoring_decision", FINANCE, submitters=FINANCE)
EDITABLE = (State.DRAFT, State.RETURNED)


@dataclass(frozen=True)
class Problem:
    field: str  # "" for the record as a whole
    message: Any

    def __str__(self) -> str:
        label = FIELD_LABELS.get(self.field.split(".")[0])
        return f"{label}: {self.message}" if label else str(self.message)


FIELD_LABELS = {
    "spent": _l("Spent to date"), "over_budget_note": _l("Explanation of spending above budget"),
    "reason": _l("Reason for the deviation"), "measures": _l("Corrective measures"),
    "measures_due": _l("Measures due on"), "achieved": _l("Achieved so far"),
    "forecast": _l("Year-end forecast"), "likelihood": _l("Likelihood of meeting the target"),
    "cutoff": _l("Cut-off date"), "due": _l("Report due on"), "action": _l("Corrective decision"),
    "new_budget": _l("New budget"), "decision_reason": _l("Grounds"),
    "round": _l("Monitoring round"),
}


class MonitoringError(ValueError):
    """Refused: ``problems`` lists every reason; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def refuse(field: str, message: Any) -> MonitoringError:
    return MonitoringError([Problem(field, message)])


# --- rounds ------------------------------------------------------------------------------

def round_is_closed(rnd: MonitoringRound) -> bool:
    return rnd.closed_at is not None


def round_problems(year: FiscalYear, period_start: date, cutoff: date,
                   due: date) -> list[Problem]:
    problems = []
    if not period_start <= cutoff or cutoff.year != year.year or period_start.year != year.year:
        problems.append(Problem("cutoff", _l(
            "The period must lie within the fiscal year %(year)s and end on the cut-off date.",
            year=year.year)))
    if due < cutoff:
        problems.append(Problem("due", _l("The report cannot be due before the cut-off date.")))
    if db.session.scalar(select(MonitoringRound.id).where(
            MonitoringRound.fiscal_year_id == year.id, MonitoringRound.cutoff == cutoff)):
        problems.append(Problem("cutoff", _l("A round with this cut-off date exists already.")))
    return problems


def new_round(year: FiscalYear, name: str, period_start: date, cutoff: date,
              due: date) -> MonitoringRound:
    """Check and add a round (not yet opened: see ``open_round``)."""
    problems = round_problems(year, period_start, cutoff, due)
    if problems:
        raise MonitoringError(problems)
    rnd = MonitoringRound(fiscal_year_id=year.id, fiscal_year=year, name=name.strip(),
                          period_start=period_start, cutoff=cutoff, due=due, record_count=0)
    db.session.add(rnd)
    db.session.flush()
    return rnd


#: budget items added per pair of INSERT … SELECT statements (a step of the progress bar)
OPEN_BATCH = 500


def _approved(rnd: MonitoringRound):
    """The approved indicators of the round's year (a subquery), None without targets."""
    indicators = hooks().approved_indicator_select(rnd.fiscal_year.year)
    return None if indicators is None else indicators.subquery()


def items_to_open(rnd: MonitoringRound) -> list[int]:
    """The budget items with approved targets not in the round yet (what ``open_round`` adds)."""
    src = _approved(rnd)
    if src is None:  # the targets plugin is switched off
        return []
    in_round = exists().where(MonitoringRecord.round_id == rnd.id,
                              MonitoringRecord.budget_item_id == src.c.budget_item_id)
    return list(db.session.scalars(select(src.c.budget_item_id).where(~in_round)
                                   .group_by(src.c.budget_item_id)
                                   .order_by(src.c.budget_item_id)))


def open_round(rnd: MonitoringRound,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Add a record for every item with approved targets not in the round yet, with its
    indicators: two INSERT … SELECT statements per ``OPEN_BATCH`` items, then
    ``progress(done, total)``. Returns the number of records added."""
    if round_is_closed(rnd):
        raise refuse("round", _l("The round is closed."))
    wanted = items_to_open(rnd)
    added = 0
    for i in range(0, len(wanted), OPEN_BATCH):
        added += _open_batch(rnd, wanted[i:i + OPEN_BATCH])
        if progress is not None:
            progress(min(i + OPEN_BATCH, len(wanted)), len(wanted))
    rnd.record_count = (rnd.record_count or 0) + added
    return added


def _open_batch(rnd: MonitoringRound, item_ids: list[int]) -> int:
    src = _approved(rnd)
    now = utcnow()
    expected = figures.expected_rate(rnd.period_start, rnd.cutoff)
    last_id = db.session.scalar(select(func.coalesce(func.max(MonitoringRecord.id), 0)))
    draft = literal(State.DRAFT, MonitoringRecord.__table__.c.state.type)
    items = (select(literal(rnd.id), src.c.budget_item_id, src.c.sheet_id, src.c.org_unit_id,
                    BudgetItem.amount, literal(expected), literal(int(Light.PENDING)), draft,
                    literal(0), literal(1), literal(now), literal(now))
             .join(BudgetItem, BudgetItem.id == src.c.budget_item_id)
             .where(src.c.budget_item_id.in_(item_ids))
             .group_by(src.c.budget_item_id, src.c.sheet_id, src.c.org_unit_id, BudgetItem.amount))
    db.session.execute(insert(MonitoringRecord).from_select(
        ["round_id", "budget_item_id", "sheet_id", "org_unit_id", "budget", "expected_rate",
         "light", "state", "review_level", "version", "created_at", "updated_at"],
        items))
    # (the ORM INSERT … SELECT reports no rowcount on PostgreSQL: count what is new)
    added = db.session.scalar(select(func.count()).where(
        MonitoringRecord.round_id == rnd.id, MonitoringRecord.id > last_id))
    rec = MonitoringRecord.__table__.c
    db.session.execute(insert(IndicatorProgress).from_select(
        ["record_id", "org_unit_id", "indicator_id", "position", "level1", "level2", "name",
         "comparator", "target_value", "unit"],
        # the targets plugin stores its comparator enum by name (GE …): copy the value (ge …)
        select(rec.id, src.c.org_unit_id, src.c.indicator_id, src.c.position, src.c.level1,
               src.c.level2, src.c.name, func.lower(src.c.comparator), src.c.target_value,
               src.c.unit)
        .join(src, and_(rec.budget_item_id == src.c.budget_item_id, rec.round_id == rnd.id))
        .where(rec.id > last_id)))
    return added


def open_round_job(progress: Callable[[int, int], None], round_id: int) -> str:
    """The background job of "open the round" (and of adding newly approved items)."""
    rnd = db.session.get(MonitoringRound, round_id)
    if rnd is None:
        raise ValueError(gettext("The monitoring round no longer exists."))
    added = open_round(rnd, progress)  # a refusal (closed round) is a ValueError: its words
    return gettext("%(count)s monitoring records added to the round %(name)s.", count=added,
                   name=rnd.name)


def close_round(rnd: MonitoringRound) -> None:
    if round_is_closed(rnd):
        raise refuse("round", _l("The round is closed."))
    rnd.closed_at = utcnow()


# --- lights ------------------------------------------------------------------------------

def refresh_lights(round_id: int, record_ids: Sequence[int] | None = None) -> None:
    """Recompute the indicator deviation and the light of the round's records: one
    ``UPDATE … FROM`` an aggregate of their indicators (one pass, no per-row subqueries)."""
    limits = figures.thresholds()
    rec = MonitoringRecord.__table__.c
    ind = IndicatorProgress.__table__.c
    own = MonitoringRecord.__table__.alias("own")
    scope = [own.c.round_id == round_id]
    if record_ids is not None:
        scope.append(own.c.id.in_(list(record_ids)))
    agg = (select(ind.record_id.label("record_id"),
                  func.max(ind.progress_deviation).label("worst"),
                  func.max(case((or_(ind.forecast_deviation > 0,
                                     ind.likelihood == Likelihood.IMPOSSIBLE), 1),
                                else_=0)).label("missed"))
           .join(own, own.c.id == ind.record_id).where(*scope)
           .group_by(ind.record_id).subquery("agg"))
    spend = func.coalesce(rec.spending_deviation, 0)
    worst = func.coalesce(agg.c.worst, 0)
    light = case(
        (rec.spent.is_(None), int(Light.PENDING)),
        (or_(agg.c.missed == 1, spend >= limits.spending_red, worst >= limits.indicator_red),
         int(Light.RED)),
        (or_(spend >= limits.spending_yellow, worst >= limits.indicator_yellow),
         int(Light.YELLOW)),
        else_=int(Light.GREEN))
    db.session.execute(update(MonitoringRecord.__table__)
                       .where(rec.id == agg.c.record_id)
                       .values(indicator_deviation=agg.c.worst, light=light))
    for obj in db.session.identity_map.values():
        if isinstance(obj, MonitoringRecord) and obj.round_id == round_id:
            db.session.expire(obj, ["indicator_deviation", "light"])


# --- records -----------------------------------------------------------------------------

def check_open(record: MonitoringRecord, user) -> None:
    """Refuse unless the round is open, the record a draft or returned and ``user`` its owner."""
    if round_is_closed(record.round):
        raise refuse("round", _l("The round %(round)s is closed: nothing can be submitted or "
                                 "changed any more.", round=record.round.name))
    if State(record.state or State.DRAFT) not in EDITABLE:
        raise refuse("", _l("The record of %(item)s is submitted or accepted and cannot be "
                            "changed.", item=record.budget_item.code))
    if (problem := review.edit_problem(RECORD_WORKFLOW, record, user)) is not None:
        raise refuse("", problem)


def set_spent(record: MonitoringRecord, raw: Any, note: str | None) -> list[Problem]:
    """Validate and store spending to date; returns the problems (nothing stored then)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return [Problem("spent", _l("Enter the amount spent to date."))]
    try:
        spent = parse_money(raw)
    except MoneyError as exc:
        return [Problem("spent", exc.args[0])]
    note = (note or "").strip() or None
    if spent > record.budget and note is None:
        return [Problem("over_budget_note", _l(
            "%(spent)s yuan is above the budget of %(budget)s yuan: explain why.",
            spent=spent, budget=record.budget))]
    record.spent = spent
    record.over_budget_note = note
    record.execution_rate = figures.execution_rate(spent, record.budget)
    rate = record.execution_rate if record.execution_rate is not None else Decimal(0)
    record.spending_deviation = figures.pct(record.expected_rate - rate)
    return []


def _value(raw: Any, field: str, comparator: str) -> tuple[str | None, Decimal | None,
                                                           Problem | None]:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None, None, None
    if isinstance(raw, float):
        return None, None, Problem(field, _l("Send numbers as strings, not floats."))
    if comparator == "qualitative":
        return text[:200], None, None
    value = figures.number(text)
    if value is None:
        return None, None, Problem(field, _l("Not a number: %(value)s.", value=text[:40]))
    if value < 0:
        return None, None, Problem(field, _l("Cannot be negative."))
    return text, value, None


def save_record(record: MonitoringRecord, data: Mapping[str, Any], user) -> None:
    """Store what the unit reports (spending, per-indicator progress, reason, measures).

    ``data``: ``spent``, ``over_budget_note``, ``reason``, ``reason_note``, ``measures``,
    ``measures_due`` (a date or ISO text) and ``indicators``: {IndicatorProgress id:
    {achieved, forecast, likelihood, reason}}. All or nothing.
    """
    check_open(record, user)
    problems: list[Problem] = []
    if "spent" in data:
        problems += set_spent(record, data.get("spent"), data.get("over_budget_note"))
    reason = (data.get("reason") or "").strip() if "reason" in data else None
    if reason:
        if reason not in Reason._value2member_map_:
            problems.append(Problem("reason", _l("Choose a reason from the list.")))
        else:
            record.reason = Reason(reason)
    elif reason == "":
        record.reason = None
    for key in ("reason_note", "measures"):
        if key in data:
            setattr(record, key, (data.get(key) or "").strip() or None)
    if "measures_due" in data:
        due, problem = _date(data.get("measures_due"), "measures_due")
        if problem:
            problems.append(problem)
        else:
            record.measures_due = due
    share = record.expected_rate
    by_id = {i.id: i for i in record.indicators}
    for key, values in (data.get("indicators") or {}).items():
        ind = by_id.get(int(key))
        if ind is None:
            problems.append(Problem("", _l("Indicator %(id)s is not part of this record.",
                                           id=key)))
            continue
        prefix = f"{ind.name} · "
        achieved_text, achieved, p1 = _value(values.get("achieved"), "achieved", ind.comparator)
        forecast_text, forecast, p2 = _value(values.get("forecast"), "forecast", ind.comparator)
        for p in (p1, p2):
            if p is not None:
                problems.append(Problem(p.field, f"{prefix}{p.message}"))
        likely = (values.get("likelihood") or "").strip()
        if likely and likely not in Likelihood._value2member_map_:
            problems.append(Problem("likelihood", f"{prefix}{_l('Choose from the list.')}"))
        ind_reason = (values.get("reason") or "").strip()
        if ind_reason and ind_reason not in Reason._value2member_map_:
            problems.append(Problem("reason", f"{prefix}{_l('Choose a reason from the list.')}"))
        if p1 or p2:
            continue
        ind.achieved, ind.forecast = achieved_text, forecast_text
        ind.likelihood = Likelihood(likely) if likely in Likelihood._value2member_map_ else None
        ind.reason = Reason(ind_reason) if ind_reason in Reason._value2member_map_ else None
        ind.progress_deviation, ind.forecast_deviation = figures.deviations(
            ind.comparator, ind.target_value, ind.unit, achieved, forecast, share)
    if problems:
        raise MonitoringError(problems)
    db.session.flush()
    refresh_lights(record.round_id, [record.id])


def _date(raw: Any, field: str) -> tuple[date | None, Problem | None]:
    if raw in (None, ""):
        return None, None
    if isinstance(raw, date):
        return raw, None
    try:
        return date.fromisoformat(str(raw).strip()), None
    except ValueError:
        return None, Problem(field, _l("Not a date (YYYY-MM-DD)."))


def prospective_light(record: MonitoringRecord) -> int:
    worst = max((i.progress_deviation for i in record.indicators
                 if i.progress_deviation is not None), default=None)
    missed = any((i.forecast_deviation or 0) > 0 or i.likelihood == Likelihood.IMPOSSIBLE
                 for i in record.indicators)
    return figures.light_for(record.spending_deviation, worst, missed,
                             record.spent is not None, figures.thresholds())


def completeness_problems(record: MonitoringRecord) -> list[Problem]:
    """What a record needs before it is submitted."""
    problems = []
    if record.spent is None:
        problems.append(Problem("spent", _l("Enter the amount spent to date.")))
    for ind in record.indicators:
        if not ind.achieved or not ind.forecast or ind.likelihood is None:
            problems.append(Problem("", _l(
                "%(name)s: enter the value achieved, the forecast and the likelihood.",
                name=ind.name)))
    light = prospective_light(record)
    if light >= Light.YELLOW and record.reason is None:
        problems.append(Problem("reason", _l("The item deviates from its path: choose a reason.")))
    if light >= Light.RED and (not record.measures or record.measures_due is None):
        problems.append(Problem("measures", _l(
            "The item is at red: describe the corrective measures and their date.")))
    return problems


def transition(record: MonitoringRecord, action: str, user, comment: str = "") -> None:
    if action == "submit":
        check_open(record, user)
        problems = completeness_problems(record)
        if problems:
            raise MonitoringError(problems)
    elif round_is_closed(record.round):
        raise refuse("round", _l("The round %(round)s is closed: nothing can be submitted or "
                                 "changed any more.", round=record.round.name))
    try:
        RECORD_WORKFLOW.transition(record, action, user, comment)
    except WorkflowError as exc:
        raise refuse("", exc.args[0]) from None
    if action == "submit":
        record.submitted_at = utcnow()


# --- corrective decisions ----------------------------------------------------------------

def new_decision(record: MonitoringRecord, action: str, reason: str, user,
                 new_budget: Any = None, due: Any = None) -> CorrectiveDecision:
    """A draft decision of the bureau on a red record."""
    problems = []
    if record.light != Light.RED:
        problems.append(Problem("", _l("Decisions are taken on red items only.")))
    if action not in DecisionAction._value2member_map_:
        problems.append(Problem("action", _l("Choose a decision from the list.")))
    if not (reason or "").strip():
        problems.append(Problem("decision_reason", _l("State the grounds of the decision.")))
    amount = None
    if action == DecisionAction.ADJUST_BUDGET:
        try:
            amount = parse_money(new_budget if new_budget not in (None, "") else "x")
        except MoneyError as exc:
            problems.append(Problem("new_budget", exc.args[0]))
    when, problem = _date(due, "due")
    if problem:
        problems.append(problem)
    if action == DecisionAction.RECTIFICATION and when is None and problem is None:
        problems.append(Problem("due", _l("Rectification needs a date by which it is done.")))
    if problems:
        raise MonitoringError(problems)
    decision = CorrectiveDecision(
        record_id=record.id, budget_item_id=record.budget_item_id,
        org_unit_id=record.org_unit_id, action=DecisionAction(action), reason=reason.strip(),
        new_budget=amount, due=when, decided_by_id=getattr(user, "id", None),
        state=State.DRAFT, review_level=0)
    db.session.add(decision)
    db.session.flush()
    return decision


def decide(decision: CorrectiveDecision, action: str, user, comment: str = "") -> None:
    """Move a decision through the workflow; an approved budget adjustment changes the item
    (the core audit log records the change against the BudgetItem)."""
    try:
        DECISION_WORKFLOW.transition(decision, action, user, comment)
    except WorkflowError as exc:
        raise refuse("", exc.args[0]) from None
    if action == "approve" and decision.state == State.APPROVED and \
            decision.action == DecisionAction.ADJUST_BUDGET:
        decision.budget_item.amount = decision.new_budget


def item_history(item_id: int) -> list[tuple[MonitoringRecord, list[CorrectiveDecision]]]:
    """Every record of an item (newest round first) with the bureau's decisions on it."""
    records = db.session.scalars(
        select(MonitoringRecord).join(MonitoringRound)
        .where(MonitoringRecord.budget_item_id == item_id)
        .order_by(MonitoringRound.cutoff.desc())).all()
    decisions: dict[int, list[CorrectiveDecision]] = {}
    for d in db.session.scalars(select(CorrectiveDecision).where(
            CorrectiveDecision.budget_item_id == item_id).order_by(CorrectiveDecision.id)):
        decisions.setdefault(d.record_id, []).append(d)
    return [(r, decisions.get(r.id, [])) for r in records]
