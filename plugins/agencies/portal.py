"""The agency portal (/portal): an agency's users see their engagements and log work.

Plain Flask pages behind the core login; every read goes through the ORM, so
the row scope (own agency only) applies; another agency's engagement, log or
file is a 404 exactly like a missing one. Forms carry the CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from core.extensions import db
from core.models import Attachment, BudgetItem, utcnow
from core.permissions import can
from core.services.attachments import AttachmentError, save_attachment, send_attachment
from core.web.admin.display import enum_label
from core.web.api import get_or_404
from core.web.forms import flash_problems
from plugins.agencies import service
from plugins.agencies.models import (
    ACTIVITY_LABELS,
    AGENCY_ROLE,
    Agency,
    AgencyStaff,
    Engagement,
    WorkLog,
    engagement_item,
)
from plugins.agencies.party import party_rows

bp = Blueprint("agency_portal", __name__, url_prefix="/portal")
OBJECT_TYPE = "work_log"
DELIVERABLE_TYPE = "engagement_deliverable"  # a deliverable (report, working papers)


@bp.before_request
@login_required
def _guard():
    if not can(current_user, "agency_portal.view"):
        abort(403)


@bp.errorhandler(403)
@bp.errorhandler(404)
def _refused(exc):
    """A missing page and another agency's engagement, log or file look the same, in Chinese,
    inside the portal (nothing of the refused row is shown)."""
    return _page("agencies/portal_error.html", code=exc.code), exc.code


def _page(template: str, **kwargs):
    # the row scope leaves an agency user only their own agency; anyone else would get
    # some agency's name at the head of their refusal page
    agency = db.session.scalar(select(Agency).limit(1)) \
        if current_user.is_authenticated and current_user.role.name == AGENCY_ROLE \
        and can(current_user, "agency_portal.view") else None
    return render_template(template, agency=agency, label=enum_label,
                           status_of=service.status_of, party_name=service.party_name,
                           status_labels=service.STATUS_LABELS, **kwargs)


def _engagement(engagement_id: int) -> Engagement:
    return get_or_404(Engagement, engagement_id)


def _log(log_id: int) -> WorkLog:
    return get_or_404(WorkLog, log_id)


def _items_of(eng: Engagement) -> list[BudgetItem]:
    """The engagement's budget items (the agency may read the items of its own engagement)."""
    with party_rows() as session:
        return list(session.scalars(
            select(BudgetItem).join(engagement_item,
                                    engagement_item.c.budget_item_id == BudgetItem.id)
            .where(engagement_item.c.engagement_id == eng.id).order_by(BudgetItem.code)))


def deliverables_of(eng: Engagement) -> list[Attachment]:
    """The deliverables uploaded for ``eng`` (the caller has already seen ``eng``)."""
    with party_rows() as session:
        return list(session.scalars(select(Attachment).where(
            Attachment.object_type == DELIVERABLE_TYPE, Attachment.object_id == eng.id)
            .order_by(Attachment.id)))


def _files_of(log_ids: list[int]) -> dict[int, list[Attachment]]:
    out: dict[int, list[Attachment]] = {}
    if not log_ids:
        return out
    with party_rows() as session:
        for a in session.scalars(select(Attachment).where(
                Attachment.object_type == OBJECT_TYPE, Attachment.object_id.in_(log_ids))
                .order_by(Attachment.id)):
            out.setdefault(a.object_id, []).append(a)
    return out


@bp.route("/")
def index():
    engagements = db.session.scalars(select(Engagement).order_by(Engagement.start_on.desc(),
                                                                 Engagement.id)).all()
    return _page("agencies/portal_index.html", engagements=engagements)


@bp.route("/engagements/<int:engagement_id>", methods=["GET", "POST"])
def engagement(engagement_id: int):
    eng = _engagement(engagement_id)
    if request.method == "POST" and not can(current_user, "work_log.write"):
        abort(403)
    errors: dict[str, list[str]] = {}
    values = request.form
    if request.method == "POST":
        data = service.parse_log(request.form)
        upload = request.files.get("file")
        log = service.add_log(eng, data, current_user, submit=bool(request.form.get("submit")))
        if log is not None:
            try:
                if upload is not None and upload.filename:
                    with party_rows():
                        save_attachment(upload, OBJECT_TYPE, log.id, eng.org_unit_id,
                                        current_user, field=_("Attachment"))
                db.session.commit()
                flash(_("The work was logged."), "success")
                return redirect(url_for(".engagement", engagement_id=eng.id))
            except AttachmentError as exc:
                db.session.rollback()
                data.error("file", str(exc))
        errors = data.errors
        flash_problems(message for messages in errors.values() for message in messages)
        eng = _engagement(engagement_id)
    logs = db.session.scalars(select(WorkLog).where(WorkLog.engagement_id == eng.id)
                              .order_by(WorkLog.work_date.desc(), WorkLog.id.desc())).all()
    return _page("agencies/portal_engagement.html", eng=eng, logs=logs, errors=errors,
                 values=values, items=_items_of(eng), files=_files_of([lg.id for lg in logs]),
                 deliverables=deliverables_of(eng),
                 current_user_can_write=can(current_user, "work_log.write"),
                 activities=ACTIVITY_LABELS, open=eng.closed_at is None,
                 status=service.status_of(eng))


@bp.route("/engagements/<int:engagement_id>/deliverables", methods=["POST"])
def upload_deliverable(engagement_id: int):
    """A deliverable of the agency's own open engagement, through the core's checked
    uploads; it belongs to the commissioning party's org unit, which sees it too."""
    eng = _engagement(engagement_id)
    if not can(current_user, "work_log.write"):
        abort(403)
    if eng.closed_at is not None:
        flash(_("This engagement is closed; no more deliverables can be uploaded."), "error")
    else:
        try:
            with party_rows():
                save_attachment(request.files.get("deliverable"), DELIVERABLE_TYPE, eng.id,
                                eng.org_unit_id, current_user, field=_("Deliverable"))
            db.session.commit()
            flash(_("The deliverable was uploaded."), "success")
        except AttachmentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for(".engagement", engagement_id=eng.id))


@bp.route("/logs/<int:log_id>/submit", methods=["POST"])
def submit_log(log_id: int):
    log = _log(log_id)
    if not can(current_user, "work_log.write"):
        abort(403)
    problem = service.edit_problem(log, current_user)
    if problem is None and log.submitted_at is None:
        log.submitted_at = utcnow()
        db.session.commit()
        flash(_("The work log was submitted."), "success")
    elif problem:
        flash(problem, "error")
    return redirect(url_for(".engagement", engagement_id=log.engagement_id))


@bp.route("/logs/<int:log_id>/delete", methods=["POST"])
def delete_log(log_id: int):
    log = _log(log_id)
    if not can(current_user, "work_log.write"):
        abort(403)
    engagement_id = log.engagement_id
    problem = service.delete_problem(log, current_user)
    if problem:
        flash(problem, "error")
    else:
        service.delete_log(log)
        db.session.commit()
        flash(_("The draft work log was deleted."), "success")
    return redirect(url_for(".engagement", engagement_id=engagement_id))


@bp.route("/files/<int:attachment_id>")
def download(attachment_id: int):
    """A file of one of the agency's own work logs or engagements (another agency's: 404)."""
    with party_rows() as session:
        attachment = session.scalar(select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.object_type.in_((OBJECT_TYPE, DELIVERABLE_TYPE))))
    if attachment is None:
        abort(404)
    if attachment.object_type == DELIVERABLE_TYPE:
        _engagement(attachment.object_id)  # 404 unless the engagement is visible
    elif _visible_log(attachment.object_id) is None:
        abort(404)
    return send_attachment(attachment)


def _visible_log(log_id: int) -> WorkLog | None:
    return db.session.scalar(select(WorkLog).where(WorkLog.id == log_id))


@bp.route("/staff")
def staff():
    people = db.session.scalars(select(AgencyStaff).order_by(AgencyStaff.id)).all()
    return _page("agencies/portal_staff.html", people=people)
