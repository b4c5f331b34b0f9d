"""API: pre-assessments (read) and the experts' reviews (read own; save and submit scores).
Session or personal API token; rows scoped by core.scope (an expert: own reviews only)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from core.extensions import db
from core.models import FiscalYear
from core.web.api import ApiBlueprint, error_response, get_or_404, requires
from core.web.api.fields import UtcDateTime
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.preassessment import report, service
from plugins.preassessment.models import ExpertReview, Preassessment

blp = ApiBlueprint("preassessment_api", __name__, url_prefix="/api/v1",
                   description="Pre-assessments (事前绩效评估) and expert reviews")

DECIMAL = {"description": "Decimal string"}


def _dec(value):
    return None if value is None else str(value)


class PreassessmentSchema(Schema):
    id = fields.Integer()
    budget_item_id = fields.Integer()
    item_code = fields.Function(lambda p: p.budget_item.code)
    item_name = fields.Function(lambda p: p.budget_item.name)
    fiscal_year = fields.Function(lambda p: p.fiscal_year.year)
    requested_amount = fields.Function(lambda p: _dec(p.budget_item.amount), metadata=DECIMAL)
    status = fields.Function(lambda p: service.status_of(p), metadata={
        "description": "missing, exempt, submitted, accepted or concluded"})
    state = fields.Function(lambda p: p.state.value)
    substantially_changed = fields.Boolean()
    extends_expiring_policy = fields.Boolean()
    exempt_kind = fields.Function(lambda p: p.exempt_kind.value if p.exempt_kind else None)
    reviewing_department = fields.String(allow_none=True)
    self_score = fields.Function(lambda p: _dec(p.self_score), metadata=DECIMAL)
    is_key = fields.Boolean()
    panel_complete = fields.Boolean()
    panel_score = fields.Function(lambda p: _dec(p.panel_score), metadata=DECIMAL)
    conclusion = fields.Function(lambda p: p.conclusion.value if p.conclusion and p.final_at
                                 else None, metadata={
        "description": "support, adjust or reject once final"})
    recommended_amount = fields.Function(lambda p: _dec(p.recommended_amount) if p.final_at
                                         else None, metadata=DECIMAL)
    final_at = UtcDateTime(allow_none=True)


class PreassessmentDetailSchema(PreassessmentSchema):
    self_assessment = fields.Function(lambda p: [
        {**line, "weight": str(line["weight"])} for line in report.self_lines(p)])
    summary = fields.String()
    panel = fields.Function(lambda p: _panel(p.id), metadata={
        "description": "Every expert's total and opinion once all have submitted; null before"})
    conclusion_note = fields.Function(lambda p: p.conclusion_note if p.final_at else None)


def _panel(pa_id: int):
    reviews = service.panel_of(pa_id)
    if reviews is None:
        return None
    return [{"expert": report.expert_name(r.user_id), "total": _dec(r.total),
             "opinion": r.opinion} for r in reviews]


class PreassessmentArgs(PageArgs):
    year = fields.Integer(metadata={"description": "Budget year"})
    status = fields.String(metadata={"description": "missing, exempt, submitted, accepted, "
                                                    "concluded"})


class ReviewSchema(Schema):
    id = fields.Integer()
    preassessment_id = fields.Integer()
    item = fields.Function(lambda r: report.item_of(r.preassessment_id))
    scores = fields.Dict(keys=fields.String(), values=fields.String())
    total = fields.Function(lambda r: _dec(r.total), metadata=DECIMAL)
    opinion = fields.String(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)


class ReviewDetailSchema(ReviewSchema):
    sheet = fields.Function(lambda r: _sheet(r.preassessment_id), metadata={
        "description": "The indicators to score: path and weight"})
    panel = fields.Function(lambda r: _panel(r.preassessment_id), metadata={
        "description": "The whole panel once every expert has submitted; null before"})


def _sheet(pa_id: int):
    with service.as_panel_member() as session:
        pa = session.get(Preassessment, pa_id)
        return [{"path": i.path, "weight": str(i.weight)} for i in service.rules_of(pa).sheet]


class ReviewInput(Schema):
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "Points by indicator path, as decimal strings (never floats)"})
    opinion = fields.String(load_default="")
    submit = fields.Boolean(load_default=False, metadata={
        "description": "Submit (final: an expert scores once)"})


class SelfAssessmentInput(Schema):
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "Points by indicator path, as decimal strings (never floats); blanks "
                       "are allowed in a draft"})
    comments = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    summary = fields.String(load_default="")
    submit = fields.Boolean(load_default=False, metadata={
        "description": "Submit to the finance bureau (every indicator needs a score)"})


@blp.route("/preassessments")
@blp.arguments(PreassessmentArgs, location="query")
@blp.response(200, page_schema(PreassessmentSchema))
@requires("preassessment.view")
def list_preassessments(args):
    """Pre-assessments the caller may see, by budget year."""
    stmt = select(Preassessment).order_by(Preassessment.id)
    if args.get("year"):
        stmt = stmt.join(FiscalYear, FiscalYear.id == Preassessment.fiscal_year_id).where(
            FiscalYear.year == args["year"])
    return paginate(stmt, args)


@blp.route("/preassessments/<int:preassessment_id>")
@blp.response(200, PreassessmentDetailSchema)
@requires("preassessment.view")
def get_preassessment(preassessment_id: int):
    """One pre-assessment with its self-assessment sheet, panel (when complete) and conclusion."""
    return get_or_404(Preassessment, preassessment_id)


@blp.route("/preassessments/<int:preassessment_id>/self-assessment", methods=["PUT"])
@blp.arguments(SelfAssessmentInput)
@blp.response(200, PreassessmentDetailSchema)
@blp.alt_response(422, description="Every problem; nothing was written")
@requires("preassessment.edit")
def put_self_assessment(data, preassessment_id: int):
    """The department's self-assessment: save a draft, or submit it (scored and stored)."""
    pa = get_or_404(Preassessment, preassessment_id)
    try:
        service.save_self(pa, data["scores"], data["comments"], data["summary"],
                          current_user)
        if data["submit"]:
            service.transition(pa, "submit", current_user)
    except service.PreassessmentError as exc:
        db.session.rollback()
        return error_response(422, "validation_error", _("The self-assessment was not saved."),
                              {"scores": exc.problems})
    db.session.commit()
    return pa


@blp.route("/preassessment-reviews")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ReviewSchema))
@requires("preassessment_review.view")
def list_reviews(args):
    """Expert reviews: an expert sees their own only."""
    return paginate(select(ExpertReview).order_by(ExpertReview.id), args)


@blp.route("/preassessment-reviews/<int:review_id>")
@blp.response(200, ReviewDetailSchema)
@requires("preassessment_review.view")
def get_review(review_id: int):
    """One review with the sheet to score; the others' scores only once all have submitted."""
    return get_or_404(ExpertReview, review_id)


@blp.route("/preassessment-reviews/<int:review_id>", methods=["PUT"])
@blp.arguments(ReviewInput)
@blp.response(200, ReviewDetailSchema)
@blp.alt_response(422, description="Every problem; nothing was written")
@requires("preassessment_review.score")
def put_review(data, review_id: int):
    """Save one's own scores and opinion; ``submit`` makes them final (once)."""
    review = get_or_404(ExpertReview, review_id)
    if review.user_id != current_user.id:
        return error_response(403, "forbidden", _("You may only score your own review."))
    try:
        service.save_review(review, data["scores"], data["opinion"], submit=data["submit"],
                            user=current_user)
    except service.PreassessmentError as exc:
        db.session.rollback()
        return error_response(422, "validation_error", _("The scores were not saved."),
                              {"scores": exc.problems})
    db.session.commit()
    return review

