"""Admin pages (menu 第三方机构): agencies, staff, agency users, engagements, work logs."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from core.extensions import db
from core.models import OrgKind, State
from core.permissions import can
from core.web.admin.base import ScopedModelView
from core.web.admin.display import enum_label, org_unit_name
from core.web.admin.filters import department_filter
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import APPROVED, FINAL, WorkflowStates
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS
from plugins.agencies import service
from plugins.agencies.models import (
    AGENCY_ROLE,
    Agency,
    AgencyMember,
    AgencyStaff,
    Engagement,
    StaffCertificate,
    StaffEmployment,
    WorkLog,
)
from plugins.agencies.portal import deliverables_of
from plugins.agencies.rules import approval_problems
from plugins.agencies.uscc import uscc_problem

CATEGORY = _l("Third-party agencies")
COMMISSIONING_KINDS = {OrgKind.FINANCE_BUREAU, OrgKind.DEPARTMENT, OrgKind.TOWN}

LABELS = {
    "name": _l("Name"), "credit_code": _l("Unified social credit code"), "kind": _l("Kind"),
    "qualifications": _l("Qualifications"), "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"), "contact_email": _l("Contact e-mail"),
    "address": _l("Address"), "status": _l("Status"), "status_note": _l("Status note"),
    "agency": _l("Agency"), "title": _l("Job title"), "grade": _l("Staff grade"), "active": _l("Active"),
    "certificates": _l("Certificates"), "employments": _l("Employer history"),
    "user": _l("User"), "code": _l("Code"), "org_unit": _l("Commissioning party"),
    "procurement": _l("Procurement method"), "contract_amount": _l("Contract amount (yuan)"),
    "budget_reference": _l("Budget line"), "budget_amount": _l("Budgeted amount (yuan)"),
    "start_on": _l("Start"), "end_on": _l("End"), "deliverables": _l("Deliverables"),
    "items": _l("Budget items"), "team": _l("Team"), "state": _l("State"),
    "closed_at": _l("Closed"), "engagement": _l("Engagement"), "staff": _l("Staff member"),
    "work_date": _l("Work date"), "hours": _l("Hours"), "activity": _l("Activity"),
    "location": _l("Location"), "notes": _l("Notes"), "submitted_at": _l("Submitted"),
    "number": _l("Number"), "expires_on": _l("Expires"), "employer": _l("Employer"),
    "org_unit_id": _l("Org unit"), "engagement.code": _l("Engagement"),
}


class AgencyView(ScopedModelView):
    permission = "agency"
    column_list = ("name", "credit_code", "kind", "status", "contact_name", "contact_phone")
    column_searchable_list = ("name", "credit_code")
    column_filters = ("kind", "status")
    form_columns = ("name", "credit_code", "kind", "qualifications", "contact_name",
                    "contact_phone", "contact_email", "address", "status", "status_note")
    column_labels = LABELS

    def check_form(self, form) -> bool:
        code = (form.credit_code.data or "").strip().upper()
        form.credit_code.data = code
        problem = uscc_problem(code)
        if problem:
            return add_field_error(form.credit_code, problem)
        return True


class AgencyStaffView(ScopedModelView):
    permission = "agency_staff"
    column_list = ("name", "agency", "title", "grade", "active")
    column_searchable_list = ("name",)
    column_details_list = ("name", "agency", "title", "grade", "qualifications", "active",
                           "certificates", "employments")
    form_columns = ("agency", "name", "title", "grade", "qualifications", "active")
    column_labels = LABELS
    column_formatters = {
        "certificates": lambda v, c, m, n: Markup("<br>").join(
            f"{x.name} {x.number} ({x.expires_on or '-'})" for x in m.certificates),
        "employments": lambda v, c, m, n: Markup("<br>").join(
            f"{x.employer} {x.start_on or ''}–{x.end_on or ''}" for x in m.employments),
    }

    def __init__(self, *args, **kwargs):
        self.inline_models = (
            (StaffCertificate, {"form_columns": ("id", "name", "number", "expires_on"),
                                "form_label": _l("Certificates"), "column_labels": LABELS}),
            (StaffEmployment, {"form_columns": ("id", "employer", "org_unit", "start_on",
                                                "end_on"),
                               "form_label": _l("Employer history"),
                               "column_labels": {**LABELS, "org_unit": _l("Org unit")}}),
        )
        super().__init__(*args, **kwargs)

    def check_form(self, form) -> bool:
        ok = True
        for entry in form.employments.entries:
            sub = entry.form
            if sub.start_on.data and sub.end_on.data and sub.end_on.data < sub.start_on.data:
                ok = add_field_error(sub.end_on, _l("The end is before the start."))
        return ok


class AgencyMemberView(ScopedModelView):
    permission = "agency_member"
    column_list = ("user", "agency")
    form_columns = ("user", "agency")
    column_labels = LABELS

    def check_form(self, form) -> bool:
        user = form.user.data
        if user is not None and user.role_name != AGENCY_ROLE:
            return add_field_error(form.user, _l("Only accounts with the agency user role can "
                                                 "be attached to an agency."))
        return True


#: an approved engagement is in progress; a closed one (``closed_at``) is closed
STATES = WorkflowStates(Engagement, service.WORKFLOW, final="closed_at", words={
    APPROVED: service.STATUS_LABELS["approved"], FINAL: service.STATUS_LABELS["closed"]})


def _party(view, context, model, name) -> str:
    """The commissioning party: from the names read once per request; an agency user,
    whose scope holds no org unit, reads it through the party's session."""
    return org_unit_name(model.org_unit_id) or service.party_name(model)


class EngagementView(OwnerEditsView, ScopedModelView):
    permission = "engagement"
    review_workflow = service.WORKFLOW
    own_page = "review"
    column_list = ("code", "title", "org_unit", "agency", "kind", "contract_amount", "start_on",
                   "end_on", "state")
    column_details_list = ("code", "title", "org_unit", "agency", "kind", "procurement",
                           "contract_amount", "budget_reference", "budget_amount", "start_on",
                           "end_on", "deliverables", "items", "team", "state", "closed_at")
    column_export_list = ("code", "title", "org_unit", "agency", "kind", "procurement",
                          "contract_amount", "start_on", "end_on", "state")
    column_searchable_list = ("code", "title")
    column_filters = ("kind", STATES.filter(), "procurement", "start_on",
                      department_filter(Engagement.org_unit_id))
    column_default_sort = ("id", True)
    form_columns = ("code", "title", "org_unit", "agency", "kind", "procurement",
                    "contract_amount", "budget_reference", "budget_amount", "start_on", "end_on",
                    "deliverables", "items", "team")
    form_ajax_refs = {"items": {"fields": ("code", "name"), "page_size": 20}}
    column_labels = LABELS
    column_formatters = {
        "state": STATES.column,
        "code": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".review", id=m.id), m.code),
        "org_unit": _party,
        "items": lambda v, c, m, n: ", ".join(i.code for i in m.items),
        "team": lambda v, c, m, n: ", ".join(s.name for s in m.team),
    }
    column_formatters_export = {
        "state": STATES.column,
        "code": lambda v, c, m, n: m.code,
        "org_unit": _party,
    }

    def check_form(self, form) -> bool:
        ok = True
        org = form.org_unit.data
        if org is not None and org.kind not in COMMISSIONING_KINDS:
            ok = add_field_error(form.org_unit, _l(
                "The commissioning party must be the finance bureau, a department or a town."))
        if form.start_on.data and form.end_on.data and form.end_on.data < form.start_on.data:
            ok = add_field_error(form.end_on, _l("The end is before the start."))
        amount = form.contract_amount.data
        if amount is not None and amount <= 0:
            ok = add_field_error(form.contract_amount, _l("The contract amount must be more "
                                                          "than zero."))
        agency = form.agency.data
        if agency is not None:
            others = [s.name for s in form.team.data or [] if s.agency_id != agency.id]
            if others:
                ok = add_field_error(form.team, _l("Not staff of the chosen agency: %(names)s",
                                                   names=", ".join(others)))
        if org is not None and org.kind != OrgKind.FINANCE_BUREAU:
            outside = [i.code for i in form.items.data or []
                       if not i.org_unit.path.startswith(org.path)]
            if outside:
                ok = add_field_error(form.items, _l(
                    "These items are not under the commissioning party: %(codes)s",
                    codes=", ".join(outside)))
        return ok

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.state, model.review_level = State.DRAFT, 0
        elif State(model.state or State.DRAFT) not in service.EDITABLE or model.closed_at:
            raise ValueError(_("Engagement %(code)s is under review or approved and cannot be "
                               "changed.", code=model.code))

    def on_model_delete(self, model):
        if State(model.state or State.DRAFT) not in service.EDITABLE or model.closed_at:
            raise ValueError(_("Engagement %(code)s is under review or approved and cannot be "
                               "changed.", code=model.code))

    # --- the review page: checks, workflow, closing ----------------------------------------
    def _engagement(self) -> Engagement:
        eng = self.get_one(request.values.get("id", ""))
        if eng is None:
            abort(404)
        return eng

    @expose("/review/")
    def review(self):
        eng = self._engagement()
        actions = []
        if eng.closed_at is None and can(current_user, "engagement.edit"):
            actions = service.WORKFLOW.allowed_actions(eng, current_user)
        can_close = eng.closed_at is None and State(eng.state) == State.APPROVED and \
            can(current_user, "engagement.close")
        problems = approval_problems(eng) if eng.closed_at is None and \
            State(eng.state) != State.APPROVED else []
        logs = db.session.scalars(db.select(WorkLog).where(WorkLog.engagement_id == eng.id)
                                  .order_by(WorkLog.work_date, WorkLog.id)).all()
        return self.render("agencies/review.html", eng=eng, actions=actions,
                           action_labels=ACTION_LABELS, can_close=can_close, problems=problems,
                           status=service.STATUS_LABELS[service.status_of(eng)], logs=logs,
                           history=service.WORKFLOW.history(eng), label=enum_label,
                           deliverables=deliverables_of(eng),
                           party_name=service.party_name)

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        eng = self._engagement()
        action = request.form.get("action", "")
        try:
            if action == "close":
                if not can(current_user, "engagement.close"):
                    abort(403)
                service.close(eng, current_user)
                label = _("Close")
            else:
                if not can(current_user, "engagement.edit"):
                    abort(403)
                service.transition(eng, action, current_user, request.form.get("comment", ""))
                label = ACTION_LABELS.get(action, action)
            db.session.commit()
            flash(_("Done: %(action)s.", action=label), "success")
        except service.EngagementError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".review", id=eng.id))


class WorkLogView(ScopedModelView):
    """Work logs, read-only here: agencies write them in the portal or through the API."""

    permission = "work_log"
    read_only = True
    column_list = ("engagement", "work_date", "staff", "hours", "activity", "location",
                   "submitted_at")
    column_export_list = ("engagement", "work_date", "staff", "hours", "activity", "location",
                          "notes", "submitted_at")
    column_filters = ("work_date", "activity", "engagement.code")
    column_default_sort = ("work_date", True)
    column_labels = LABELS
    column_formatters = {"engagement": lambda v, c, m, n: m.engagement.code}
    column_formatters_export = {"engagement": lambda v, c, m, n: m.engagement.code}


def register(admin, db) -> None:
    admin.add_view(EngagementView(Engagement, name=_l("Engagements"), category=CATEGORY,
                                  endpoint="engagement"))
    admin.add_view(WorkLogView(WorkLog, name=_l("Work logs"), category=CATEGORY,
                               endpoint="work_log"))
    admin.add_view(AgencyView(Agency, name=_l("Agencies"), category=CATEGORY,
                              endpoint="agency"))
    admin.add_view(AgencyStaffView(AgencyStaff, name=_l("Agency staff"), category=CATEGORY,
                                   endpoint="agency_staff"))
    admin.add_view(AgencyMemberView(AgencyMember, name=_l("Agency users"), category=CATEGORY,
                                    endpoint="agency_member"))
