"""Key evaluations (部门/财政重点评价): sheet from a template, team scores, report, finalize.

The sheet follows 决策 / 过程 / 产出 / 效益 (a template per object kind, rule
data in ``rules.py``); the weights must add up to 100 and, for an evaluation
after the implementation period, outputs + outcomes must hold at least 60 % of
them. Each indicator is scored by the evaluation team (finance staff, experts,
or an agency commissioned through the agencies plugin, read via
``core.plugins.hooks().engagements``): the points are the mean of the team's scores,
computed by the core engine's ``expert`` method.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, utcnow
from core.plugins import hooks
from core.services.score_records import save_score
from core.services.scoring import Indicator, Problem, ScoreTrace, ScoringError, hook_resolver, score
from plugins.evaluation.contracts import key_result
from plugins.evaluation.models import KeyEvaluation, KeyIndicator, ResultSuggestion
from plugins.evaluation.rules import (
    OUTCOMES,
    OUTPUTS,
    key_template,
    results_share,
    rules_for_year,
    suggestion_for,
)
from plugins.evaluation.service import EvaluationError

KINDS = ("department_key", "finance_key")
TEAM_KINDS = ("finance", "experts", "agency")
AGENCY_WORK = ("evaluation", "re_evaluation")
PURPOSE = "key_evaluation"
ROOT = "重点评价"


def owner_role(kind: str) -> str:
    """Who runs (edits and finalizes) a key evaluation of this kind."""
    return "finance_admin" if kind == "finance_key" else "dept_admin"


def check_setup(ev: KeyEvaluation, item_ids: Iterable[int]) -> list[Problem]:
    """Kind, object, items of the year, and an agency team's engagement."""
    problems = []
    if ev.kind not in KINDS:
        problems.append(Problem("kind", _l("Choose department or finance key evaluation.")))
    if ev.object_kind not in ("project", "policy", "department"):
        problems.append(Problem("object_kind", _l("Choose project, policy or department.")))
    if ev.team_kind not in TEAM_KINDS:
        problems.append(Problem("team_kind", _l("Choose finance staff, experts or an agency.")))
    ids = list(item_ids)
    if not ids:
        problems.append(Problem("items", _l("Choose the budget items evaluated.")))
    elif ev.fiscal_year_id is not None:
        other = db.session.scalar(select(BudgetItem.code).where(
            BudgetItem.id.in_(ids), BudgetItem.fiscal_year_id != ev.fiscal_year_id).limit(1))
        if other:
            problems.append(Problem("items", _l(
                "%(item)s belongs to another fiscal year.", item=other)))
    if ev.team_kind == "agency":
        found = hooks().engagements(ids=[ev.engagement_id]) if ev.engagement_id else []
        if not found:
            problems.append(Problem("engagement_id", _l(
                "An agency team needs the number of its engagement (agencies plugin).")))
        elif found[0].kind not in AGENCY_WORK:
            problems.append(Problem("engagement_id", _l(
                "Engagement %(code)s is not an evaluation engagement.", code=found[0].code)))
    elif ev.engagement_id:
        problems.append(Problem("engagement_id", _l(
            "Only an agency team has an engagement.")))
    return problems


def build_sheet(ev: KeyEvaluation) -> None:
    """Put the template of the object kind in place of the sheet (before any scoring)."""
    ev.indicators.clear()
    db.session.flush()
    for position, (l1, l2, name, weight) in enumerate(key_template(ev.object_kind), start=1):
        ev.indicators.append(KeyIndicator(position=position, level1=l1, level2=l2, name=name,
                                          weight=weight, scores="", org_unit_id=ev.org_unit_id))
    ev.rule_code = ev.rule_code or rules_for_year(_year(ev)).code
    ev.amount = sum((item.amount for item in ev.items), Decimal("0.00"))


def _year(ev: KeyEvaluation) -> int:
    fy = ev.fiscal_year or db.session.get(FiscalYear, ev.fiscal_year_id)
    return fy.year


def parse_scores(text: str) -> list[Decimal]:
    """"8, 9, 9.5" → [8, 9, 9.5]; raises ValueError on anything else."""
    out = []
    for part in str(text or "").replace("，", ",").replace("、", ",").split(","):
        if part.strip():
            try:
                value = Decimal(part.strip())
            except InvalidOperation:
                raise ValueError(part) from None
            if not value.is_finite():
                raise ValueError(part)
            out.append(value)
    return out


def weight_problems(rows: Iterable[tuple[str, Decimal]], after_period: bool) -> list[Problem]:
    """Total 100 (checked by the engine too) and outputs + outcomes ≥ 60 % after the period."""
    rows = list(rows)
    total = sum((w for _l1, w in rows), Decimal(0))
    problems = []
    if total != 100:
        problems.append(Problem("weight", _l("The weights add up to %(sum)s, not 100.",
                                             sum=total)))
    results = sum((w for l1, w in rows if l1 in (OUTPUTS, OUTCOMES)), Decimal(0))
    minimum = results_share()
    if after_period and total and results * 100 < minimum * total:
        problems.append(Problem("weight", _l(
            "Outputs and outcomes hold %(share)s %% of the weight; an evaluation after the "
            "implementation period needs at least %(min)s %%.",
            share=(results * 100 / total).quantize(Decimal("0.1")), min=minimum)))
    return problems


def save_sheet(ev: KeyEvaluation, values: Mapping[int, Mapping[str, Any]]) -> ScoreTrace | None:
    """Weights and team scores for the indicators; all or nothing. Scores when complete."""
    check_open(ev)
    problems: list[Problem] = []
    planned = []
    for ind in ev.indicators:
        raw = values.get(ind.id, {})
        weight = ind.weight
        if raw.get("weight") not in (None, ""):
            try:
                weight = Decimal(str(raw["weight"]).strip())
            except InvalidOperation:
                weight = None
            if weight is None or not weight.is_finite() or weight < 0 or \
                    weight.as_tuple().exponent < -2:  # NUMERIC(7, 2): refuse, never round
                problems.append(Problem(f"weight_{ind.id}", _l(
                    "The weight of “%(name)s” must be a number of 0 or more with at most 2 "
                    "decimal places.", name=ind.name)))
                weight = ind.weight
        text = str(raw.get("scores", ind.scores) or "")
        try:
            parsed = parse_scores(text)
        except ValueError as exc:
            problems.append(Problem(f"scores_{ind.id}", _l(
                "The scores of “%(name)s” must be numbers separated by commas, not “%(value)s”.",
                name=ind.name, value=str(exc))))
            parsed = []
        if any(not 0 <= s <= weight for s in parsed):
            problems.append(Problem(f"scores_{ind.id}", _l(
                "Each score of “%(name)s” must lie between 0 and its weight %(weight)s.",
                name=ind.name, weight=weight)))
        planned.append((ind, weight, text.strip(), parsed))
    problems += weight_problems(((ind.level1, w) for ind, w, _t, _p in planned), ev.after_period)
    trace = None
    if not problems and all(p for _i, _w, _t, p in planned):
        try:
            trace = compute_rows(ev, [(ind, w, p) for ind, w, _t, p in planned])
        except ScoringError as exc:
            problems += exc.problems
    if problems:
        raise EvaluationError(problems)
    for ind, weight, text, _parsed in planned:
        ind.weight, ind.scores = weight, text
    if trace is not None:
        ev.score, ev.grade = trace.total, trace.grade
        db.session.flush()
        save_score(db.session, ev, trace, purpose=PURPOSE, org_unit_id=ev.org_unit_id)
    else:
        ev.score = ev.grade = None
    return trace


def compute_rows(ev: KeyEvaluation, rows) -> ScoreTrace:
    groups: dict[str, dict[str, list[Indicator]]] = {}
    for ind, weight, scores in rows:
        groups.setdefault(ind.level1, {}).setdefault(ind.level2, []).append(
            Indicator(ind.name, weight, "expert", {"scores": scores}))
    tree = Indicator(ROOT, children=[
        Indicator(l1, children=[Indicator(l2, children=kids) for l2, kids in l2s.items()])
        for l1, l2s in groups.items()])
    return score(tree, rules_for_year(_year(ev)), hook_resolver(current_app))


def check_open(ev: KeyEvaluation) -> None:
    if ev.finalized_at is not None:
        raise EvaluationError(Problem("", _l("The key evaluation is finalized and cannot be "
                                             "changed.")))


def finalize(ev: KeyEvaluation, user: Any = None) -> EvaluationResult:
    """Freeze a fully scored evaluation with its findings; suggestion and hook follow."""
    check_open(ev)
    problems = []
    if ev.score is None or any(not ind.scores.strip() for ind in ev.indicators):
        problems.append(Problem("scores", _l("Score every indicator first.")))
    for field, label in (("findings", _l("findings")), ("problems", _l("problems")),
                         ("recommendations", _l("recommendations"))):
        if not (getattr(ev, field) or "").strip():
            problems.append(Problem(field, _l("Write the %(what)s of the evaluation.",
                                              what=label)))
    if problems:
        raise EvaluationError(problems)
    ev.finalized_at = utcnow()
    db.session.flush()
    view = key_result(ev)
    db.session.add(ResultSuggestion(
        evaluation_kind=ev.kind, evaluation_id=ev.id, fiscal_year=view.fiscal_year,
        org_unit_id=ev.org_unit_id, title=ev.title, score=view.score, grade=ev.grade or "",
        suggested=suggestion_for(ev.grade or ""), note=""))
    db.session.flush()
    hooks().evaluation_finalized(view)
    return view
