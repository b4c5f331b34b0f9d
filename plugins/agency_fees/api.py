"""API under /api/v1/fees: schedules in and out (JSON), quotes, engagement quotes.

Amounts are decimal strings in yuan, rounded to the fen at the end of each line.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, fields
from sqlalchemy import select

from core.extensions import db
from core.web.api import ApiBlueprint, error_response, get_or_404, requires
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.agency_fees import service
from plugins.agency_fees.calc import InputError, parse_inputs
from plugins.agency_fees.models import FeeQuote, FeeSchedule
from plugins.agency_fees.schedule import RulesError

blp = ApiBlueprint("agency_fees_api", __name__, url_prefix="/api/v1/fees",
                   description="Fee schedules, service-fee quotes and engagement quotes")


class ScheduleSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    revision = fields.Integer()
    name = fields.String()
    status = fields.Function(lambda s: s.status.value,
                             metadata={"description": "draft, active or retired"})
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    note = fields.String()
    rules = fields.Dict(metadata={"description": "The rule data, numbers as decimal strings "
                                                 "(docs/agency_fees.md)"})


class ScheduleInput(Schema):
    """A schedule as exported (id, revision and status are ignored: imports are drafts)."""

    class Meta:
        unknown = EXCLUDE

    code = fields.Raw(required=True)
    name = fields.Raw(required=True)
    valid_from = fields.Raw(required=True, metadata={"description": "YYYY-MM-DD"})
    valid_to = fields.Raw(load_default=None)
    note = fields.Raw(load_default="")
    rules = fields.Raw(required=True, metadata={"description": "The rule data"})


class QuoteInput(Schema):
    schedule_code = fields.String(load_default=None, metadata={
        "description": "Default: the active schedule on `on`"})
    on = fields.Date(load_default=None, metadata={"description": "Default: today"})
    object_kind = fields.Raw(load_default="project",
                             metadata={"description": "project, policy or department"})
    stage = fields.Raw(required=True, metadata={
        "description": "pre_assessment, target_review, monitoring, evaluation, re_evaluation"})
    evaluated_amount = fields.Raw(load_default="0", metadata={"description": "Yuan, string"})
    staff_days = fields.Raw(load_default=dict, metadata={
        "description": "{grade: person-days}, in half-day steps"})
    experts = fields.Raw(load_default=list, metadata={
        "description": "[{title, days (half-day steps), count, remote_reviews}]"})
    survey_samples = fields.Raw(load_default=0)
    direct_costs = fields.Raw(load_default=list, metadata={
        "description": "[{label, amount}] at cost: travel and other items"})


class EngagementQuoteInput(QuoteInput):
    engagement_id = fields.Integer(required=True)
    stage = fields.Raw(load_default=None, metadata={"description": "Default: the engagement's"})
    evaluated_amount = fields.Raw(load_default=None, metadata={
        "description": "Default: the engagement's evaluated amount"})
    reason = fields.String(load_default="", metadata={
        "description": "Why the contract deviates from the quote (if it does)"})


class LineSchema(Schema):
    code = fields.String()
    label = fields.String()
    formula = fields.String()
    amount = fields.String()


class QuoteSchema(Schema):
    schedule = fields.Dict()
    inputs = fields.Dict()
    lines = fields.List(fields.Nested(LineSchema))
    total = fields.String()
    scale_fee = fields.String(allow_none=True)
    scale_deviation_pct = fields.String(allow_none=True)
    outside_scale = fields.Boolean()


class StoredQuoteSchema(Schema):
    id = fields.Integer()
    engagement_id = fields.Integer()
    engagement_code = fields.String()
    agency_name = fields.String()
    year = fields.Integer()
    schedule = fields.String(attribute="schedule_label")
    total = fields.Function(lambda q: str(q.total))
    contract_amount = fields.Function(lambda q: str(q.contract_amount))
    scale_fee = fields.Function(lambda q: None if q.scale_fee is None else str(q.scale_fee))
    deviation_pct = fields.Function(
        lambda q: None if q.deviation_pct is None else str(q.deviation_pct))
    scale_deviation_pct = fields.Function(
        lambda q: None if q.scale_deviation_pct is None else str(q.scale_deviation_pct))
    needs_approval = fields.Boolean()
    state = fields.Function(lambda q: q.state.value)
    reason = fields.String()
    inputs = fields.Dict()
    lines = fields.Function(lambda q: [
        {"code": ln.code, "label": ln.label, "formula": ln.formula, "amount": str(ln.amount)}
        for ln in service.stored_lines(q)])


def _invalid(message: str, errors: dict[str, str]):
    db.session.rollback()
    return error_response(422, "validation_error", message,
                          {"json": {k: [v] for k, v in errors.items()}})


def _schedule(data) -> FeeSchedule | None:
    on = data.get("on") or date.today()
    return service.schedule_for(data.get("schedule_code"), on)


@blp.route("/schedules")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ScheduleSchema))
@requires("fee_schedule.view")
def list_schedules(args):
    """Every fee schedule revision, newest first."""
    return paginate(select(FeeSchedule).order_by(FeeSchedule.code, FeeSchedule.revision.desc()),
                    args)


@blp.route("/schedules/<int:schedule_id>")
@blp.response(200, ScheduleSchema)
@requires("fee_schedule.view")
def get_schedule(schedule_id: int):
    """One schedule revision with its rules (the JSON export; POST it back to import)."""
    return get_or_404(FeeSchedule, schedule_id)


@blp.route("/schedules", methods=["POST"])
@blp.arguments(ScheduleInput)
@blp.response(201, ScheduleSchema)
@blp.alt_response(422, description="Every problem, by field; nothing was written")
@requires("fee_schedule.create")
def create_schedule(data):
    """Import a schedule as a new draft revision of its code (never changes an active one)."""
    try:
        schedule = service.create_draft(data)
    except service.FeeError as exc:
        return _invalid(_("The schedule was not saved."), exc.errors)
    db.session.commit()
    return schedule


@blp.route("/quote", methods=["POST"])
@blp.arguments(QuoteInput)
@blp.response(200, QuoteSchema)
@blp.alt_response(422, description="Every problem, by field")
@requires("fee.quote")
def quote(data):
    """Quote a service fee: every line with its formula, the total and the schedule version."""
    schedule = _schedule(data)
    if schedule is None:
        return _invalid(_("No fee schedule is in force."), {"schedule_code": _(
            "No active fee schedule for this code and date.")})
    try:
        rules = service.rules_of(schedule)
        inputs = parse_inputs(data, rules)
    except (InputError, RulesError) as exc:
        return _invalid(_("The quote could not be computed."), exc.errors)
    return service.quote_json(schedule, inputs, service.compute(rules, inputs))


@blp.route("/quotes", methods=["POST"])
@blp.arguments(EngagementQuoteInput)
@blp.response(201, StoredQuoteSchema)
@blp.alt_response(422, description="Every problem, by field; nothing was written")
@requires("fee_quote.create")
def quote_engagement(data):
    """Store (or redo) the quote of an engagement and compare its contract amount with it."""
    eng = service.engagement(data["engagement_id"])
    if eng is None:
        return error_response(404, "not_found", _("Not found."))
    schedule = service.schedule_for(data.get("schedule_code"), data.get("on") or eng.start_on)
    if schedule is None:
        return _invalid(_("No fee schedule is in force."), {"schedule_code": _(
            "No active fee schedule for this code and date.")})
    try:
        row = service.quote_engagement(eng, schedule, data, data.get("reason", ""),
                                       user=current_user)
    except service.FeeError as exc:
        return _invalid(_("The quote was not saved."), exc.errors)
    db.session.commit()
    return row


@blp.route("/quotes")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(StoredQuoteSchema))
@requires("fee_quote.view")
def list_quotes(args):
    """Stored engagement quotes in the caller's scope."""
    return paginate(select(FeeQuote).order_by(FeeQuote.id), args)


@blp.route("/quotes/<int:quote_id>")
@blp.response(200, StoredQuoteSchema)
@requires("fee_quote.view")
def get_quote(quote_id: int):
    """One stored quote with its inputs, lines and formulas."""
    return get_or_404(FeeQuote, quote_id)
