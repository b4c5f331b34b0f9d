"""Admin pages (menu 服务费用测算): fee schedules, the quote form and sheet, engagement
quotes with their approval, what-if and reconciliation."""

from __future__ import annotations

import json
from datetime import date

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.menu import MenuLink
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import TextAreaField

from core.extensions import db
from core.permissions import can
from core.services.excel import ImportRejected, xlsx_response
from core.web.admin.base import ScopedModelView
from core.web.admin.filters import department_filter
from core.web.admin.states import WorkflowStates
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS, WorkflowError
from plugins.agency_fees import excel_io, service
from plugins.agency_fees.calc import InputError, parse_inputs
from plugins.agency_fees.models import (
    SCHEDULE_STATUS_LABELS,
    FeeQuote,
    FeeSchedule,
    ScheduleStatus,
)
from plugins.agency_fees.schedule import (
    DEFAULTS,
    OBJECT_KIND_LABELS,
    STAGE_LABELS,
    field_label,
    flatten,
    parse_rules,
    to_json,
)

CATEGORY = _l("Service fees")  # the stage
#: the menu: under the agencies\' category (one menu entry for the third parties)
MENU = _l("Third-party agencies")
LABELS = {
    "code": _l("Code"), "revision": _l("Revision"), "name": _l("Name"), "status": _l("Status"),
    "valid_from": _l("Valid from"), "valid_to": _l("Valid to"), "note": _l("Note"),
    "rules_text": _l("Rules (JSON)"), "engagement_code": _l("Engagement"),
    "agency_name": _l("Agency"), "year": _l("Year"), "schedule_label": _l("Schedule version"),
    "total": _l("Quote (yuan)"), "contract_amount": _l("Contract amount (yuan)"),
    "deviation_pct": _l("Deviation (%)"), "scale_fee": _l("Sliding scale (yuan)"),
    "scale_deviation_pct": _l("Deviation from scale (%)"), "state": _l("State"),
    "reason": _l("Reason"), "org_unit": _l("Commissioning party"),
    "engagement_title": _l("Title"),
}


class FeeScheduleView(ScopedModelView):
    """Fee schedule versions: drafts are edited here; an active one never is."""

    permission = "fee_schedule"
    column_list = ("code", "revision", "name", "status", "valid_from", "valid_to")
    column_searchable_list = ("code", "name")
    column_filters = ("status", "code")
    column_default_sort = [("code", False), ("revision", True)]
    form_columns = ("code", "name", "valid_from", "valid_to", "note", "rules_text")
    form_extra_fields = {"rules_text": TextAreaField(_l("Rules (JSON)"),
                                                     render_kw={"rows": 24})}
    column_labels = LABELS
    column_formatters = {
        "code": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".schedule_page", id=m.id), m.code),
    }
    column_formatters_export = {"code": lambda v, c, m, n: m.code}

    def on_form_prefill(self, form, id):
        super().on_form_prefill(form, id)
        form.rules_text.data = json.dumps(self.get_one(id).rules, ensure_ascii=False, indent=2)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if not form.rules_text.data:
            form.rules_text.data = json.dumps(DEFAULTS, ensure_ascii=False, indent=2)
        return form

    def check_form(self, form) -> bool:
        ok = True
        if form.valid_from.data and form.valid_to.data and \
                form.valid_to.data < form.valid_from.data:
            ok = add_field_error(form.valid_to, _l("Valid to: before the start."))
        try:
            rules = parse_rules(json.loads(form.rules_text.data or ""), service.known_method)
            form.rules_text.parsed = to_json(rules)
        except ValueError as exc:
            problems = getattr(exc, "errors", None) or {"rules": str(exc)}
            for message in problems.values():
                ok = add_field_error(form.rules_text, message)
        return ok

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.revision = (db.session.scalar(
                select(func.max(FeeSchedule.revision)).where(FeeSchedule.code == model.code))
                or 0) + 1
            model.status = ScheduleStatus.DRAFT
        else:
            problem = service.editable_problem(model)
            if problem:
                raise ValueError(problem)
        model.rules = form.rules_text.parsed

    def update_model(self, form, model) -> bool:
        problem = service.editable_problem(model)
        if problem:  # before the form is copied onto the row
            flash(problem, "error")
            return False
        return super().update_model(form, model)

    def on_model_delete(self, model):
        problem = service.editable_problem(model)
        if problem:
            raise ValueError(problem)

    def _schedule(self, key: str = "id") -> FeeSchedule:
        schedule = self.get_one(request.values.get(key, ""))
        if schedule is None:
            abort(404)
        return schedule

    @expose("/schedule/")
    def schedule_page(self):
        schedule = self._schedule()
        others = db.session.scalars(select(FeeSchedule).where(FeeSchedule.id != schedule.id)
                                    .order_by(FeeSchedule.code, FeeSchedule.revision)).all()
        return self.render("agency_fees/schedule.html", schedule=schedule,
                           rows=[(k, field_label(k), v) for k, v in flatten(schedule.rules)],
                           others=others, status_label=SCHEDULE_STATUS_LABELS[schedule.status],
                           can_activate=schedule.status == ScheduleStatus.DRAFT
                           and can(current_user, "fee_schedule.activate"))

    @expose("/activate/", methods=("POST",))
    def activate(self):
        if not can(current_user, "fee_schedule.activate"):
            abort(403)
        schedule = self._schedule()
        try:
            service.activate(schedule, current_user)
            db.session.commit()
            flash(_("Schedule %(label)s is active from %(start)s.", label=schedule.label,
                    start=schedule.valid_from), "success")
        except service.FeeError as exc:
            flash_problems(exc.errors.values())
        return redirect(url_for(".schedule_page", id=schedule.id))

    @expose("/compare/")
    def compare(self):
        a, b = self._schedule("a"), self._schedule("b")
        left, right = dict(flatten(a.rules)), dict(flatten(b.rules))
        keys = list(left) + [k for k in right if k not in left]
        rows = [(k, field_label(k), left.get(k, ""), right.get(k, "")) for k in keys]
        return self.render("agency_fees/compare.html", a=a, b=b, rows=rows)

    @expose("/download/")
    def download(self):
        schedule = self._schedule()
        if request.args.get("format") == "json":
            response = jsonify(service.export_json(schedule))
            response.headers["Content-Disposition"] = \
                f'attachment; filename="{schedule.code}-r{schedule.revision}.json"'
            return response
        return xlsx_response([excel_io.export_sheet(schedule)],
                             f"{schedule.code}-r{schedule.revision}.xlsx")

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        if not can(current_user, "fee_schedule.create"):
            abort(403)
        errors: list = []
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file."), "error")
            else:
                try:
                    if upload.filename.lower().endswith(".json"):
                        schedule = service.create_draft(json.loads(upload.read() or b"null"))
                    else:
                        schedule = excel_io.import_schedule(upload)
                    db.session.commit()
                    flash(_("Imported as draft %(label)s.", label=schedule.label), "success")
                    return redirect(url_for(".schedule_page", id=schedule.id))
                except ImportRejected as exc:
                    db.session.rollback()
                    errors = exc.errors
                except service.FeeError as exc:
                    db.session.rollback()
                    errors = [f"{k}: {v}" for k, v in exc.errors.items()]
                except ValueError as exc:
                    db.session.rollback()
                    errors = [_("Not valid JSON: %(problem)s", problem=exc)]
                except RecursionError:  # "[[[[…" deeper than the parser goes
                    db.session.rollback()
                    errors = [_("Not valid JSON: %(problem)s", problem=_("nested too deeply"))]
        return self.render("agency_fees/import.html", errors=errors)

    @expose("/what-if/", methods=("GET", "POST"))
    def what_if(self):
        """Old vs new fees of a year's stored quotes under a draft's rules; saves nothing."""
        schedule = self._schedule()
        years = service.quote_years()
        last = date.today().year - 1
        year = request.values.get("year", type=int) or \
            (last if last in years or not years else years[0])
        text = request.form.get("rules_text") or json.dumps(schedule.rules, ensure_ascii=False,
                                                            indent=2)
        result, errors = None, {}
        try:
            result = service.what_if(service.rules_from_text(text), year)
        except service.FeeError as exc:
            errors = exc.errors
        db.session.rollback()  # a what-if never writes
        return self.render("agency_fees/what_if.html", schedule=schedule, years=years,
                           year=year, text=text, result=result, errors=errors)


#: a quote within tolerance needs no approval: its workflow state says nothing
STATES = WorkflowStates(FeeQuote, service.QUOTE_WORKFLOW)


def _quote_state(view, context, model, name) -> str:
    return STATES.text(model) if model.needs_approval else service.quote_status(model)


class FeeQuoteView(ScopedModelView):
    """Stored engagement quotes (a record: made on the quote page, approved on the sheet)."""

    permission = "fee_quote"
    own_page = "sheet"
    read_only = True
    column_list = ("engagement_code", "agency_name", "year", "schedule_label", "total",
                   "contract_amount", "deviation_pct", "scale_deviation_pct", "state")
    column_details_list = ("engagement_code", "engagement_title", "org_unit", "agency_name",
                           "year", "schedule_label", "total", "scale_fee", "contract_amount",
                           "deviation_pct", "scale_deviation_pct", "state", "reason")
    column_searchable_list = ("engagement_code", "agency_name")
    column_filters = ("year", "needs_approval", STATES.filter(),
                      department_filter(FeeQuote.org_unit_id))
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {
        "engagement_code": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".sheet", id=m.id), m.engagement_code),
        "state": _quote_state,
    }
    column_formatters_export = {"engagement_code": lambda v, c, m, n: m.engagement_code,
                                "state": _quote_state}

    def _quote(self) -> FeeQuote:
        row = self.get_one(request.values.get("id", ""))
        if row is None:
            abort(404)
        return row

    @expose("/sheet/")
    def sheet(self):
        """The printable quote sheet of a stored quote, with its approval."""
        row = self._quote()
        actions = []
        if row.needs_approval and can(current_user, "fee_quote.create"):
            actions = service.QUOTE_WORKFLOW.allowed_actions(row, current_user)
        return self.render("agency_fees/sheet.html", stored=row, lines=service.stored_lines(row),
                           inputs=row.inputs, total=row.total, schedule_label=row.schedule_label,
                           actions=actions, action_labels=ACTION_LABELS,
                           status=service.quote_status(row),
                           history=service.QUOTE_WORKFLOW.history(row), labels=_input_labels())

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        if not can(current_user, "fee_quote.create"):
            abort(403)
        row = self._quote()
        action = request.form.get("action", "")
        comment = request.form.get("comment", "")
        try:
            if action == "submit":
                service.submit_quote(row, current_user, comment)
            else:
                service.QUOTE_WORKFLOW.transition(row, action, current_user, comment)
            db.session.commit()
            flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".sheet", id=row.id))

    @expose("/calculate/", methods=("GET", "POST"))
    def calculate(self):
        """The quote form: compute and print a quote sheet, or store it for an engagement."""
        if not can(current_user, "fee.quote"):
            abort(403)
        in_force = [s for s in db.session.scalars(select(FeeSchedule).where(
            FeeSchedule.status != ScheduleStatus.DRAFT).order_by(FeeSchedule.code,
                                                                 FeeSchedule.revision.desc()))]
        current = service.schedule_for(None, date.today())
        chosen = request.values.get("schedule_id", type=int)
        schedule = next((s for s in in_force if s.id == chosen), current)
        engagements = service.commissioned(closed=False) \
            if can(current_user, "fee_quote.create") else []
        errors: dict[str, str] = {}
        quote = inputs = None
        if schedule is not None and request.method == "POST":
            data = _form_inputs(request.form)
            rules = service.rules_of(schedule)
            eng_id = request.form.get("engagement_id", type=int)
            try:
                if request.form.get("save") and eng_id:
                    eng = service.engagement(eng_id)
                    if eng is None:
                        abort(404)
                    row = service.quote_engagement(eng, schedule, data,
                                                   request.form.get("reason", ""),
                                                   user=current_user)
                    db.session.commit()
                    flash(_("The quote of %(code)s was saved.", code=eng.code), "success")
                    return redirect(url_for(".sheet", id=row.id))
                inputs = parse_inputs(data, rules)
                quote = service.compute(rules, inputs)
            except (InputError, service.FeeError) as exc:
                db.session.rollback()
                errors = exc.errors
        return self.render("agency_fees/quote_form.html", schedules=in_force, schedule=schedule,
                           engagements=engagements, form=request.form, errors=errors,
                           quote=quote, inputs=inputs.to_json() if inputs else None,
                           kinds=OBJECT_KIND_LABELS, stages=STAGE_LABELS,
                           labels=_input_labels(), rules=service.rules_of(schedule)
                           if schedule else None)

    @expose("/reconciliation/")
    def reconciliation(self):
        year = request.args.get("year", type=int)
        return self.render("agency_fees/reconciliation.html", year=year,
                           rows=service.reconciliation(year), years=service.quote_years())


EXPERT_ROWS = 4
COST_ROWS = 3


def _form_inputs(form) -> dict:
    """Quote inputs from the quote form's fields (checked by ``parse_inputs``)."""
    staff = {k.removeprefix("staff_"): v for k, v in form.items()
             if k.startswith("staff_") and v.strip()}
    experts = [{"title": form.get(f"expert_title_{n}", ""),
                "days": form.get(f"expert_days_{n}", "0") or "0",
                "count": form.get(f"expert_count_{n}", "1") or "1",
                "remote_reviews": form.get(f"expert_remote_{n}", "0") or "0"}
               for n in range(EXPERT_ROWS) if form.get(f"expert_title_{n}")]
    costs = [{"label": form.get(f"cost_label_{n}", ""), "amount": form.get(f"cost_amount_{n}")}
             for n in range(COST_ROWS)
             if form.get(f"cost_label_{n}") or form.get(f"cost_amount_{n}")]
    return {"object_kind": form.get("object_kind"), "stage": form.get("stage"),
            # empty: zero on a bare quote, the engagement's budget items on a stored one
            "evaluated_amount": form.get("evaluated_amount", "").strip(), "staff_days": staff,
            "experts": experts, "survey_samples": form.get("survey_samples") or "0",
            "direct_costs": costs}


def _input_labels() -> dict:
    return {"object_kind": OBJECT_KIND_LABELS, "stage": STAGE_LABELS}


class PermissionLink(MenuLink):
    """A menu entry shown only to users holding ``permission``."""

    def __init__(self, *args, permission: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and can(current_user, self.permission)


def register(admin, db) -> None:
    admin.add_view(FeeQuoteView(FeeQuote, name=_l("Engagement quotes"), category=MENU,
                                endpoint="fee_quote"))
    admin.add_view(FeeScheduleView(FeeSchedule, name=_l("Fee schedules"), category=MENU,
                                   endpoint="fee_schedule"))
    admin.add_link(PermissionLink(name=_l("Fee calculation"), endpoint="fee_quote.calculate",
                                  category=MENU, permission="fee.quote"))
    admin.add_link(PermissionLink(name=_l("Reconciliation"), endpoint="fee_quote.reconciliation",
                                  category=MENU, permission="fee_quote.view"))
    admin.add_link(PermissionLink(name=_l("Import a fee schedule"),
                                  endpoint="fee_schedule.import_view", category=MENU,
                                  permission="fee_schedule.create"))
