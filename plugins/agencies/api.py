"""API: engagements (read) and work logs (create, list, update within the edit window,
delete own drafts). Session or personal API token; rows scoped by core.scope."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.db_int import INT_MAX
from core.extensions import db
from core.models import State, utcnow
from core.services.attachments import AttachmentError, save_attachment, send_attachment
from core.web.api import ApiBlueprint, error_response, get_or_404, requires
from core.web.api.fields import UtcDateTime
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.agencies import service
from plugins.agencies.models import Engagement, WorkLog
from plugins.agencies.party import party_rows
from plugins.agencies.portal import DELIVERABLE_TYPE, deliverables_of

STATUSES = ("draft", "submitted", "returned", "approved", "closed")
blp = ApiBlueprint("agencies_api", __name__, url_prefix="/api/v1",
                   description="Agency engagements and work logs")


class EngagementSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    commissioning_party = fields.Function(lambda e: service.party_name(e))
    agency = fields.Function(lambda e: e.agency.name)
    agency_id = fields.Integer()
    kind = fields.Function(lambda e: e.kind.value)
    procurement = fields.Function(lambda e: e.procurement.value)
    contract_amount = fields.Function(lambda e: str(e.contract_amount),
                                      metadata={"description": "Decimal string, yuan"})
    start_on = fields.Date()
    end_on = fields.Date()
    deliverables = fields.String()
    status = fields.Function(lambda e: service.status_of(e), metadata={
        "description": "draft, submitted, returned, approved (in progress) or closed"})
    team = fields.Function(lambda e: [{"id": s.id, "name": s.name} for s in e.team])


class EngagementArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "Only engagements in this status: " + ", ".join(STATUSES)})


class WorkLogSchema(Schema):
    id = fields.Integer()
    engagement_id = fields.Integer()
    staff_id = fields.Integer()
    work_date = fields.Date()
    hours = fields.Function(lambda w: str(w.hours.quantize(Decimal("0.01"))),
                            metadata={"description": "Decimal string, 2 places"})
    activity = fields.Function(lambda w: w.activity.value)
    location = fields.String()
    notes = fields.String()
    submitted = fields.Function(lambda w: w.submitted_at is not None)
    created_at = UtcDateTime()


class WorkLogArgs(PageArgs):
    engagement_id = fields.Integer()
    staff_id = fields.Integer()
    date_from = fields.Date()
    date_to = fields.Date()


class WorkLogInput(Schema):
    engagement_id = fields.Integer(required=True)
    staff_id = fields.Raw(required=True)
    work_date = fields.Raw(required=True, metadata={"description": "YYYY-MM-DD"})
    hours = fields.Raw(required=True, metadata={
        "description": "Decimal string such as \"3.5\" (never a float)"})
    activity = fields.String(required=True, metadata={
        "description": "desk_review, site_visit, interview, survey, expert_meeting, "
                       "report_writing or other"})
    location = fields.String(load_default="")
    notes = fields.String(load_default="")
    submit = fields.Boolean(load_default=False, metadata={
        "description": "Submit at once (a submitted log can no longer be deleted)"})


class WorkLogUpdate(Schema):
    staff_id = fields.Raw()
    work_date = fields.Raw()
    hours = fields.Raw()
    activity = fields.String()
    location = fields.String()
    notes = fields.String()
    submit = fields.Boolean()


def _invalid(errors: dict[str, list[str]]):
    db.session.rollback()
    return error_response(422, "validation_error", _("The work log was not saved."), errors)


@blp.route("/engagements")
@blp.arguments(EngagementArgs, location="query")
@blp.response(200, page_schema(EngagementSchema))
@requires("engagement.view")
def list_engagements(args):
    """The engagements the caller may see (an agency user: their agency's only)."""
    stmt = select(Engagement).order_by(Engagement.id)
    status = args.get("status")
    if status == "closed":
        stmt = stmt.where(Engagement.closed_at.is_not(None))
    elif status:
        stmt = stmt.where(Engagement.closed_at.is_(None), Engagement.state == State(status))
    return paginate(stmt, args)


@blp.route("/engagements/<int:engagement_id>")
@blp.response(200, EngagementSchema)
@requires("engagement.view")
def get_engagement(engagement_id: int):
    """One engagement with its team and status."""
    return get_or_404(Engagement, engagement_id)


@blp.route("/work-logs")
@blp.arguments(WorkLogArgs, location="query")
@blp.response(200, page_schema(WorkLogSchema))
@requires("work_log.view")
def list_work_logs(args):
    """Work logs the caller may see, by engagement, staff member or dates."""
    stmt = select(WorkLog).order_by(WorkLog.id)
    for key, column in (("engagement_id", WorkLog.engagement_id),
                        ("staff_id", WorkLog.staff_id)):
        if args.get(key):
            stmt = stmt.where(column == args[key])
    if args.get("date_from"):
        stmt = stmt.where(WorkLog.work_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(WorkLog.work_date <= args["date_to"])
    return paginate(stmt, args)


@blp.route("/work-logs/<int:log_id>")
@blp.response(200, WorkLogSchema)
@requires("work_log.view")
def get_work_log(log_id: int):
    """One work log."""
    return get_or_404(WorkLog, log_id)


@blp.route("/work-logs", methods=["POST"])
@blp.arguments(WorkLogInput)
@blp.response(201, WorkLogSchema)
@blp.alt_response(422, description="Every problem, by field; nothing was written")
@requires("work_log.write")
def create_work_log(data):
    """Log work on one of the agency's approved, open engagements."""
    staff = data["staff_id"]  # locked with the engagement's read when it can be a row id
    eng = service.engagement_for_log(data["engagement_id"],
                                     staff if type(staff) is int and 0 < staff <= INT_MAX else None)
    if eng is None:
        return _invalid({"engagement_id": [_("Unknown engagement.")]})
    parsed = service.parse_log(data)
    log = service.add_log(eng, parsed, current_user, submit=data["submit"])
    if log is None:
        return _invalid(parsed.errors)
    db.session.commit()  # the log is answered as written: no re-read after the commit
    return log


@blp.route("/work-logs/<int:log_id>", methods=["PATCH"])
@blp.arguments(WorkLogUpdate)
@blp.response(200, WorkLogSchema)
@blp.alt_response(422, description="Every problem, by field; nothing was written")
@requires("work_log.write")
def update_work_log(data, log_id: int):
    """Change one's own work log within the edit window (AGENCY_WORKLOG_EDIT_DAYS)."""
    log = get_or_404(WorkLog, log_id)
    problem = service.edit_problem(log, current_user)
    if problem:
        return error_response(403, "forbidden", problem, {"reason": "edit_window"})
    merged = {"staff_id": log.staff_id, "work_date": log.work_date, "hours": str(log.hours),
              "activity": log.activity.value, "location": log.location, "notes": log.notes,
              **{k: v for k, v in data.items() if k != "submit"}}
    parsed = service.parse_log(merged)
    service.check_log(log.engagement, parsed, exclude_id=log.id)
    if parsed.errors:
        return _invalid(parsed.errors)
    service.apply_log(log, parsed)
    if data.get("submit") and log.submitted_at is None:
        log.submitted_at = utcnow()
    db.session.commit()
    return log


@blp.route("/work-logs/<int:log_id>", methods=["DELETE"])
@blp.response(204)
@requires("work_log.write")
def delete_work_log(log_id: int):
    """Delete one's own draft work log."""
    log = get_or_404(WorkLog, log_id)
    problem = service.delete_problem(log, current_user)
    if problem:
        return error_response(403, "forbidden", problem, {"reason": "not_deletable"})
    service.delete_log(log)
    db.session.commit()
    return None




class DeliverableSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    uploaded_at = UtcDateTime(attribute="created_at")


class DeliverableUpload(Schema):
    # not ``required``: a missing file is refused after the engagement's scope check,
    # so that another agency learns nothing from the answer
    file = Upload(metadata={"description": "The deliverable (PDF, Word, Excel, image; "
                                           "checked by content)"})


@blp.route("/engagements/<int:engagement_id>/deliverables")
@blp.response(200, DeliverableSchema(many=True))
@requires("engagement.view")
def list_deliverables(engagement_id: int):
    """The deliverables uploaded for an engagement the caller may see."""
    return deliverables_of(get_or_404(Engagement, engagement_id))


@blp.route("/engagements/<int:engagement_id>/deliverables", methods=["POST"])
@blp.arguments(DeliverableUpload, location="files")
@blp.response(201, DeliverableSchema)
@blp.alt_response(422, description="The file was refused; nothing was written")
@requires("work_log.write")
def upload_deliverable(files, engagement_id: int):
    """Upload a deliverable of the agency's own open engagement (multipart field ``file``)."""
    eng = get_or_404(Engagement, engagement_id)
    if eng.closed_at is not None:
        return error_response(409, "closed", _("This engagement is closed; no more "
                                               "deliverables can be uploaded."))
    try:
        with party_rows():
            attachment = save_attachment(files.get("file"), DELIVERABLE_TYPE, eng.id,
                                         eng.org_unit_id, current_user, field=_("Deliverable"))
    except AttachmentError as exc:
        db.session.rollback()
        return error_response(422, "validation_error", _("The deliverable was not saved."),
                              {"file": [str(exc)]})
    db.session.commit()
    return attachment


@blp.route("/engagements/<int:engagement_id>/deliverables/<int:attachment_id>")
@blp.response(200, description="The file")
@requires("engagement.view")
def download_deliverable(engagement_id: int, attachment_id: int):
    """Download one deliverable of an engagement the caller may see."""
    eng = get_or_404(Engagement, engagement_id)
    for attachment in deliverables_of(eng):
        if attachment.id == attachment_id:
            return send_attachment(attachment)
    abort(404)
