"""API: stateless self-evaluation scoring, self-evaluations (read, enter actuals), results."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from core.extensions import db
from core.models import FiscalYear, State
from core.plugins import hooks
from core.services.scoring import hook_resolver
from core.web.api import ApiBlueprint, error_response, get_or_404, requires, stale
from core.web.api.contract_schemas import EvaluationResultSchema
from core.web.api.fields import UtcDateTime
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.evaluation import service
from plugins.evaluation.models import KeyEvaluation, ReEvaluation, SelfEvaluation
from plugins.evaluation.sheet import SheetError, score_sheet

blp = ApiBlueprint("evaluation_api", __name__, url_prefix="/api/v1",
                   description="Self-evaluation scoring, self-evaluations and their results")

DECIMAL = {"description": "A decimal number as a string, e.g. \"950000.00\"; never a float"}


class IndicatorInput(Schema):
    level1 = fields.String(required=True, metadata={"description": "e.g. 产出指标"})
    level2 = fields.String(required=True, metadata={"description": "e.g. 数量指标"})
    name = fields.String(required=True)
    comparator = fields.String(required=True, metadata={
        "description": ">=, <=, =, range (target \"low-high\") or qualitative"})
    target = fields.Raw(metadata=DECIMAL)
    actual = fields.Raw(metadata=DECIMAL)
    unit = fields.String(allow_none=True, metadata={
        "description": "The unit; an actual value may end with it (e.g. \"95%\")"})
    grade = fields.String(metadata={
        "description": "Qualitative only: achieved, partly or not_achieved"})
    ratio = fields.Raw(allow_none=True, metadata={
        "description": "Qualitative only: the share of the weight within the grade's band "
                       "(e.g. \"0.85\"); the grade's default when omitted"})
    weight = fields.Raw(required=True, metadata={"description": "Points, e.g. \"30\""})
    method = fields.String(allow_none=True, metadata={
        "description": "A scoring method name; by default proportional (>=), reverse (<=), "
                       "equal (=), range or qualitative"})


class ScoreInput(Schema):
    budget = fields.Raw(required=True, metadata=DECIMAL)
    spent = fields.Raw(required=True, metadata=DECIMAL)
    rule_version = fields.String(allow_none=True, metadata={
        "description": "A rule version code, e.g. self-evaluation-2020 (default: the latest)"})
    execution_weight = fields.Raw(allow_none=True, metadata={
        "description": "Budget execution points (default: the rule version's, 10; "
                       "ignored with a budget of 0)"})
    indicators = fields.List(fields.Dict(), required=True, metadata={
        "description": "Each like IndicatorInput"})


class LineOutput(Schema):
    level1 = fields.String()
    level2 = fields.String()
    name = fields.String()
    weight = fields.String()
    method = fields.String()
    points = fields.String()
    formula = fields.String()


class ScoreOutput(Schema):
    score = fields.String()
    grade = fields.String(metadata={"description": "excellent (优), good (良), fair (中), poor (差)"})
    grade_label = fields.String()
    rule_version = fields.String()
    execution_points = fields.String()
    execution_formula = fields.String()
    indicators = fields.List(fields.Nested(LineOutput))


@blp.route("/scoring/self-evaluation", methods=["POST"])
@blp.arguments(ScoreInput)
@blp.response(200, ScoreOutput)
@blp.alt_response(422, description="Every problem, by field (e.g. indicators.2.actual)")
@requires("self_evaluation.view")
def score_self_evaluation(data):
    """Score a self-evaluation sheet without saving anything.

    Execution points = weight × min(spent / budget, 1); ``>=``: weight ×
    min(actual / target, 1); ``<=``: full points when actual ≤ target, else
    weight × target / actual; ``=``: weight × max(0, 1 − |actual − target| /
    |target|); range ``low-high``: full points within it, else weight × actual / low
    below and weight × high / actual above; qualitative: weight × ratio within the
    grade's band. Each line is rounded to 0.01 half up; the score is the sum of the
    lines; the weights must add up to 100. A budget of 0 has no execution points:
    their weight is shared out over the indicators (``execution_points`` is null).
    Saved self-evaluations are scored by the same code.
    """
    try:
        result = score_sheet(data, resolver=hook_resolver(current_app))
    except SheetError as exc:
        return error_response(422, "validation_error", _("The sheet cannot be scored."),
                              exc.details())
    return result.to_dict()


class SelfEvaluationSchema(Schema):
    id = fields.Integer()
    budget_item_id = fields.Integer()
    item_code = fields.Function(lambda e: e.budget_item.code)
    item_name = fields.Function(lambda e: e.budget_item.name)
    year = fields.Function(lambda e: e.fiscal_year.year)
    org_unit_id = fields.Integer()
    object_kind = fields.String()
    state = fields.Function(lambda e: State(e.state).value)
    rule_code = fields.String()
    budget = fields.Function(lambda e: str(e.budget))
    spent = fields.Function(lambda e: None if e.spent is None else str(e.spent))
    execution_weight = fields.Function(lambda e: str(e.execution_weight))
    score = fields.Function(lambda e: None if e.score is None else str(e.score))
    grade = fields.String(allow_none=True)
    finalized_at = UtcDateTime(allow_none=True)
    summary = fields.String()
    version = fields.Integer()
    lines = fields.Function(lambda e: [
        {"id": ln.id, "level1": ln.level1, "level2": ln.level2, "name": ln.name,
         "comparator": ln.comparator, "target_value": ln.target_value, "unit": ln.unit,
         "weight": str(ln.weight), "method": ln.method, "actual": ln.actual,
         "grade": ln.grade, "ratio": None if ln.ratio is None else str(ln.ratio),
         "explanation": ln.explanation} for ln in e.lines])


class SelfEvaluationArgs(PageArgs):
    year = fields.Integer()
    item_id = fields.Integer()


class ActualsInput(Schema):
    spent = fields.Raw(required=True, metadata=DECIMAL)
    summary = fields.String(allow_none=True)
    version = fields.Integer(load_default=None, metadata={
        "description": "The evaluation's version as read; a newer one on the server is a 409"})
    lines = fields.List(fields.Dict(), required=True, metadata={
        "description": "Each {id, actual} or {id, grade, ratio}, optionally explanation"})


@blp.route("/self-evaluations")
@blp.arguments(SelfEvaluationArgs, location="query")
@blp.response(200, page_schema(SelfEvaluationSchema))
@requires("self_evaluation.view")
def list_self_evaluations(args):
    """Self-evaluations the caller may see (by year or budget item)."""
    stmt = select(SelfEvaluation).order_by(SelfEvaluation.id)
    if args.get("year"):
        stmt = stmt.join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id).where(
            FiscalYear.year == args["year"])
    if args.get("item_id"):
        stmt = stmt.where(SelfEvaluation.budget_item_id == args["item_id"])
    return paginate(stmt, args)


@blp.route("/self-evaluations/<int:evaluation_id>")
@blp.response(200, SelfEvaluationSchema)
@requires("self_evaluation.view")
def get_self_evaluation(evaluation_id: int):
    """One self-evaluation with its indicator lines."""
    return get_or_404(SelfEvaluation, evaluation_id)


@blp.route("/self-evaluations/<int:evaluation_id>/actuals", methods=["POST"])
@blp.arguments(ActualsInput)
@blp.response(200, ScoreOutput)
@blp.alt_response(422, description="Every problem, by field")
@requires("self_evaluation.edit")
def save_actuals(data, evaluation_id: int):
    """Enter the amount spent and the actual values; the score is computed and saved."""
    ev = get_or_404(SelfEvaluation, evaluation_id)
    if (conflict := stale(ev, data.get("version"))) is not None:
        return conflict
    values = {raw.get("id"): raw for raw in data["lines"] if isinstance(raw, dict)}
    try:
        result = service.save_actuals(ev, data["spent"], values, data.get("summary"),
                                      current_user)
        db.session.commit()
    except service.EvaluationError as exc:
        db.session.rollback()
        details: dict[str, list[str]] = {}
        for p in exc.problems:
            details.setdefault(p.path or "evaluation", []).append(str(p.message))
        return error_response(422, "validation_error", _("Nothing was saved."), details)
    return result.to_dict()


class ResultArgs(Schema):
    year = fields.Integer()
    kind = fields.String(metadata={"description": "self, department_key, finance_key or "
                                                  "re_evaluation"})


class EvaluationResultListSchema(Schema):
    results = fields.List(fields.Nested(EvaluationResultSchema))


@blp.route("/evaluation-results")
@blp.arguments(ResultArgs, location="query")
@blp.response(200, EvaluationResultListSchema)
@requires("self_evaluation.view")
def list_results(args):
    """Finalized evaluation results the caller may see (score, grade A–D, public summary)."""
    kinds = [args["kind"]] if args.get("kind") else None
    return {"results": hooks().evaluation_results(year=args.get("year"), kinds=kinds)}


class KeyEvaluationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    object_kind = fields.String()
    year = fields.Function(lambda e: e.fiscal_year.year)
    org_unit_id = fields.Integer()
    title = fields.String()
    budget_item_ids = fields.Function(lambda e: sorted(i.id for i in e.items))
    amount = fields.Function(lambda e: str(e.amount))
    after_period = fields.Boolean()
    team_kind = fields.String()
    engagement_id = fields.Integer(allow_none=True)
    score = fields.Function(lambda e: None if e.score is None else str(e.score))
    grade = fields.String(allow_none=True)
    finalized_at = UtcDateTime(allow_none=True)
    indicators = fields.Function(lambda e: [
        {"level1": i.level1, "level2": i.level2, "name": i.name, "weight": str(i.weight),
         "scores": i.scores} for i in e.indicators])


class YearArgs(PageArgs):
    year = fields.Integer()


@blp.route("/key-evaluations")
@blp.arguments(YearArgs, location="query")
@blp.response(200, page_schema(KeyEvaluationSchema))
@requires("key_evaluation.view")
def list_key_evaluations(args):
    """Key evaluations (department and finance) the caller may see, with their sheets."""
    stmt = select(KeyEvaluation).order_by(KeyEvaluation.id)
    if args.get("year"):
        stmt = stmt.join(FiscalYear, FiscalYear.id == KeyEvaluation.fiscal_year_id).where(
            FiscalYear.year == args["year"])
    return paginate(stmt, args)


@blp.route("/key-evaluations/<int:evaluation_id>")
@blp.response(200, KeyEvaluationSchema)
@requires("key_evaluation.view")
def get_key_evaluation(evaluation_id: int):
    """One key evaluation with its 决策/过程/产出/效益 sheet and the team's scores."""
    return get_or_404(KeyEvaluation, evaluation_id)


class ReEvaluationSchema(Schema):
    id = fields.Integer()
    year = fields.Function(lambda r: r.fiscal_year.year)
    org_unit_id = fields.Integer()
    sample_size = fields.Integer()
    accuracy = fields.Function(lambda r: None if r.accuracy is None else str(r.accuracy))
    finalized_at = UtcDateTime(allow_none=True)
    samples = fields.Function(lambda r: [
        {"self_evaluation_id": s.self_evaluation_id, "self_score": str(s.self_score),
         "self_grade": s.self_grade, "score": None if s.score is None else str(s.score),
         "grade": s.grade, "flagged": s.flagged} for s in r.samples])


@blp.route("/re-evaluations")
@blp.arguments(YearArgs, location="query")
@blp.response(200, page_schema(ReEvaluationSchema))
@requires("re_evaluation.view")
def list_re_evaluations(args):
    """Re-evaluations per department: self vs re-evaluated score per sampled item, accuracy."""
    stmt = select(ReEvaluation).order_by(ReEvaluation.id)
    if args.get("year"):
        stmt = stmt.join(FiscalYear, FiscalYear.id == ReEvaluation.fiscal_year_id).where(
            FiscalYear.year == args["year"])
    return paginate(stmt, args)


class WorkflowInput(Schema):
    action = fields.String(required=True, metadata={
        "description": "submit (the unit), approve or return (the department; approval "
                       "finalizes)"})
    comment = fields.String(load_default="")


@blp.route("/self-evaluations/<int:evaluation_id>/workflow", methods=["POST"])
@blp.arguments(WorkflowInput)
@blp.response(200, SelfEvaluationSchema)
@blp.alt_response(422, description="Why the action was refused")
@requires("self_evaluation.edit")
def self_evaluation_workflow(data, evaluation_id: int):
    """Submit, approve (finalizes: suggestion and ``jixiao_evaluation_finalized``) or return."""
    ev = get_or_404(SelfEvaluation, evaluation_id)
    try:
        service.transition(ev, data["action"], current_user, data["comment"])
        db.session.commit()
    except service.EvaluationError as exc:
        db.session.rollback()
        details: dict[str, list[str]] = {}
        for p in exc.problems:
            details.setdefault(p.path or "action", []).append(str(p.message))
        return error_response(422, "validation_error", _("The action was refused."), details)
    return ev
