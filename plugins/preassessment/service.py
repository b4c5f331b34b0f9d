"""Working with pre-assessments: the trigger, self-assessment, key selection, the expert
panel, the conclusion. Every refusal raises ``PreassessmentError`` listing every reason;
the caller rolls back, so nothing is half-written."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, User, utcnow
from core.money import MoneyError, parse_money
from core.permissions import FINANCE
from core.scope import unscoped
from core.services import review
from core.services.score_records import save_score
from core.services.scoring import (
    Indicator,
    ScoreTrace,
    ScoringError,
    hook_resolver,
    score,
    to_decimal,
)
from core.workflow import Workflow, WorkflowError
from plugins.preassessment.models import (
    CONCLUSION_LABELS,
    Conclusion,
    ExpertReview,
    Preassessment,
)
from plugins.preassessment.rules import (
    ADJUST,
    REJECT,
    SUPPORT,
    PreassessmentRules,
    find_rules,
    rules_for_year,
)

#: the department submits its self-assessment to the finance bureau
WORKFLOW = Workflow("preassessment", FINANCE)
EDITABLE = (State.DRAFT, State.RETURNED)
SUBMITTED = (State.SUBMITTED, State.APPROVED)
EXPERT_ROLE = "expert"
SELF, EXPERT, PANEL = "preassessment_self", "preassessment_expert", "preassessment_panel"

STATUS_LABELS = {
    "missing": _l("Missing"),
    "exempt": _l("Assessed by the specialist department"),
    "submitted": _l("Self-assessment submitted"),
    "accepted": _l("Self-assessment accepted"),
    "concluded": _l("Concluded"),
}


class PreassessmentError(ValueError):
    """Refused: ``problems`` lists every reason (messages); nothing was written."""

    def __init__(self, problems: Sequence[Any] | Any) -> None:
        if not isinstance(problems, list | tuple):
            problems = [problems]
        self.problems = [str(p) for p in problems]
        super().__init__("; ".join(self.problems))


# --- scoring the sheets ---------------------------------------------------------------

def resolver():
    return hook_resolver(current_app)


def rules_of(pa: Preassessment) -> PreassessmentRules:
    found = find_rules(pa.rules_code) if pa.rules_code else None
    return found or rules_for_year(pa.budget_item.fiscal_year.year)


def compute(rules: PreassessmentRules, points: Mapping[str, Any], root: str) -> ScoreTrace:
    """Score a sheet with the core engine; problems become a PreassessmentError."""
    try:
        return score(rules.sheet_tree(points, root), rules.scoring_rules(), resolver())
    except ScoringError as exc:
        raise PreassessmentError([_problem_text(p) for p in exc.problems]) from None


def _problem_text(problem) -> str:
    path = problem.path.removesuffix("/points")
    return f"{path}: {problem.message}" if path else str(problem.message)


def clean_points(rules: PreassessmentRules, raw: Mapping[str, Any], *,
                 complete: bool) -> dict[str, str]:
    """Checked points by indicator path (blanks left out unless ``complete``)."""
    problems: list[Any] = []
    out: dict[str, str] = {}
    known = {ind.path for ind in rules.sheet}
    for path in raw:
        if path not in known:
            problems.append(_l("Unknown indicator “%(path)s”.", path=path))
    for ind in rules.sheet:
        value = raw.get(ind.path)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if complete:
                problems.append(_l("%(path)s: a score is required.", path=ind.path))
            continue
        try:
            points = to_decimal(value, "points")
        except ScoringError:
            problems.append(_l("%(path)s: the score must be a number.", path=ind.path))
            continue
        if not 0 <= points <= ind.weight:
            problems.append(_l("%(path)s: the score must be between 0 and %(max)s.",
                               path=ind.path, max=ind.weight))
        elif points != points.quantize(Decimal("0.01")):
            problems.append(_l("%(path)s: at most two decimal places are allowed.",
                               path=ind.path))
        else:
            out[ind.path] = str(points)
    if problems:
        raise PreassessmentError(problems)
    return out


# --- the trigger ---------------------------------------------------------------------

@dataclass(frozen=True)
class TriggerRow:
    item: BudgetItem
    pa: Preassessment | None
    status: str
    reasons: tuple[str, ...]


def status_of(pa: Preassessment | None) -> str:
    if pa is None:
        return "missing"
    if pa.final_at is not None:
        return "concluded"
    if pa.exempt_kind is not None and (pa.review_opinion or "").strip():
        return "exempt"
    state = State(pa.state or State.DRAFT)
    if state == State.SUBMITTED:
        return "submitted"
    if state == State.APPROVED:
        return "accepted"
    return "missing"


def _reasons(item: BudgetItem, pa: Preassessment | None) -> tuple[str, ...]:
    out = []
    if item.is_new:
        out.append(str(_l("New")))
    if pa is not None and pa.substantially_changed:
        out.append(str(_l("Substantially changed")))
    if pa is not None and pa.extends_expiring_policy:
        out.append(str(_l("Expiring policy to be extended")))
    return tuple(out)


def trigger_rows(year: int, *, only_missing: bool = False) -> list[TriggerRow]:
    """Items of budget ``year`` that need a pre-assessment (in the user's scope), largest first."""
    rules = rules_for_year(year)
    stmt = (select(BudgetItem, Preassessment)
            .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
            .outerjoin(Preassessment, Preassessment.budget_item_id == BudgetItem.id)
            .where(FiscalYear.year == year, BudgetItem.kind.in_(rules.item_kinds),
                   BudgetItem.amount >= rules.threshold,
                   or_(BudgetItem.is_new, Preassessment.substantially_changed.is_(True),
                       Preassessment.extends_expiring_policy.is_(True)))
            .order_by(BudgetItem.amount.desc(), BudgetItem.id)
            .options(joinedload(BudgetItem.org_unit)))
    rows = [TriggerRow(item, pa, status_of(pa), _reasons(item, pa))
            for item, pa in db.session.execute(stmt)]
    return [r for r in rows if r.status == "missing"] if only_missing else rows


def for_item(item: BudgetItem) -> Preassessment:
    """The item's pre-assessment, created (a draft, in the session) when it has none."""
    pa = db.session.scalar(select(Preassessment).where(Preassessment.budget_item_id == item.id))
    if pa is None:
        pa = Preassessment(budget_item=item, fiscal_year_id=item.fiscal_year_id,
                           org_unit_id=item.org_unit_id, answers={},
                           rules_code=rules_for_year(item.fiscal_year.year).code,
                           state=State.DRAFT, review_level=0)
        db.session.add(pa)
    return pa


def check_open(pa: Preassessment) -> None:
    """Refuse any change once the conclusion is final."""
    if pa.final_at is not None:
        raise PreassessmentError(_l("The conclusion on %(item)s is final; it can no longer be "
                                    "changed.", item=pa.budget_item.code))


def check_owner(pa: Preassessment, user: Any) -> None:
    """Refuse unless ``user`` owns the pre-assessment and it is a draft or returned."""
    if State(pa.state or State.DRAFT) not in EDITABLE:
        raise PreassessmentError(_l("The self-assessment of %(item)s has been submitted and "
                                    "cannot be changed.", item=pa.budget_item.code))
    if (problem := review.edit_problem(WORKFLOW, pa, user)) is not None:
        raise PreassessmentError(problem)


def check_flags(pa: Preassessment) -> list[Any]:
    """Problems of the trigger flags (exempt kind, reviewing department, opinion)."""
    problems = []
    if pa.exempt_kind is not None:
        rules = rules_of(pa)
        if pa.exempt_kind.value not in rules.exempt_kinds:
            problems.append(_l("Items of this kind are not exempt under rule version %(code)s.",
                               code=rules.code))
        if not (pa.reviewing_department or "").strip():
            problems.append(_l("Name the specialist department that reviewed the item."))
        if not (pa.review_opinion or "").strip():
            problems.append(_l("Attach the reviewing department's opinion."))
    if pa.substantially_changed and not (pa.change_note or "").strip():
        problems.append(_l("Say what changed (content, target group or standard)."))
    return problems


# --- the department's self-assessment ----------------------------------------------------

def save_self(pa: Preassessment, points: Mapping[str, Any], comments: Mapping[str, str],
              summary: str | None, user: Any) -> None:
    """Store the self-assessment's points and comments (a draft; blanks allowed)."""
    check_open(pa)
    check_owner(pa, user)
    if pa.exempt_kind is not None:
        raise PreassessmentError(_l("This item was reviewed by a specialist department and "
                                    "needs no self-assessment."))
    cleaned = clean_points(rules_of(pa), points, complete=False)
    pa.answers = {path: {"points": cleaned.get(path), "comment": (comments.get(path) or "").strip()}
                  for path in (i.path for i in rules_of(pa).sheet)}
    pa.summary = (summary or "").strip() or None


def self_points(pa: Preassessment) -> dict[str, Any]:
    return {path: (a or {}).get("points") for path, a in (pa.answers or {}).items()}


def transition(pa: Preassessment, action: str, user, comment: str = "") -> None:
    """Submit / accept / return the self-assessment; a submission is scored and stored."""
    check_open(pa)
    if action == "reopen":
        raise PreassessmentError(_l("An accepted self-assessment cannot be reopened; the "
                                    "bureau records its conclusion instead."))
    if action == "submit":
        if pa.exempt_kind is not None:
            raise PreassessmentError(_l("This item was reviewed by a specialist department "
                                        "and needs no self-assessment."))
        rules = rules_of(pa)
        clean_points(rules, self_points(pa), complete=True)
        trace = compute(rules, self_points(pa), "部门自评估")
    try:
        WORKFLOW.transition(pa, action, user, comment)
    except WorkflowError as exc:
        raise PreassessmentError(str(exc)) from None
    if action == "submit":
        pa.self_score = trace.total
        save_score(db.session, pa, trace, purpose=SELF, org_unit_id=pa.org_unit_id, user=user)


# --- key pre-assessment: selection and panel ------------------------------------------------

def candidates(year: int) -> list[TriggerRow]:
    """Items for a key pre-assessment: suggested order by attention, then amount."""
    rules = rules_for_year(year)
    rows = [r for r in trigger_rows(year) if r.item.amount >= rules.key_threshold
            and (r.pa is None or r.pa.exempt_kind is None)]
    return sorted(rows, key=lambda r: (not (r.item.is_key_task or (r.pa and r.pa.high_attention)),
                                       -r.item.amount, r.item.id))


def set_key(pa: Preassessment, selected: bool) -> None:
    check_open(pa)
    if selected:
        rules = rules_of(pa)
        if pa.exempt_kind is not None:
            raise PreassessmentError(_l("This item was reviewed by a specialist department."))
        if pa.budget_item.amount < rules.key_threshold:
            raise PreassessmentError(_l(
                "Key pre-assessments are chosen from items of at least %(amount)s yuan.",
                amount=f"{rules.key_threshold:,.2f}"))
    elif any(r.submitted_at for r in pa.reviews):
        raise PreassessmentError(_l("Experts have already scored this item; it stays a key "
                                    "pre-assessment."))
    else:
        for review in list(pa.reviews):
            db.session.delete(review)
    pa.is_key = selected


def department_path(item: BudgetItem) -> str:
    """The path of the item's department (or town): the second level of the org tree."""
    parts = [p for p in item.org_unit.path.split("/") if p]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else item.org_unit.path


def conflict_of(expert: User, item: BudgetItem) -> Any | None:
    """Why ``expert`` must stand aside from assessing ``item`` (回避), or None."""
    if expert.org_unit is not None and expert.org_unit.path.startswith(department_path(item)):
        return _l("%(expert)s works in the assessed department (%(org)s) and must stand aside.",
                  expert=expert.full_name or expert.username, org=expert.org_unit.name)
    return None


def add_expert(pa: Preassessment, expert: User | None) -> ExpertReview:
    check_open(pa)
    problems: list[Any] = []
    if not pa.is_key:
        problems.append(_l("Only key pre-assessments have an expert panel."))
    if expert is None or expert.role_name != EXPERT_ROLE or not expert.active:
        problems.append(_l("Choose an active user with the expert role."))
    elif any(r.user_id == expert.id for r in pa.reviews):
        problems.append(_l("%(expert)s is already on the panel.", expert=expert.full_name))
    else:
        conflict = conflict_of(expert, pa.budget_item)
        if conflict:
            problems.append(conflict)
    if pa.panel_complete:
        problems.append(_l("The panel has finished scoring."))
    if problems:
        raise PreassessmentError(problems)
    review = ExpertReview(preassessment=pa, user_id=expert.id, scores={})
    db.session.add(review)
    return review


def remove_expert(review: ExpertReview, user=None) -> None:
    pa = review.preassessment
    check_open(pa)
    if review.submitted_at is not None:
        raise PreassessmentError(_l("This expert has submitted scores and stays on the panel."))
    db.session.delete(review)
    db.session.flush()
    # the others' reviews: the panel may now be complete
    with unscoped():
        complete_if_done(pa, user)


@contextmanager
def as_panel_member() -> Iterator[Session]:
    """A session for what a panel expert reads and writes of the pre-assessment they review
    (its item, org unit, sheet, evidence and score records), once the caller has read the
    expert's review (or the list of reviews) through the expert's scope."""
    # experts stand outside the org tree: their scope shows them only their own reviews
    with unscoped() as session:
        yield session


def save_review(review: ExpertReview, points: Mapping[str, Any], opinion: str, *,
                submit: bool, user) -> None:
    """An expert saves (or submits, once) their own scores, ``as_panel_member``."""
    with as_panel_member():
        pa = db.session.get(Preassessment, review.preassessment_id)
        check_open(pa)
        if review.submitted_at is not None:
            raise PreassessmentError(_l("You have already submitted your scores for %(item)s; "
                                        "an expert scores once.", item=pa.budget_item.code))
        rules = rules_of(pa)
        cleaned = clean_points(rules, points, complete=submit)
        if submit and not (opinion or "").strip():
            raise PreassessmentError(_l("Give your opinion with the scores."))
        review.scores = cleaned
        review.opinion = (opinion or "").strip() or None
        if not submit:
            db.session.flush()
            return
        trace = compute(rules, cleaned, "专家评分")
        review.total = trace.total
        review.submitted_at = utcnow()
        db.session.flush()
        save_score(db.session, review, trace, purpose=EXPERT, org_unit_id=pa.org_unit_id,
                   user=user)
        complete_if_done(pa, user)
        db.session.flush()


def complete_if_done(pa: Preassessment, user) -> None:
    """Complete the panel when every member has submitted and it has enough members."""
    reviews = list(db.session.scalars(select(ExpertReview).where(
        ExpertReview.preassessment_id == pa.id)))
    if len(reviews) >= rules_of(pa).min_experts and \
            all(r.submitted_at is not None for r in reviews):
        complete_panel(pa, reviews, user)


def panel_trace(rules: PreassessmentRules, totals: Sequence[Decimal]) -> ScoreTrace:
    """The panel score: the mean of the experts' totals, without the highest and lowest
    from ``rules.trim_from`` experts on (core ``expert`` method)."""
    tree = Indicator("专家组评分", children=[Indicator(
        "专家评分汇总", rules.scoring_rules().total_weight, "expert",
        {"scores": [str(t) for t in totals]},
        {"drop_extremes": len(totals) >= rules.trim_from})])
    return score(tree, rules.scoring_rules(), resolver())


def complete_panel(pa: Preassessment, reviews: Sequence[ExpertReview], user) -> None:
    trace = panel_trace(rules_of(pa), [r.total for r in reviews])
    pa.panel_score = trace.total
    pa.panel_complete = True
    save_score(db.session, pa, trace, purpose=PANEL, org_unit_id=pa.org_unit_id, user=user)


def panel_of(pa_id: int) -> list[ExpertReview] | None:
    """Every expert's review once the whole panel has submitted; None before.

    This is the one place where a panel member reads the others' scores: until
    the last expert submits, nobody on the panel sees them (the row scope shows
    an expert only their own review)."""
    # the others' reviews, which the row scope hides from each panel member
    with unscoped() as session:
        pa = session.get(Preassessment, pa_id)
        if pa is None or not pa.panel_complete:
            return None
        return list(session.scalars(select(ExpertReview).where(
            ExpertReview.preassessment_id == pa_id).order_by(ExpertReview.id)))


# --- the conclusion ----------------------------------------------------------------------

def basis_score(pa: Preassessment) -> Decimal | None:
    """The score the conclusion rests on: the panel's for a key item, else the self-score."""
    return pa.panel_score if pa.is_key else pa.self_score


def suggested(pa: Preassessment) -> Conclusion | None:
    value = basis_score(pa)
    if value is None:
        return None
    return Conclusion(rules_of(pa).scoring_rules().grade(value).code)


def conclude(pa: Preassessment, conclusion: str, amount: str | None, note: str | None,
             *, final: bool, user) -> None:
    """Record the conclusion and recommended amount; ``final`` locks the pre-assessment."""
    check_open(pa)
    problems: list[Any] = []
    if pa.exempt_kind is not None:
        raise PreassessmentError(_l("This item was reviewed by a specialist department; its "
                                    "opinion stands instead of a conclusion."))
    if State(pa.state or State.DRAFT) not in SUBMITTED:
        problems.append(_l("A conclusion needs a submitted self-assessment."))
    if pa.is_key and not pa.panel_complete:
        problems.append(_l("The expert panel has not finished scoring."))
    try:
        chosen = Conclusion(conclusion)
    except ValueError:
        problems.append(_l("Choose a conclusion."))
        raise PreassessmentError(problems) from None
    note = (note or "").strip()
    hint = suggested(pa)
    if hint is not None and chosen != hint and not note:
        problems.append(_l("The conclusion differs from the score band (%(band)s): give the "
                           "panel's reason.", band=CONCLUSION_LABELS[hint]))
    requested = pa.budget_item.amount
    recommended = None
    try:
        recommended = parse_money(amount) if (amount or "").strip() else None
    except MoneyError as exc:
        problems.append(_l("Recommended amount: %(message)s", message=exc))
    if chosen.value == SUPPORT:
        recommended = requested if recommended is None else recommended
        if recommended > requested:
            problems.append(_l("The recommended amount cannot exceed the requested %(amount)s.",
                               amount=f"{requested:,.2f}"))
    elif chosen.value == ADJUST:
        if recommended is None or not Decimal(0) < recommended < requested:
            problems.append(_l("Partial support needs a recommended amount above zero and "
                               "below the requested %(amount)s.", amount=f"{requested:,.2f}"))
    elif chosen.value == REJECT:
        if recommended not in (None, Decimal(0)):
            problems.append(_l("No support means a recommended amount of zero."))
        recommended = Decimal("0.00")
    if problems:
        raise PreassessmentError(problems)
    pa.conclusion, pa.recommended_amount, pa.conclusion_note = chosen, recommended, note or None
    pa.concluded_by_id = getattr(user, "id", None)
    if final:
        pa.final_at = utcnow()


# --- agencies (through the core contract) ----------------------------------------------------

def engagements_for(pa: Preassessment) -> list:
    """Agency engagements commissioned for this item's pre-assessment (none without agencies)."""
    from core.plugins import hooks

    return [e for e in hooks().engagements() if e.kind == "pre_assessment"
            and pa.budget_item_id in e.budget_item_ids]
