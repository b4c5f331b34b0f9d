"""Admin pages: rounds, records (sorted by risk) with the report form, decisions, coverage,
the spending import and the monitoring dashboard."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import exists, select

from core.db_int import get_by_id
from core.extensions import db
from core.models import BudgetItem, FiscalYear, State
from core.models.workflow import STATE_LABELS
from core.permissions import can
from core.services.excel import ImportRejected, xlsx_response
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.display import org_unit_column
from core.web.admin.filters import org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.background import confirm, start
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS as WORKFLOW_ACTIONS
from plugins.monitoring import charts, excel_io, figures, service
from plugins.monitoring.coverage import coverage
from plugins.monitoring.models import (
    ACTION_LABELS,
    COMPARATOR_SIGNS,
    LIGHT_COLOURS,
    LIGHT_LABELS,
    LIKELIHOOD_LABELS,
    REASON_LABELS,
    CorrectiveDecision,
    Light,
    MonitoringRecord,
    MonitoringRound,
)
from plugins.monitoring.widgets import latest_round, summary

CATEGORY = _l("Execution monitoring")


def light_badge(value) -> Markup:
    light = Light(value or 0)
    return Markup('<span class="badge jixiao-light" style="background:{};color:#fff">{}</span>'
                  ).format(LIGHT_COLOURS[light], LIGHT_LABELS[light])


class MonitoringRoundView(ScopedModelView):
    permission = "monitoring_round"
    column_list = ("name", "fiscal_year", "period_start", "cutoff", "due", "record_count",
                   "closed_at")
    column_default_sort = ("cutoff", True)
    form_columns = ("fiscal_year", "name", "period_start", "cutoff", "due")
    column_labels = {"name": _l("Name"), "fiscal_year": _l("Fiscal year"),
                     "period_start": _l("From"), "cutoff": _l("Cut-off date"),
                     "due": _l("Report due on"), "record_count": _l("Records"),
                     "closed_at": _l("Closed at")}
    column_formatters = {"name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
        url_for(".round_page", id=m.id), m.name)}

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        for name in ("fiscal_year", "period_start", "cutoff"):  # fixed once the round is open
            del form[name]
        return form

    def check_form(self, form) -> bool:
        if not hasattr(form, "cutoff"):  # editing: name and due date only
            model = self.get_one(request.args.get("id", ""))
            if model is not None and form.due.data and form.due.data < model.cutoff:
                return add_field_error(form.due, _l(
                    "The report cannot be due before the cut-off date."))
            return True
        year, start, cutoff, due = (form.fiscal_year.data, form.period_start.data,
                                    form.cutoff.data, form.due.data)
        if not (year and start and cutoff and due):
            return False
        with db.session.no_autoflush:
            problems = service.round_problems(year, start, cutoff, due)
        ok = True
        for p in problems:
            ok = add_field_error(getattr(form, p.field), p.message)
        return ok

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.record_count = 0  # its records are created by the job of ``open_view``

    def get_save_return_url(self, model, is_created: bool = False) -> str:
        if is_created:  # saved: next, the page that says how many records opening creates
            return self.get_url(".open_view", id=model.id)
        return super().get_save_return_url(model, is_created)

    def on_model_delete(self, model):
        if db.session.scalar(select(MonitoringRecord.id).where(
                MonitoringRecord.round_id == model.id,
                (MonitoringRecord.spent.is_not(None)) | (MonitoringRecord.state != State.DRAFT))
                .limit(1)):
            raise ValueError(_("Reports were entered in this round: close it instead of "
                               "deleting it."))

    def _round(self) -> MonitoringRound:
        rnd = self.get_one(request.values.get("id", ""))
        if rnd is None:
            abort(404)
        return rnd

    @expose("/round/")
    def round_page(self):
        rnd = self._round()
        data = summary(rnd)
        limits = figures.thresholds()
        return self.render(
            "monitoring/round.html", rnd=rnd, data=data, closed=service.round_is_closed(rnd),
            expected=figures.expected_rate(rnd.period_start, rnd.cutoff),
            light_chart=charts.light_chart(data.lights),
            progress_chart=charts.progress_chart(data.progress, limits.spending_yellow,
                                                 limits.spending_red),
            manage=can(current_user, "monitoring_round.edit"))

    @expose("/open/", methods=("GET", "POST"))
    def open_view(self):
        """Open the round (or add the items approved since): a background job, after a page
        that says how many records it creates."""
        if not can(current_user, "monitoring_round.edit"):
            abort(403)
        rnd = self._round()
        back = url_for(".round_page", id=rnd.id)
        title = _("Open the monitoring round %(name)s", name=rnd.name)
        if request.method == "GET":
            count = 0 if service.round_is_closed(rnd) else len(service.items_to_open(rnd))
            return confirm(self, title, [_(
                "create %(count)s monitoring records with their indicators, one for each "
                "budget item of %(year)s with approved targets not yet in the round",
                count=count, year=rnd.fiscal_year.year)], back=back, allowed=count > 0, id=rnd.id)
        return start("monitoring.open_round", title, service.open_round_job,
                     {"round_id": rnd.id}, back=back)

    @expose("/act/", methods=("POST",))
    def act(self):
        if not can(current_user, "monitoring_round.edit"):
            abort(403)
        rnd = self._round()
        what = request.form.get("what", "")
        try:
            if what == "close":
                service.close_round(rnd)
                flash(_("The round is closed."), "success")
            elif what == "lights":
                service.refresh_lights(rnd.id)
                flash(_("The lights were recomputed."), "success")
            else:
                abort(400)
            db.session.commit()
        except service.MonitoringError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".round_page", id=rnd.id))


RECORD_STATES = WorkflowStates(MonitoringRecord, service.RECORD_WORKFLOW)


class DecisionFilter(BaseSQLAFilter):
    """Records with or without a corrective decision (the bureau's red-items queue)."""

    def __init__(self) -> None:
        super().__init__(MonitoringRecord.id, _l("Corrective decision"),
                         options=(("none", _l("None yet")), ("some", _l("Taken"))))

    def apply(self, query, value, alias=None):
        decided = exists().where(CorrectiveDecision.record_id == MonitoringRecord.id)
        return query.filter(~decided if value == "none" else decided)

    def operation(self):
        return admin_lazy_gettext("equals")


DECISION_STATES = WorkflowStates(CorrectiveDecision, service.DECISION_WORKFLOW)


class MonitoringRecordView(OwnerEditsView, ScopedModelView):
    permission = "monitoring_record"
    review_workflow = service.RECORD_WORKFLOW
    own_page = "record_page"
    column_list = ("light", "budget_item", "org_unit", "round", "budget", "spent",
                   "execution_rate", "expected_rate", "spending_deviation",
                   "indicator_deviation", "state")
    column_export_list = ("budget_item", "org_unit", "round", "light", "budget", "spent",
                          "execution_rate", "expected_rate", "spending_deviation",
                          "indicator_deviation", "reason", "measures", "measures_due", "state")
    column_default_sort = [("light", True), ("spending_deviation", True), ("id", False)]
    column_sortable_list = ("light", "budget", "spent", "execution_rate", "spending_deviation",
                            "indicator_deviation", "state")
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = ("round.name", RECORD_STATES.filter(), "light", "reason",
                      *org_filters(MonitoringRecord.org_unit_id), DecisionFilter())
    form_columns = ("spent", "over_budget_note", "reason", "reason_note", "measures",
                    "measures_due")
    form_choices = {"reason": [(r.value, label) for r, label in REASON_LABELS.items()]}
    column_labels = {
        "light": _l("Light"), "budget_item": _l("Budget item"), "org_unit": _l("Org unit"),
        "round": _l("Monitoring round"), "budget": _l("Budget"), "spent": _l("Spent to date"),
        "execution_rate": _l("Execution rate %"), "expected_rate": _l("Time elapsed %"),
        "spending_deviation": _l("Spending deviation (points)"),
        "indicator_deviation": _l("Indicator deviation %"), "state": _l("State"),
        "reason": _l("Reason for the deviation"), "reason_note": _l("Details of the reason"),
        "measures": _l("Corrective measures"), "measures_due": _l("Measures due on"),
        "over_budget_note": _l("Explanation of spending above budget"),
        "round.name": _l("Monitoring round"), "budget_item.code": _l("Item code"),
        "budget_item.name": _l("Item name"),
    }
    column_formatters = {
        "light": lambda v, c, m, n: light_badge(m.light),
        "budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".record_page", id=m.id), str(m)),
        "org_unit": org_unit_column,
        "state": RECORD_STATES.column,
    }
    column_formatters_export = {"light": lambda v, c, m, n: str(LIGHT_LABELS[Light(m.light)]),
                                "org_unit": org_unit_column, "state": RECORD_STATES.column}

    def on_model_change(self, form, model, is_created):
        service.check_open(model, current_user)
        problems = service.set_spent(model, model.spent, model.over_budget_note) \
            if model.spent is not None else []
        if problems:
            raise service.MonitoringError(problems)

    def after_model_change(self, form, model, is_created):
        service.refresh_lights(model.round_id, [model.id])
        db.session.commit()

    def _record(self) -> MonitoringRecord:
        record = self.get_one(request.values.get("id", ""))
        if record is None:
            abort(404)
        return record

    @expose("/record/")
    def record_page(self):
        record = self._record()
        actions = service.RECORD_WORKFLOW.allowed_actions(record, current_user)
        if not can(current_user, "monitoring_record.edit"):
            actions = []
        editable = self.may_change(record) and not service.round_is_closed(record.round) and \
            can(current_user, "monitoring_record.edit")
        decisions = db.session.scalars(select(CorrectiveDecision).where(
            CorrectiveDecision.record_id == record.id).order_by(CorrectiveDecision.id)).all()
        return self.render(
            "monitoring/record.html", record=record, actions=actions, editable=editable,
            state_label=RECORD_STATES.text(record), light=light_badge(record.light),
            reasons=REASON_LABELS, likelihoods=LIKELIHOOD_LABELS, signs=COMPARATOR_SIGNS,
            state_labels=STATE_LABELS,
            action_labels=WORKFLOW_ACTIONS, decision_labels=ACTION_LABELS,
            history=service.RECORD_WORKFLOW.history(record), decisions=decisions,
            decision_actions={d.id: service.DECISION_WORKFLOW.allowed_actions(d, current_user)
                              for d in decisions}
            if can(current_user, "corrective_decision.edit") else {},
            may_decide=record.light == Light.RED and can(current_user,
                                                         "corrective_decision.edit"),
            problems=service.completeness_problems(record) if editable else [])

    @expose("/save/", methods=("POST",))
    def save(self):
        if not can(current_user, "monitoring_record.edit"):
            abort(403)
        record = self._record()
        form = request.form
        data = {k: form.get(k) for k in ("spent", "over_budget_note", "reason", "reason_note",
                                          "measures", "measures_due") if k in form}
        data["indicators"] = {
            ind.id: {k: form.get(f"{k}_{ind.id}") for k in
                     ("achieved", "forecast", "likelihood", "reason")}
            for ind in record.indicators}
        action = form.get("action", "save")
        try:
            service.save_record(record, data, current_user)
            if action == "submit":
                service.transition(record, "submit", current_user)
            db.session.commit()
            flash(_("Submitted.") if action == "submit" else _("Saved."), "success")
        except service.MonitoringError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".record_page", id=record.id))

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        if not can(current_user, "monitoring_record.edit"):
            abort(403)
        record = self._record()
        action = request.form.get("action", "")
        try:
            service.transition(record, action, current_user, request.form.get("comment", ""))
            db.session.commit()
            flash(_("Done: %(action)s.", action=WORKFLOW_ACTIONS.get(action, action)), "success")
        except service.MonitoringError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".record_page", id=record.id))

    @expose("/decide/", methods=("POST",))
    def decide(self):
        if not can(current_user, "corrective_decision.edit"):
            abort(403)
        record = self._record()
        form = request.form
        try:
            if form.get("decision_id"):
                decision = get_by_id(CorrectiveDecision, form["decision_id"])
                if decision is None or decision.record_id != record.id:
                    abort(404)
                service.decide(decision, form.get("action", ""), current_user,
                               form.get("comment", ""))
            else:
                decision = service.new_decision(record, form.get("decision", ""),
                                                form.get("reason", ""), current_user,
                                                form.get("new_budget"), form.get("due"))
                service.decide(decision, "submit", current_user)
            db.session.commit()
            flash(_("The decision was recorded."), "success")
        except service.MonitoringError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".record_page", id=record.id))

    @expose("/history/")
    def item_history(self):
        item = get_by_id(BudgetItem, request.args.get("item_id"))
        if item is None:
            abort(404)
        entries = service.item_history(item.id)
        events = {d.id: service.DECISION_WORKFLOW.history(d) for _r, ds in entries for d in ds}
        return self.render("monitoring/history.html", item=item, entries=entries,
                           events=events, light_badge=light_badge,
                           decision_labels=ACTION_LABELS)

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        if not can(current_user, "monitoring_record.edit"):
            abort(403)
        rounds = db.session.scalars(select(MonitoringRound).where(
            MonitoringRound.closed_at.is_(None)).order_by(MonitoringRound.cutoff.desc())).all()
        errors = []
        if request.method == "POST":
            rnd = get_by_id(MonitoringRound, request.form.get("round"))
            upload = request.files.get("file")
            if rnd is None:
                flash(_("Choose a monitoring round."), "error")
            elif upload is None or not upload.filename:
                flash(_("Choose a file."), "error")
            else:
                try:
                    count = excel_io.import_spending(upload, rnd)
                    flash(_("Imported the spending of %(count)s items.", count=count),
                          "success")
                    return redirect(url_for(".index_view"))
                except ImportRejected as exc:
                    db.session.rollback()
                    errors = exc.errors
                except service.MonitoringError as exc:
                    flash_problems(exc.problems)
        return self.render("monitoring/import.html", rounds=rounds, errors=errors,
                           headers=(excel_io.CODE, excel_io.SPENT, excel_io.NOTE))

    @expose("/template/")
    def template(self):
        rnd = get_by_id(MonitoringRound, request.args.get("round"))
        if rnd is None:
            abort(404)
        return xlsx_response(excel_io.template_sheet(rnd), f"预算执行-{rnd.cutoff}.xlsx")


class CorrectiveDecisionView(OwnerEditsView, ScopedModelView):
    permission = "corrective_decision"
    review_workflow = service.DECISION_WORKFLOW
    column_list = ("budget_item", "action", "reason", "new_budget", "due", "state",
                   "created_at")
    column_default_sort = ("id", True)
    column_filters = ("action", DECISION_STATES.filter(),
                      *org_filters(CorrectiveDecision.org_unit_id))
    form_columns = ("reason", "new_budget", "due")
    column_labels = {"budget_item": _l("Budget item"), "action": _l("Corrective decision"),
                     "reason": _l("Grounds"), "new_budget": _l("New budget"),
                     "due": _l("Due on"), "state": _l("State"), "created_at": _l("Created")}
    column_formatters = {"budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
        url_for("monitoringrecord.record_page", id=m.record_id), str(m.budget_item)),
        "state": DECISION_STATES.column}

    def on_model_change(self, form, model, is_created):
        if State(model.state or State.DRAFT) not in service.EDITABLE:
            raise ValueError(_("The decision is submitted or approved and cannot be changed."))

    def on_model_delete(self, model):
        self.on_model_change(None, model, False)


class CoveragePage(ScopedPage):
    permission = "monitoring_report"

    @expose("/")
    def index(self):
        raw = request.args.get("year", "")
        year = int(raw) if raw.isdigit() else _default_year()
        lines, total, never = coverage(year)
        years = db.session.scalars(select(FiscalYear.year).order_by(
            FiscalYear.year.desc())).all()
        return self.render("monitoring/coverage.html", lines=lines, total=total, never=never,
                           year=year, years=years)


def _default_year() -> int:
    from core.models import FiscalYear

    year = FiscalYear.current()
    return year.year if year else date.today().year


class DashboardPage(ScopedPage):
    permission = "monitoring_record"

    @expose("/")
    def index(self):
        rnd = latest_round(FiscalYear.current())
        if rnd is None:
            return self.render("monitoring/dashboard.html", rnd=None)
        data = summary(rnd)
        limits = figures.thresholds()
        return self.render(
            "monitoring/dashboard.html", rnd=rnd, data=data,
            light_chart=charts.light_chart(data.lights),
            progress_chart=charts.progress_chart(data.progress, limits.spending_yellow,
                                                 limits.spending_red))


def register(admin, db) -> None:
    admin.add_view(DashboardPage(name=_l("Monitoring dashboard"), category=CATEGORY,
                                 endpoint="monitoringdashboard", url="monitoring-dashboard"))
    admin.add_view(MonitoringRoundView(MonitoringRound, db, name=_l("Monitoring rounds"),
                                       category=CATEGORY, endpoint="monitoringround"))
    admin.add_view(MonitoringRecordView(MonitoringRecord, db, name=_l("Monitoring records"),
                                        category=CATEGORY, endpoint="monitoringrecord"))
    admin.add_view(CorrectiveDecisionView(CorrectiveDecision, db,
                                          name=_l("Corrective decisions"), category=CATEGORY,
                                          endpoint="correctivedecision"))
    admin.add_view(CoveragePage(name=_l("Monitoring coverage"), category=CATEGORY,
                                endpoint="monitoringcoverage", url="monitoring-coverage"))
