"""Admin pages: target sheets (with review, diff, Excel), the indicator library, coverage."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.db_int import get_by_id
from core.extensions import db
from core.models import BudgetItem, FiscalYear, State
from core.permissions import can
from core.services.excel import ImportRejected, xlsx_response
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.filters import org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS
from plugins.targets import excel_io, service
from plugins.targets.coverage import coverage
from plugins.targets.models import (
    COMPARATOR_LABELS,
    METHOD_LABELS,
    IndicatorTemplate,
    TargetIndicator,
    TargetSheet,
)
from plugins.targets.rules import rules_for_year
from plugins.targets.validation import FIELD_LABELS, clean_indicator, duplicate_keys, weight_problem

CATEGORY = _l("Performance targets")
INDICATOR_COLUMNS = ("level1", "level2", "name", "comparator", "target_value", "unit", "weight",
                     "scoring_method", "data_source", "period_value")


def _year_arg() -> int:
    from core.models import FiscalYear

    raw = request.values.get("year", "")
    if raw.isdigit():
        return int(raw)
    year = FiscalYear.current()
    return year.year if year else date.today().year


def _years() -> list[int]:
    return list(db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())))


STATES = WorkflowStates(TargetSheet, service.WORKFLOW)


class TargetSheetView(OwnerEditsView, ScopedModelView):
    permission = "target_sheet"
    review_workflow = service.WORKFLOW
    own_page = "sheet_page"
    column_list = ("budget_item", "fiscal_year", "state", "revision", "submitted_at", "late")
    column_details_list = ("budget_item", "fiscal_year", "goal", "period_goal", "state",
                           "revision", "submitted_at", "rules_code", "indicators", "updated_at")
    column_export_list = ("budget_item", "fiscal_year", "state", "revision", "submitted_at")
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = (STATES.filter(), "fiscal_year.year", *org_filters(TargetSheet.org_unit_id))
    column_sortable_list = ("state", "revision", "submitted_at")
    column_default_sort = ("id", True)
    form_columns = ("budget_item", "goal", "period_goal", "indicators")
    form_ajax_refs = {"budget_item": {"fields": ("code", "name"), "page_size": 20}}
    list_template = "targets/sheet_list.html"
    column_labels = {
        "budget_item": _l("Budget item"), "fiscal_year": _l("Fiscal year"),
        "goal": _l("Overall goal"), "period_goal": _l("Whole-period goal"),
        "state": _l("State"), "revision": _l("Revision"), "submitted_at": _l("Submitted at"),
        "late": _l("Late"), "rules_code": _l("Rule version"), "indicators": _l("Indicators"),
        "updated_at": _l("Updated"), "fiscal_year.year": _l("Fiscal year"),
        "budget_item.code": _l("Item code"), "budget_item.name": _l("Item name"),
    }
    column_formatters = {
        "state": STATES.column,
        "late": lambda v, c, m, n: _("Yes") if service.is_late(m) else "",
        "indicators": lambda v, c, m, n: Markup("<br>").join(
            f"{i.level1}/{i.level2}/{i.name} {COMPARATOR_LABELS[i.comparator]} "
            f"{i.target_value}{i.unit or ''} ({i.weight})" for i in m.indicators),
        "budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".sheet_page", id=m.id), str(m)),
    }

    def __init__(self, *args, **kwargs):
        self.inline_models = ((TargetIndicator, {
            "form_columns": ("id", *INDICATOR_COLUMNS),
            "form_label": _l("Indicators"),
            "form_choices": {"scoring_method": list(METHOD_LABELS.items())},
            "column_labels": dict(FIELD_LABELS),
        }),)
        super().__init__(*args, **kwargs)

    # --- forms -----------------------------------------------------------------------
    def check_form(self, form) -> bool:
        item = form.budget_item.data if hasattr(form, "budget_item") else None
        if item is None:
            return True
        rules = rules_for_year(item.fiscal_year.year)
        ok = True
        cleaned_list, entries = [], []
        for entry in form.indicators.entries:
            if form.indicators.should_delete(entry):
                continue
            sub = entry.form
            raw = {k: getattr(sub, k).data for k in INDICATOR_COLUMNS}
            cleaned, problems = clean_indicator(raw, rules)
            for problem in problems:
                ok = add_field_error(getattr(sub, problem.field), problem.message)
            cleaned_list.append(cleaned)
            entries.append(sub)
        for pos in duplicate_keys(cleaned_list):
            ok = add_field_error(entries[pos].name, _l("This indicator appears twice."))
        problem = weight_problem(cleaned_list, rules) if cleaned_list else None
        if problem is not None:
            ok = add_field_error(entries[-1].weight, problem.message)
        return ok

    def on_model_change(self, form, model, is_created):
        item = model.budget_item
        if not is_created and State(model.state or State.DRAFT) not in service.EDITABLE:
            raise ValueError(_("The targets of %(item)s are under review or approved and "
                               "cannot be changed.", item=item.code))
        model.fiscal_year_id = item.fiscal_year_id
        model.org_unit_id = item.org_unit_id
        model.rules_code = model.rules_code or rules_for_year(item.fiscal_year.year).code
        if is_created:
            model.state, model.review_level, model.revision = State.DRAFT, 0, 0
        for position, ind in enumerate(model.indicators, start=1):
            ind.org_unit_id = item.org_unit_id
            ind.position = position
            cleaned, _problems = clean_indicator(
                {k: getattr(ind, k) for k in INDICATOR_COLUMNS}, rules_for_year(
                    item.fiscal_year.year))
            for key in ("target_value", "weight", "scoring_method"):
                setattr(ind, key, cleaned[key])

    def on_model_delete(self, model):
        if State(model.state or State.DRAFT) not in service.EDITABLE:
            raise ValueError(_("The targets of %(item)s are under review or approved and "
                               "cannot be changed.", item=model.budget_item.code))

    # --- the sheet page: tree, review, revisions ---------------------------------------
    def _sheet(self) -> TargetSheet:
        sheet = self.get_one(request.values.get("id", ""))
        if sheet is None:
            abort(404)
        return sheet

    @expose("/sheet/")
    def sheet_page(self):
        sheet = self._sheet()
        actions = service.WORKFLOW.allowed_actions(sheet, current_user)
        if "submit" in actions and not can(current_user, "target_sheet.edit"):
            actions.remove("submit")
        revs = service.revisions(sheet)
        library = []
        if self.may_change(sheet) and can(current_user, "target_sheet.edit"):
            library = db.session.scalars(select(IndicatorTemplate).order_by(
                IndicatorTemplate.usage_count.desc(), IndicatorTemplate.id).limit(200)).all()
        return self.render(
            "targets/sheet.html", sheet=sheet, actions=actions, state_label=STATES.text(sheet),
            action_labels=ACTION_LABELS, editable=State(sheet.state) in service.EDITABLE,
            history=service.WORKFLOW.history(sheet), revisions=revs, late=service.is_late(sheet),
            comparators=COMPARATOR_LABELS, methods=METHOD_LABELS, library=library,
            problems=service.quality_problems(sheet, service.rules_of(sheet))
            if State(sheet.state) in service.EDITABLE else [])

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        sheet = self._sheet()
        action = request.form.get("action", "")
        if action == "submit" and not can(current_user, "target_sheet.edit"):
            abort(403)
        comments = {}
        for ind in sheet.indicators:
            text = request.form.get(f"comment_{ind.id}", "")
            if text.strip():
                comments[ind.id] = text
        try:
            service.transition(sheet, action, current_user, request.form.get("comment", ""),
                               comments)
            db.session.commit()
            flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
        except service.TargetError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".sheet_page", id=sheet.id))

    @expose("/add-from-library/", methods=("POST",))
    def add_from_library(self):
        if not can(current_user, "target_sheet.edit"):
            abort(403)
        sheet = self._sheet()
        template = get_by_id(IndicatorTemplate, request.form.get("template_id"))
        if template is None:
            flash(_("Choose an indicator of the library."), "error")
            return redirect(url_for(".sheet_page", id=sheet.id))
        rules = service.rules_of(sheet)
        current = [{k: getattr(i, k) for k in INDICATOR_COLUMNS} for i in sheet.indicators]
        raw = {"level1": template.level1, "level2": template.level2, "name": template.name,
               "comparator": template.comparator, "unit": template.unit,
               "scoring_method": template.scoring_method, "data_source": template.data_source,
               "target_value": request.form.get("target_value") or template.reference_value,
               "weight": request.form.get("weight")}
        cleaned, problems = clean_indicator(raw, rules)
        cleaned["template_id"] = template.id
        if not problems and duplicate_keys([*current, cleaned]):
            problems = [service.Problem("name", _l("This indicator appears twice."))]
        try:
            if problems:
                raise service.TargetError(problems)
            service.add_indicator(sheet, cleaned, current_user)  # the others keep their review comments
            db.session.commit()
            flash(_("The indicator was added from the library."), "success")
        except service.TargetError as exc:
            flash_problems(exc.problems)
        return redirect(url_for(".sheet_page", id=sheet.id))

    @expose("/diff/")
    def diff_page(self):
        sheet = self._sheet()
        revs = service.revisions(sheet)
        current = service.snapshot(sheet)
        pairs = []
        if revs:
            pairs.append((_("Revision %(n)s → now", n=revs[-1].number),
                          service.diff(revs[-1].data, current)))
        for older, newer in zip(revs, revs[1:], strict=False):
            pairs.append((_("Revision %(a)s → revision %(b)s", a=older.number, b=newer.number),
                          service.diff(older.data, newer.data)))
        return self.render("targets/diff.html", sheet=sheet, pairs=pairs, labels=FIELD_LABELS)

    # --- Excel -----------------------------------------------------------------------
    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        if not can(current_user, "target_sheet.edit"):
            abort(403)
        errors = []
        year = _year_arg()
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file."), "error")
            else:
                try:
                    count = excel_io.import_sheets(upload, year)
                    flash(_("Imported %(count)s indicators.", count=count), "success")
                    return redirect(url_for(".index_view"))
                except ImportRejected as exc:
                    errors = exc.errors
        return self.render("targets/import.html", errors=errors, years=_years(), year=year,
                           headers=excel_io.HEADERS.values(), title=_("Import target sheets"))

    @expose("/template/")
    def template(self):
        """The import template: the user's items of the year whose targets are still open."""
        if not can(current_user, "target_sheet.edit"):
            abort(403)
        year = _year_arg()
        return xlsx_response(excel_io.template_sheet(year), f"绩效目标导入模板-{year}.xlsx")

    @expose("/export-approved/")
    def export_approved(self):
        year = _year_arg()
        sheets = db.session.scalars(
            select(TargetSheet).join(BudgetItem, BudgetItem.id == TargetSheet.budget_item_id)
            .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
            .where(FiscalYear.year == year, TargetSheet.state == State.APPROVED)
            .order_by(BudgetItem.code)).all()
        return xlsx_response(excel_io.export_sheets(sheets), f"绩效目标-{year}.xlsx")


class IndicatorTemplateView(ScopedModelView):
    permission = "indicator_template"
    column_list = ("sector", "level1", "level2", "name", "comparator", "unit",
                   "reference_value", "scoring_method", "usage_count")
    column_searchable_list = ("name", "sector", "level2")
    column_filters = ("sector", "level1", "level2")
    column_sortable_list = ("sector", "level1", "level2", "name", "usage_count")
    column_default_sort = [("usage_count", True), ("id", False)]
    form_columns = ("sector", "level1", "level2", "name", "comparator", "unit",
                    "reference_value", "scoring_method", "data_source", "guidance")
    form_choices = {"scoring_method": list(METHOD_LABELS.items())}
    list_template = "targets/library_list.html"
    column_labels = {**FIELD_LABELS, "sector": _l("Sector"),
                     "reference_value": _l("Reference value"), "usage_count": _l("Uses"),
                     "guidance": _l("Guidance")}
    column_formatters = {"scoring_method": lambda v, c, m, n: str(
        METHOD_LABELS.get(m.scoring_method, m.scoring_method))}

    def check_form(self, form) -> bool:
        rules = rules_for_year(date.today().year)
        raw = {k: getattr(form, k).data for k in ("level1", "level2", "name", "comparator",
                                                    "scoring_method", "unit")}
        raw.update(target_value=form.reference_value.data or "0", weight=1)
        _cleaned, problems = clean_indicator(raw, rules)
        ok = True
        for problem in problems:
            if problem.field in ("level1", "level2", "name", "comparator", "scoring_method"):
                ok = add_field_error(getattr(form, problem.field), problem.message)
        return ok

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        if not can(current_user, "indicator_template.edit"):
            abort(403)
        errors = []
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file."), "error")
            else:
                try:
                    count = excel_io.import_library(upload, date.today().year)
                    flash(_("Imported %(count)s indicators.", count=count), "success")
                    return redirect(url_for(".index_view"))
                except ImportRejected as exc:
                    errors = exc.errors
        return self.render("targets/import.html", errors=errors, years=None, year=None,
                           headers=excel_io.LIBRARY_HEADERS.values(),
                           title=_("Import the indicator library"))

    @expose("/download/")
    def download(self):
        templates = db.session.scalars(select(IndicatorTemplate).order_by(
            IndicatorTemplate.sector, IndicatorTemplate.level1, IndicatorTemplate.level2,
            IndicatorTemplate.name)).all()
        return xlsx_response(excel_io.export_library(templates), "指标库.xlsx")


class CoveragePage(ScopedPage):
    permission = "target_report"

    @expose("/")
    def index(self):
        year = _year_arg()
        lines, total, rules_code = coverage(year)
        return self.render("targets/coverage.html", lines=lines, total=total, year=year,
                           years=_years(), rules_code=rules_code)


def register(admin, db) -> None:
    admin.add_view(TargetSheetView(TargetSheet, db, name=_l("Target sheets"),
                                   category=CATEGORY, endpoint="targetsheet"))
    admin.add_view(IndicatorTemplateView(IndicatorTemplate, db, name=_l("Indicator library"),
                                         category=CATEGORY, endpoint="indicatortemplate"))
    admin.add_view(CoveragePage(name=_l("Target coverage"), category=CATEGORY,
                                endpoint="targetcoverage", url="target-coverage"))
