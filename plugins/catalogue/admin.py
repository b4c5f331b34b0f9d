"""Admin pages: catalogues (propose, confirm, approve, plan), entries, the coverage report."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from core.extensions import db
from core.models import OrgUnit, State
from core.permissions import can
from core.services import review
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.display import org_unit_name
from core.web.admin.filters import department_filter, org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.forms import add_field_error
from core.workflow import ACTION_LABELS, WorkflowError
from plugins.catalogue import planner, service
from plugins.catalogue.models import REASON_LABELS, Catalogue, CatalogueEntry

CATEGORY = _l("Key evaluation catalogue")
RISK_LABELS = {planner.OVERDUE: _l("Overdue: its planned year has passed"),
               planner.UNPLANNED: _l("No year planned"),
               planner.CYCLE_OVER: _l("The cycle is over")}


def this_year() -> int:
    return date.today().year


STATES = WorkflowStates(Catalogue, service.WORKFLOW)


class CatalogueView(OwnerEditsView, ScopedModelView):
    permission = "catalogue"
    review_workflow = service.WORKFLOW
    own_page = "catalogue_page"
    column_list = ("org_unit", "cycle_start", "cycle_years", "state", "entries")
    column_details_list = ("org_unit", "cycle_start", "cycle_years", "state", "rules_code",
                           "entries", "updated_at")
    column_export_list = ("org_unit", "cycle_start", "cycle_years", "state")
    column_filters = (STATES.filter(), "cycle_start", department_filter(Catalogue.org_unit_id))
    column_sortable_list = ("cycle_start", "state")
    column_default_sort = ("id", True)
    form_columns = ("org_unit", "cycle_start")
    column_labels = {"org_unit": _l("Department"), "cycle_start": _l("First year of the cycle"),
                     "cycle_years": _l("Cycle (years)"), "state": _l("State"),
                     "rules_code": _l("Rule version"), "entries": _l("Items"),
                     "updated_at": _l("Updated")}
    column_formatters = {
        "org_unit": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".catalogue_page", id=m.id), org_unit_name(m.org_unit_id) or m.org_unit_id),
        "state": STATES.column,
        "entries": lambda v, c, m, n: len(m.entries),
    }
    list_options = (selectinload(Catalogue.entries),)

    def check_form(self, form) -> bool:
        org = form.org_unit.data
        if org is not None and org.kind not in service.OWNER_KINDS:
            return add_field_error(form.org_unit, _l(
                "Choose a budget department or a town department."))
        year = form.cycle_start.data
        if year is not None and not 2000 <= year <= 2100:
            return add_field_error(form.cycle_start, _l("Not a valid year."))
        return True

    def on_model_change(self, form, model, is_created):
        if not is_created:
            raise ValueError(_("A catalogue's department and cycle cannot be changed; "
                               "create a new catalogue instead."))
        rules = service.rules_for_year(model.cycle_start)
        model.cycle_years, model.rules_code = rules.cycle_years, rules.code
        model.state, model.review_level = State.DRAFT, 0

    def after_model_change(self, form, model, is_created):
        if is_created:  # the rules propose its items at once
            added = service.propose(model)
            db.session.commit()
            flash(_("%(n)s items were proposed by the rules.", n=added), "success")

    def on_model_delete(self, model):
        if not service.is_editable(model):
            raise ValueError(_("The catalogue is under review or approved and cannot be "
                               "changed."))

    def _catalogue(self) -> Catalogue:
        catalogue = self.get_one(request.values.get("id", ""))
        if catalogue is None:
            abort(404)
        return catalogue

    @expose("/catalogue/")
    def catalogue_page(self):
        catalogue = self._catalogue()
        actions = service.WORKFLOW.allowed_actions(catalogue, current_user)
        if not can(current_user, "catalogue.edit"):
            actions = [a for a in actions if a != "submit"]
        return self.render(
            "catalogue/catalogue.html", catalogue=catalogue, actions=actions,
            action_labels=ACTION_LABELS, state_label=STATES.text(catalogue),
            editable=self.may_change(catalogue) and can(current_user, "catalogue.edit"),
            may_plan=can(current_user, "catalogue.edit"), reasons=REASON_LABELS,
            covered_year=planner.covered_year, history=service.WORKFLOW.history(catalogue))

    def _post(self, work):
        """Run ``work(catalogue)`` (it returns the message to show) and commit, or undo."""
        catalogue = self._catalogue()
        try:
            message = work(catalogue)
            db.session.commit()
            flash(message, "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".catalogue_page", id=catalogue.id))

    @expose("/propose/", methods=("POST",))
    def propose(self):
        if not can(current_user, "catalogue.edit"):
            abort(403)

        def work(catalogue):
            if service.is_editable(catalogue):  # else propose says why
                review.check_edit(service.WORKFLOW, catalogue, current_user)
            return _("%(n)s items were proposed by the rules.", n=service.propose(catalogue))

        return self._post(work)

    @expose("/plan/", methods=("POST",))
    def plan(self):
        if not can(current_user, "catalogue.edit"):
            abort(403)

        def work(catalogue):
            service.refresh_coverage(catalogue)
            return _("%(n)s items got a proposed evaluation year.",
                     n=planner.propose_years(catalogue, this_year()))

        return self._post(work)

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        action = request.form.get("action", "")
        if action == "submit" and not can(current_user, "catalogue.edit"):
            abort(403)

        def work(catalogue):
            if action == "submit" and not catalogue.entries:
                raise WorkflowError(_l("The catalogue has no items."))
            service.WORKFLOW.transition(catalogue, action, current_user,
                                        request.form.get("comment", ""))
            return _("Done: %(action)s.", action=ACTION_LABELS.get(action, action))

        return self._post(work)


def _check_entries_change(catalogue) -> None:
    """Entries come and go only in the department's own draft or returned catalogue."""
    if not service.is_editable(catalogue):
        raise ValueError(_("The catalogue is under review or approved and cannot be "
                           "changed."))
    review.check_edit(service.WORKFLOW, catalogue, current_user)


class CatalogueEntryView(ScopedModelView):
    permission = "catalogue_entry"
    column_list = ("budget_item", "catalogue", "reason", "amount", "planned_year",
                   "plan_adjusted", "covered")
    column_details_list = ("budget_item", "catalogue", "reason", "note", "amount",
                           "planned_year", "plan_adjusted", "covered", "updated_at")
    column_export_list = ("budget_item", "catalogue", "reason", "amount", "planned_year",
                          "covered")
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = ("reason", "planned_year", "catalogue.cycle_start",
                      *org_filters(CatalogueEntry.org_unit_id))
    column_sortable_list = ("amount", "planned_year", "reason")
    column_default_sort = ("id", True)
    form_columns = ("catalogue", "budget_item", "reason", "note", "planned_year")
    form_ajax_refs = {"budget_item": {"fields": ("code", "name"), "page_size": 20}}
    column_labels = {"budget_item": _l("Budget item"), "catalogue": _l("Catalogue"),
                     "reason": _l("Reason for listing"), "note": _l("Note"), "amount": _l("Amount (yuan)"),
                     "planned_year": _l("Planned evaluation year"),
                     "plan_adjusted": _l("Year chosen by the department"),
                     "covered": _l("Evaluated in"), "updated_at": _l("Updated"),
                     "budget_item.code": _l("Item code"), "budget_item.name": _l("Item name"),
                     "catalogue.cycle_start": _l("First year of the cycle")}
    column_formatters = {"covered": lambda v, c, m, n: planner.covered_year(m) or ""}
    #: Flask-Admin joins the item and the catalogue; the catalogue's name is its department's
    list_options = (selectinload(CatalogueEntry.coverage),
                    joinedload(CatalogueEntry.catalogue).selectinload(Catalogue.org_unit))

    def check_form(self, form) -> bool:
        catalogue, item = form.catalogue.data, form.budget_item.data
        ok = True
        year = form.planned_year.data
        if catalogue is not None and year is not None and \
                not catalogue.cycle_start <= year <= catalogue.cycle_end:
            ok = add_field_error(form.planned_year, _l(
                "Choose a year of the cycle %(start)s–%(end)s.", start=catalogue.cycle_start,
                end=catalogue.cycle_end))
        if catalogue is not None and item is not None:
            if item.org_unit_id not in service.subtree_ids(catalogue.org_unit):
                ok = add_field_error(form.budget_item, _l(
                    "The item belongs to another department."))
            elif item.fiscal_year.year != catalogue.cycle_start:
                ok = add_field_error(form.budget_item, _l(
                    "Choose an item of the budget year %(year)s.", year=catalogue.cycle_start))
        return ok

    def on_model_change(self, form, model, is_created):
        from sqlalchemy import inspect

        state = inspect(model)
        moved = is_created or any(state.attrs[k].history.has_changes()
                                  for k in ("catalogue", "budget_item", "reason"))
        if moved:
            _check_entries_change(model.catalogue)
        if state.attrs["planned_year"].history.has_changes():
            model.plan_adjusted = model.planned_year is not None
        model.org_unit_id = model.budget_item.org_unit_id
        model.amount = model.budget_item.amount

    def on_model_delete(self, model):
        _check_entries_change(model.catalogue)


class CoverageReportPage(ScopedPage):
    permission = "catalogue_report"

    @expose("/")
    def index(self):
        raw = request.args.get("year", "")
        if raw and not raw.isdigit():
            abort(400)
        query = select(Catalogue).join(OrgUnit, OrgUnit.id == Catalogue.org_unit_id) \
            .options(planner.WITH_ENTRIES, contains_eager(Catalogue.org_unit)) \
            .order_by(Catalogue.cycle_start.desc(), OrgUnit.code)
        if raw:
            query = query.where(Catalogue.cycle_start == int(raw))
        reports = [planner.report(c, this_year()) for c in db.session.scalars(query)]
        return self.render("catalogue/report_index.html", reports=reports, year=raw)

    @expose("/catalogue/<int:catalogue_id>/")
    def catalogue(self, catalogue_id: int):
        catalogue = db.session.scalar(select(Catalogue).where(Catalogue.id == catalogue_id))
        if catalogue is None:
            abort(404)
        return self.render("catalogue/report.html", report=planner.report(catalogue, this_year()),
                           risks=RISK_LABELS, reasons=REASON_LABELS)


def register(admin, db) -> None:
    admin.add_view(CatalogueView(Catalogue, db, name=_l("Catalogues"), category=CATEGORY,
                                 endpoint="catalogue"))
    admin.add_view(CatalogueEntryView(CatalogueEntry, db, name=_l("Catalogue items"),
                                      category=CATEGORY, endpoint="catalogueentry"))
    admin.add_view(CoverageReportPage(name=_l("Coverage report"), category=CATEGORY,
                                      endpoint="cataloguereport", url="catalogue-report"))
