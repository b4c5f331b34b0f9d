"""Self-evaluations: bulk creation from approved targets, entering actuals, scoring, review.

Scoring goes through ``sheet.score_sheet(sheet_data(...))`` — for one
evaluation on its page and for the stateless API alike; a whole year
(``year.score_year``, the CLI) uses the same points functions on the rows and
``score_sheet`` for any sheet it does not take as it is. A finalized evaluation (approved by the department) cannot
change; finalizing makes the result-application suggestion and calls
``jixiao_evaluation_finalized`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, utcnow
from core.money import MoneyError, parse_money
from core.plugins import hooks
from core.services import review
from core.services.score_records import latest_score, save_score, trace_of
from core.services.scoring import Problem, ScoreTrace, hook_resolver
from core.workflow import Workflow, WorkflowError
from plugins.evaluation.contracts import self_result
from plugins.evaluation.models import ResultSuggestion, SelfEvaluation, SelfEvaluationLine
from plugins.evaluation.rules import (
    execution_weight,
    find_rules,
    rules_for_year,
    suggestion_for,
)
from plugins.evaluation.sheet import (
    SheetError,
    SheetScore,
    plain,
    plain_text,
    score_sheet,
)
from plugins.evaluation.weights import self_evaluation_weights

#: unit → department; the department's approval finalizes the self-evaluation
WORKFLOW = Workflow("self_evaluation", ("dept_admin",))
EDITABLE = (State.DRAFT, State.RETURNED)
PURPOSE = "self_evaluation"
OBJECT_KINDS = {"project": "project", "policy": "policy", "department_overall": "department"}
BATCH = 2000
#: decimal places of a stored qualitative ratio (self_evaluation_line.ratio)
RATIO_PLACES = 4


class EvaluationError(ValueError):
    """Refused: ``problems`` lists every reason; nothing was written."""

    def __init__(self, problems: Sequence[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


# --- creation ---------------------------------------------------------------------------

def missing(year: int, item_ids: Iterable[int] | None = None) -> tuple[dict[int, list], list[int]]:
    """The approved indicators of ``year`` by budget item, and the items still without a
    self-evaluation (what ``create_for_year`` would create)."""
    chosen = approved_indicator_rows(year, item_ids)
    existing = set()
    keys = list(chosen)
    for i in range(0, len(keys), BATCH):
        existing.update(db.session.scalars(select(SelfEvaluation.budget_item_id).where(
            SelfEvaluation.budget_item_id.in_(keys[i:i + BATCH]))))
    return chosen, [i for i in chosen if i not in existing]


def create_for_year(year: int, item_ids: Iterable[int] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> int:
    """Create the missing self-evaluations of ``year`` from the approved targets (set-based).

    Reads ``core.plugins.hooks().approved_indicator_select``; items that already have a
    self-evaluation are left alone. Calls ``progress(done, total)`` after each batch of
    items. Returns the number created.
    """
    chosen, wanted = missing(year, item_ids)
    if not wanted:
        return 0
    fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year))
    rules = rules_for_year(year)
    created = 0
    for i in range(0, len(wanted), BATCH):
        created += _create_batch(fy, rules, chosen, wanted[i:i + BATCH])
        if progress is not None:
            progress(min(i + BATCH, len(wanted)), len(wanted))
    return created


def _create_batch(fy: FiscalYear, rules: Any, chosen: dict[int, list], wanted: list[int]) -> int:
    items = {row.id: row for row in db.session.execute(
        select(BudgetItem.id, BudgetItem.kind, BudgetItem.amount).where(
            BudgetItem.id.in_(wanted)))}
    now = utcnow()
    rows = [{"budget_item_id": item_id, "fiscal_year_id": fy.id,
             "org_unit_id": chosen[item_id][0].org_unit_id,
             "target_sheet_id": chosen[item_id][0].sheet_id,
             "object_kind": OBJECT_KINDS.get(str(items[item_id].kind), "project"),
             "rule_code": rules.code, "budget": items[item_id].amount,
             "execution_weight": execution_weight(rules), "state": State.DRAFT,
             "review_level": 0, "version": 1, "summary": "", "created_at": now,
             "updated_at": now} for item_id in wanted if item_id in items]
    if not rows:
        return 0
    db.session.execute(insert(SelfEvaluation), rows)
    ids = dict(db.session.execute(select(SelfEvaluation.budget_item_id, SelfEvaluation.id)
                                  .where(SelfEvaluation.budget_item_id.in_(wanted))).all())
    lines = []
    for item_id in wanted:
        if item_id not in items:
            continue
        indicators = chosen[item_id]
        weights = self_evaluation_weights(rules, [r.level1 for r in indicators],
                                          [Decimal(r.weight) for r in indicators])
        for position, (r, weight) in enumerate(zip(indicators, weights, strict=True), start=1):
            lines.append({"evaluation_id": ids[item_id], "org_unit_id": r.org_unit_id,
                          "position": position, "level1": r.level1, "level2": r.level2,
                          "name": r.name, "comparator": str(r.comparator),
                          "target_value": r.target_value, "unit": r.unit, "weight": weight,
                          "method": r.scoring_method, "actual": None, "grade": None,
                          "ratio": None, "explanation": ""})
    for i in range(0, len(lines), BATCH * 5):
        db.session.execute(insert(SelfEvaluationLine), lines[i:i + BATCH * 5])
    return len(rows)


def create_year_job(progress: Callable[[int, int], None], year: int) -> str:
    """The background job of "create the self-evaluations of a year": its summary."""
    created = create_for_year(year, progress=progress)
    return gettext("%(count)s self-evaluations created for %(year)s.", count=created, year=year)


def approved_indicator_rows(year: int, item_ids: Iterable[int] | None = None) -> dict[int, list]:
    """The approved indicators of ``year`` grouped by budget item, in sheet order."""
    stmt = hooks().approved_indicator_select(year)
    if stmt is None:
        return {}
    sub = stmt.subquery()
    query = select(sub).order_by(sub.c.budget_item_id, sub.c.position, sub.c.indicator_id)
    if item_ids is not None:
        query = query.where(sub.c.budget_item_id.in_(list(item_ids)))
    return {k: list(g) for k, g in groupby(db.session.execute(query),
                                             key=lambda r: r.budget_item_id)}


def require_targets(item: BudgetItem) -> None:
    """Refuse an item without approved targets (only those are self-evaluated)."""
    if not hooks().approved_targets(item_ids=[item.id]):
        raise EvaluationError(Problem("budget_item_id", _l(
            "%(item)s has no approved performance targets, so it cannot be self-evaluated.",
            item=item.code)))


def create_one(item: BudgetItem) -> SelfEvaluation:
    require_targets(item)
    create_for_year(item.fiscal_year.year, [item.id])
    found = db.session.scalar(select(SelfEvaluation).where(
        SelfEvaluation.budget_item_id == item.id))
    assert found is not None
    return found


# --- the sheet as data (the one input of scoring) -----------------------------------------

def line_data(line: Any) -> dict[str, Any]:
    return {"level1": line.level1, "level2": line.level2, "name": line.name,
            "comparator": line.comparator, "target": line.target_value, "unit": line.unit,
            "weight": plain_text(line.weight), "method": line.method, "actual": line.actual,
            "grade": line.grade, "ratio": None if line.ratio is None else plain_text(line.ratio)}


def sheet_data(ev: Any, lines: Iterable[Any]) -> dict[str, Any]:
    """A saved evaluation as the JSON body of ``POST /api/v1/scoring/self-evaluation``."""
    return {"rule_version": ev.rule_code, "budget": str(ev.budget),
            "spent": None if ev.spent is None else str(ev.spent),
            "execution_weight": str(plain(ev.execution_weight)),
            "indicators": [line_data(line) for line in lines]}


def execution_not_applicable(ev: SelfEvaluation) -> bool:
    """True when budget execution does not count (a budget of 0 under a ``share`` version)."""
    return ev.budget == 0 and find_rules(ev.rule_code).zero_budget == "share"


def compute(ev: SelfEvaluation) -> SheetScore:
    return score_sheet(sheet_data(ev, ev.lines), resolver=hook_resolver(current_app))


def current_trace(ev: SelfEvaluation) -> ScoreTrace | None:
    """What the score screen explains: the frozen trace of a finalized evaluation, else the
    trace of its lines as they are now (None while values are missing or wrong)."""
    if ev.finalized_at is not None:
        record = latest_score(db.session, ev, PURPOSE)
        return trace_of(record) if record is not None else None
    try:
        return compute(ev).trace
    except SheetError:
        return None


# --- entering actuals, scoring, review ------------------------------------------------------

def check_editable(ev: SelfEvaluation, user: Any) -> None:
    """Refuse unless ``user`` owns the self-evaluation and it is an open draft or returned."""
    if ev.finalized_at is not None or State(ev.state or State.DRAFT) not in EDITABLE:
        raise EvaluationError(Problem("", _l(
            "The self-evaluation of %(item)s is submitted or finalized and cannot be changed.",
            item=ev.budget_item.code)))
    if (problem := review.edit_problem(WORKFLOW, ev, user)) is not None:
        raise EvaluationError(Problem("", problem))


def save_actuals(ev: SelfEvaluation, spent: Any, values: Mapping[int, Mapping[str, Any]],
                 summary: str | None, user: Any) -> SheetScore:
    """Enter the spent amount and the actual values; score; all or nothing.

    ``values`` maps a line id to ``actual`` (or ``grade`` and ``ratio`` for a
    qualitative indicator) and ``explanation``. Bad values are refused with
    every problem named, and nothing changes.
    """
    check_editable(ev, user)
    try:
        spent_amount = parse_money(spent)
    except MoneyError as exc:
        raise EvaluationError(Problem("spent", _l("The amount spent: %(error)s",
                                                  error=exc))) from None
    data = sheet_data(ev, ev.lines)
    data["spent"] = str(spent_amount)
    for line, raw in zip(ev.lines, data["indicators"], strict=True):
        entered = values.get(line.id, {})
        for key in ("actual", "grade", "ratio"):
            if key in entered:
                raw[key] = entered[key]
    try:
        result = score_sheet(data, resolver=hook_resolver(current_app))
    except SheetError as exc:
        raise EvaluationError(exc.problems) from None
    for n, raw in enumerate(data["indicators"]):
        ratio = raw.get("ratio")
        if ratio not in (None, "") and Decimal(str(ratio)).as_tuple().exponent < -RATIO_PLACES:
            raise EvaluationError(Problem(f"indicators.{n}.ratio", _l(
                "The ratio of “%(name)s” may have at most %(places)s decimal places.",
                name=raw["name"], places=RATIO_PLACES)))
    ev.spent = spent_amount
    for line, raw in zip(ev.lines, data["indicators"], strict=True):
        entered = values.get(line.id, {})
        if line.comparator == "qualitative":
            line.grade = raw["grade"]
            line.ratio = None if raw.get("ratio") in (None, "") else Decimal(str(raw["ratio"]))
        else:
            line.actual = str(raw["actual"]).strip()
        if "explanation" in entered:
            line.explanation = str(entered["explanation"] or "").strip()
    if summary is not None:
        ev.summary = summary.strip()
    record(ev, result, user)
    return result


def record(ev: SelfEvaluation, result: SheetScore, user: Any = None) -> None:
    """Keep the score: a ``ScoreRecord`` with the trace, and the figures on the evaluation."""
    ev.score, ev.grade, ev.scored_at = result.score, result.grade, utcnow()
    db.session.flush()
    save_score(db.session, ev, result.trace, purpose=PURPOSE, org_unit_id=ev.org_unit_id,
               user=user)


def unexplained(ev: SelfEvaluation, result: SheetScore) -> list[Problem]:
    """Every missed indicator (below full points) needs the unit's explanation."""
    return [Problem(f"lines.{line.id}.explanation", _l(
        "Explain why “%(name)s” missed its target (%(points)s of %(weight)s points).",
        name=line.name, points=scored.points, weight=scored.weight))
        for line, scored in zip(ev.lines, result.lines, strict=True)
        if scored.missed and not (line.explanation or "").strip()]


def transition(ev: SelfEvaluation, action: str, user: Any, comment: str = "") -> None:
    """Submit / approve / return; approval by the department finalizes (caller commits)."""
    if ev.finalized_at is not None:
        raise EvaluationError(Problem("", _l("The self-evaluation is finalized.")))
    if action == "submit":
        try:
            result = compute(ev)
        except SheetError as exc:
            raise EvaluationError(exc.problems) from None
        problems = unexplained(ev, result)
        if problems:
            raise EvaluationError(problems)
    try:
        WORKFLOW.transition(ev, action, user, comment)
    except WorkflowError as exc:
        raise EvaluationError(Problem("", str(exc))) from None
    if State(ev.state) == State.APPROVED:
        finalize(ev, user)


def finalize(ev: SelfEvaluation, user: Any = None) -> EvaluationResult:
    """Freeze the evaluation, make its suggestion, tell the other plugins."""
    result = compute(ev)
    record(ev, result, user)
    ev.finalized_at = utcnow()
    db.session.flush()
    view = self_result(ev)
    db.session.add(ResultSuggestion(
        evaluation_kind="self", evaluation_id=ev.id, fiscal_year=view.fiscal_year,
        org_unit_id=ev.org_unit_id, title=view.title, score=view.score,
        grade=ev.grade or "", suggested=suggestion_for(ev.grade or ""), note=""))
    db.session.flush()
    hooks().evaluation_finalized(view)
    return view
