"""API: monitoring rounds (read), records by risk (read; report and submit as JSON)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.extensions import db
from core.models import State
from core.web.api import ApiBlueprint, error_response, get_or_404, requires, stale
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.monitoring import service
from plugins.monitoring.models import Light, MonitoringRecord, MonitoringRound

blp = ApiBlueprint("monitoring_api", __name__, url_prefix="/api/v1",
                   description="Execution monitoring: rounds and records")

_PCT = {"as_string": True, "places": 2, "allow_none": True}


class RoundSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    year = fields.Function(lambda r: r.fiscal_year.year)
    period_start = fields.Date()
    cutoff = fields.Date()
    due = fields.Date()
    closed = fields.Function(lambda r: r.closed_at is not None)
    record_count = fields.Integer()


class IndicatorSchema(Schema):
    id = fields.Integer()
    level1 = fields.String()
    level2 = fields.String()
    name = fields.String()
    comparator = fields.String()
    target_value = fields.String()
    unit = fields.String(allow_none=True)
    achieved = fields.String(allow_none=True)
    forecast = fields.String(allow_none=True)
    likelihood = fields.Function(lambda i: i.likelihood.value if i.likelihood else None)
    progress_deviation = fields.Decimal(**_PCT)
    forecast_deviation = fields.Decimal(**_PCT)
    reason = fields.Function(lambda i: i.reason.value if i.reason else None)


class RecordSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    budget_item_id = fields.Integer()
    item_code = fields.Function(lambda r: r.budget_item.code)
    org_unit_id = fields.Integer()
    light = fields.Function(lambda r: Light(r.light).name.lower(),
                            metadata={"description": "pending, green, yellow or red"})
    state = fields.Function(lambda r: State(r.state).value)
    budget = fields.Decimal(as_string=True, places=2)
    spent = fields.Decimal(as_string=True, places=2, allow_none=True)
    over_budget_note = fields.String(allow_none=True)
    execution_rate = fields.Decimal(**_PCT)
    expected_rate = fields.Decimal(**_PCT)
    spending_deviation = fields.Decimal(**_PCT)
    indicator_deviation = fields.Decimal(**_PCT)
    reason = fields.Function(lambda r: r.reason.value if r.reason else None)
    reason_note = fields.String(allow_none=True)
    measures = fields.String(allow_none=True)
    measures_due = fields.Date(allow_none=True)
    version = fields.Integer()
    indicators = fields.List(fields.Nested(IndicatorSchema))


class RecordArgs(PageArgs):
    round_id = fields.Integer()
    light = fields.String(validate=validate.OneOf(["pending", "green", "yellow", "red"]))


class IndicatorInput(Schema):
    id = fields.Integer(required=True)
    achieved = fields.Raw(allow_none=True, load_default=None)
    forecast = fields.Raw(allow_none=True, load_default=None)
    likelihood = fields.String(allow_none=True, load_default=None,
                               metadata={"description": "certain, possible or impossible"})
    reason = fields.String(allow_none=True, load_default=None)


class RecordInput(Schema):
    spent = fields.Raw(required=True, metadata={
        "description": "Yuan as a decimal string, e.g. \"1234.50\"; never a float"})
    over_budget_note = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None, metadata={
        "description": "policy_change, plan_change, procurement_delay, emergency, "
                       "poor_management or other"})
    reason_note = fields.String(allow_none=True, load_default=None)
    measures = fields.String(allow_none=True, load_default=None)
    measures_due = fields.Date(allow_none=True, load_default=None)
    indicators = fields.List(fields.Nested(IndicatorInput), load_default=list)
    version = fields.Integer(load_default=None, metadata={
        "description": "The record's version as read; a newer one on the server is a 409"})
    submit = fields.Boolean(load_default=False)


@blp.route("/monitoring-rounds")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RoundSchema))
@requires("monitoring_round.view")
def list_rounds(args):
    """Monitoring rounds, the latest cut-off first."""
    return paginate(select(MonitoringRound).order_by(MonitoringRound.cutoff.desc(),
                                                     MonitoringRound.id.desc()), args)


@blp.route("/monitoring-records")
@blp.arguments(RecordArgs, location="query")
@blp.response(200, page_schema(RecordSchema))
@requires("monitoring_record.view")
def list_records(args):
    """Records the caller may see, the highest risk first (by round and light)."""
    stmt = select(MonitoringRecord).order_by(
        MonitoringRecord.light.desc(), MonitoringRecord.spending_deviation.desc(),
        MonitoringRecord.id)
    if args.get("round_id"):
        stmt = stmt.where(MonitoringRecord.round_id == args["round_id"])
    if args.get("light"):
        stmt = stmt.where(MonitoringRecord.light == int(Light[args["light"].upper()]))
    return paginate(stmt, args)


@blp.route("/monitoring-records/<int:record_id>")
@blp.response(200, RecordSchema)
@requires("monitoring_record.view")
def get_record(record_id: int):
    """One record with its indicators."""
    return get_or_404(MonitoringRecord, record_id)


@blp.route("/monitoring-records/<int:record_id>", methods=["PUT"])
@blp.arguments(RecordInput)
@blp.response(200, RecordSchema)
@blp.alt_response(422, description="Every problem, by field")
@requires("monitoring_record.edit")
def report(data, record_id: int):
    """Report spending and indicator progress; optionally submit.

    Refused with every problem listed (nothing written): negative or inexact
    amounts, spending above the budget without an explanation, indicators not
    of this record, a closed round, a record already submitted.
    """
    record = get_or_404(MonitoringRecord, record_id)
    if (conflict := stale(record, data.get("version"))) is not None:
        return conflict
    payload = {k: data.get(k) for k in ("spent", "over_budget_note", "reason", "reason_note",
                                        "measures", "measures_due")}
    payload["reason"] = payload["reason"] or ""
    payload["indicators"] = {i["id"]: i for i in data["indicators"]}
    try:
        service.save_record(record, payload, current_user)
        if data.get("submit"):
            service.transition(record, "submit", current_user)
        db.session.commit()
    except service.MonitoringError as exc:
        db.session.rollback()
        details: dict[str, list[str]] = {}
        for p in exc.problems:
            details.setdefault(p.field or "record", []).append(str(p.message))
        return error_response(422, "validation_error", _("The record was not saved."), details)
    db.session.refresh(record)
    return record
