"""API: assessments (score, spot-check), appeals (file, decide), annual ratings
(compute, publish), restrictions and eligibility. Rows scoped by core.scope."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from core.extensions import db
from core.scope import current_principal
from core.web.api import ApiBlueprint, error_response, get_or_404, requires
from core.web.api.fields import UtcDateTime
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.agency_scoring import rating as ratings
from plugins.agency_scoring import service
from plugins.agency_scoring.models import (
    Appeal,
    Assessment,
    Rating,
    Restriction,
    agency_of,
    is_agency_side,
)
from plugins.agency_scoring.views import scores_of

blp = ApiBlueprint("agency_scoring_api", __name__, url_prefix="/api/v1",
                   description="Agency assessments, appeals, annual ratings and eligibility")

DEC = {"description": "Decimal string"}


def _dec(value):
    return None if value is None else str(value)


class AssessmentSchema(Schema):
    id = fields.Integer()
    engagement_id = fields.Integer(allow_none=True)
    code = fields.String()
    title = fields.String()
    agency_id = fields.Integer()
    agency_name = fields.String()
    year = fields.Integer()
    contract_amount = fields.Function(lambda a: _dec(a.contract_amount), metadata=DEC)
    status = fields.Function(lambda a: a.status.value)
    party_total = fields.Function(lambda a: _dec(a.party_total), metadata=DEC)
    spot_total = fields.Function(lambda a: _dec(a.spot_total), metadata=DEC)
    score = fields.Function(lambda a: _dec(a.score), metadata={
        "description": "The engagement score: party and spot-check combined (decimal string)"})
    grade = fields.String(allow_none=True)
    vetoes = fields.List(fields.String())
    appeal_until = fields.Date(allow_none=True)


class AssessmentDetailSchema(AssessmentSchema):
    evidence = fields.Dict()
    scores = fields.Function(scores_of, metadata={
        "description": "Each score with its lines: path, weight, points, method, inputs, "
                       "formula and who gave them"})


class AssessmentScoreInput(Schema):
    scores = fields.Dict(required=True, metadata={
        "description": "Per indicator path (e.g. \"工作质量/报告质量\") its inputs: "
                       "{\"level\": \"A\", \"percent\": \"95\"} (graded), "
                       "{\"defects\": \"1\"} (deduction), {\"target\": \"4\", \"actual\": "
                       "\"3\"} (proportional); numbers as strings"})
    vetoes = fields.List(fields.String(), load_default=list, metadata={
        "description": "Veto item codes: false_conclusions, subcontracting, "
                       "hidden_conflict, leaking"})


class AppealSchema(Schema):
    id = fields.Integer()
    assessment_id = fields.Integer()
    agency_id = fields.Integer()
    reason = fields.String()
    status = fields.Function(lambda a: a.status.value)
    score_before = fields.Function(lambda a: _dec(a.score_before), metadata=DEC)
    grade_before = fields.String()
    score_after = fields.Function(lambda a: _dec(a.score_after), metadata=DEC)
    grade_after = fields.String(allow_none=True)
    decision = fields.String()
    created_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)


class AppealInput(Schema):
    reason = fields.String(required=True)


class DecisionInput(Schema):
    uphold = fields.Boolean(required=True)
    score = fields.Raw(load_default=None, metadata={
        "description": "The corrected engagement score when upheld (decimal string)"})
    decision = fields.String(required=True)


class RatingSchema(Schema):
    id = fields.Integer()
    agency_id = fields.Integer()
    agency_name = fields.String()
    year = fields.Integer()
    engagements = fields.Integer()
    amount = fields.Function(lambda r: _dec(r.amount), metadata=DEC)
    weighted_mean = fields.Function(lambda r: _dec(r.weighted_mean), metadata=DEC)
    spot_deduction = fields.Function(lambda r: _dec(r.spot_deduction), metadata=DEC)
    violation_deduction = fields.Function(lambda r: _dec(r.violation_deduction), metadata=DEC)
    score = fields.Function(lambda r: _dec(r.score), metadata=DEC)
    grade = fields.String()
    rank = fields.Integer()
    status = fields.Function(lambda r: r.status.value)


class YearArgs(PageArgs):
    year = fields.Integer()


class YearInput(Schema):
    year = fields.Integer(required=True)


class RestrictionSchema(Schema):
    id = fields.Integer()
    agency_id = fields.Integer()
    agency_name = fields.String()
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.String()
    kind = fields.Function(lambda r: r.kind.value)
    reason = fields.String()
    start_on = fields.Date()
    end_on = fields.Date(allow_none=True)


class EligibilityArgs(Schema):
    date = fields.Date(metadata={"description": "The day asked about (default today)"})


class EligibilitySchema(Schema):
    agency_id = fields.Integer()
    date = fields.Date(attribute="day")
    eligible = fields.Boolean()
    reasons = fields.List(fields.String(), metadata={"description": "Why not eligible"})
    notes = fields.List(fields.String(), metadata={
        "description": "Warnings and credit records (do not block)"})


def _refused(exc: service.AssessmentError, message: str):
    db.session.rollback()
    return error_response(422, "validation_error", message, exc.problems)


# --- assessments --------------------------------------------------------------------------

@blp.route("/agency-assessments")
@blp.arguments(YearArgs, location="query")
@blp.response(200, page_schema(AssessmentSchema))
@requires("agency_assessment.view")
def list_assessments(args):
    """Assessments the caller may see (an agency: its own; a party: those it commissioned)."""
    stmt = select(Assessment).order_by(Assessment.id)
    if args.get("year"):
        stmt = stmt.where(Assessment.year == args["year"])
    return paginate(stmt, args)


@blp.route("/agency-assessments/<int:assessment_id>")
@blp.response(200, AssessmentDetailSchema)
@requires("agency_assessment.view")
def get_assessment(assessment_id: int):
    """One assessment with its evidence and every score's lines and scorers."""
    return get_or_404(Assessment, assessment_id)


class OpenInput(Schema):
    engagement_id = fields.Integer(required=True)


@blp.route("/agency-assessments", methods=["POST"])
@blp.arguments(OpenInput)
@blp.response(201, AssessmentDetailSchema)
@blp.alt_response(422, description="Not closed, unknown or already assessed; nothing written")
@requires("agency_assessment.score")
def open_assessment(data):
    """Open the assessment of a closed engagement (closing one opens it by itself)."""
    try:
        assessment = service.open_for(data["engagement_id"])
    except service.AssessmentError as exc:
        return _refused(exc, _("The assessment was not opened."))
    db.session.commit()
    return assessment


def _score(assessment_id: int, data: dict, who: str):
    assessment = get_or_404(Assessment, assessment_id)
    try:
        service.record_score(assessment, who, data["scores"], data["vetoes"], current_user)
    except service.AssessmentError as exc:
        return _refused(exc, _("The score was not saved."))
    db.session.commit()
    return assessment


@blp.route("/agency-assessments/<int:assessment_id>/score", methods=["POST"])
@blp.arguments(AssessmentScoreInput)
@blp.response(200, AssessmentDetailSchema)
@blp.alt_response(422, description="Every problem, by indicator path; nothing was written")
@requires("agency_assessment.score")
def score_assessment(data, assessment_id: int):
    """The commissioning party scores the sheet (once)."""
    return _score(assessment_id, data, service.PARTY)


@blp.route("/agency-assessments/<int:assessment_id>/spot-check", methods=["POST"])
@blp.arguments(AssessmentScoreInput)
@blp.response(200, AssessmentDetailSchema)
@blp.alt_response(422, description="Every problem, by indicator path; nothing was written")
@requires("agency_assessment.spot_check")
def spot_check_assessment(data, assessment_id: int):
    """The finance bureau's spot-check (抽查) of the report (once)."""
    return _score(assessment_id, data, service.SPOT)


# --- appeals ------------------------------------------------------------------------------

@blp.route("/agency-appeals")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(AppealSchema))
@requires("agency_appeal.view")
def list_appeals(args):
    """Appeals the caller may see."""
    return paginate(select(Appeal).order_by(Appeal.id), args)


@blp.route("/agency-appeals/<int:appeal_id>")
@blp.response(200, AppealSchema)
@requires("agency_appeal.view")
def get_appeal(appeal_id: int):
    """One appeal with the score before and after the decision."""
    return get_or_404(Appeal, appeal_id)


@blp.route("/agency-assessments/<int:assessment_id>/appeal", methods=["POST"])
@blp.arguments(AppealInput)
@blp.response(201, AppealSchema)
@blp.alt_response(422, description="Why the appeal was refused; nothing was written")
@requires("agency_appeal.file")
def file_appeal(data, assessment_id: int):
    """The agency appeals its score within the appeal period."""
    assessment = get_or_404(Assessment, assessment_id)
    try:
        appeal = service.file_appeal(assessment, data["reason"], current_user)
    except service.AssessmentError as exc:
        return _refused(exc, _("The appeal was not filed."))
    db.session.commit()
    return appeal


@blp.route("/agency-appeals/<int:appeal_id>/decision", methods=["POST"])
@blp.arguments(DecisionInput)
@blp.response(200, AppealSchema)
@blp.alt_response(422, description="Why the decision was refused; nothing was written")
@requires("agency_appeal.decide")
def decide_appeal(data, appeal_id: int):
    """Finance decides an appeal: reject, or uphold with the corrected score."""
    appeal = get_or_404(Appeal, appeal_id)
    try:
        service.decide_appeal(appeal, data["uphold"], data["score"], data["decision"],
                              current_user)
    except service.AssessmentError as exc:
        return _refused(exc, _("The decision was not saved."))
    db.session.commit()
    return appeal


# --- ratings, restrictions, eligibility ---------------------------------------------------

@blp.route("/agency-ratings")
@blp.arguments(YearArgs, location="query")
@blp.response(200, page_schema(RatingSchema))
@requires("agency_rating.view")
def list_ratings(args):
    """Annual ratings in rank order (the ranking of all agencies, by year)."""
    stmt = select(Rating).order_by(Rating.year.desc(), Rating.rank, Rating.id)
    if args.get("year"):
        stmt = stmt.where(Rating.year == args["year"])
    return paginate(stmt, args)


@blp.route("/agency-ratings/<int:rating_id>")
@blp.response(200, RatingSchema)
@requires("agency_rating.view")
def get_rating(rating_id: int):
    """One annual rating."""
    return get_or_404(Rating, rating_id)


def _ratings(data: dict, action):
    try:
        found = action(data["year"])
    except service.AssessmentError as exc:
        return _refused(exc, _("The rating was not changed."))
    db.session.commit()
    return {"items": found, "total": len(found), "page": 1, "per_page": len(found)}


@blp.route("/agency-ratings/compute", methods=["POST"])
@blp.arguments(YearInput)
@blp.response(200, page_schema(RatingSchema))
@blp.alt_response(422, description="The year is published; nothing was changed")
@requires("agency_rating.manage")
def compute_ratings(data):
    """Compute (or recompute) the draft ratings of a year."""
    return _ratings(data, ratings.compute_ratings)


@blp.route("/agency-ratings/publish", methods=["POST"])
@blp.arguments(YearInput)
@blp.response(200, page_schema(RatingSchema))
@blp.alt_response(422, description="Already published or not computed; nothing was changed")
@requires("agency_rating.manage")
def publish_ratings(data):
    """Publish a year's ratings: final from then on; their consequences are applied."""
    return _ratings(data, ratings.publish_ratings)


@blp.route("/agency-restrictions")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RestrictionSchema))
@requires("agency_restriction.view")
def list_restrictions(args):
    """Exclusions, warnings and credit records."""
    return paginate(select(Restriction).order_by(Restriction.id.desc()), args)


@blp.route("/agencies/<int:agency_id>/eligibility")
@blp.arguments(EligibilityArgs, location="query")
@blp.response(200, EligibilitySchema)
@requires("agency_restriction.view")
def agency_eligibility(args, agency_id: int):
    """May the agency be commissioned on the date? With the reasons (the same answer as the
    engagement approval check)."""
    principal = current_principal()
    if principal is not None and is_agency_side(principal) and agency_of(principal) != agency_id:
        return error_response(404, "not_found", _("Not found."))
    return ratings.eligibility(agency_id, args.get("date") or date.today())
