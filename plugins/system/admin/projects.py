"""The project library's pages (项目库): list, form, a project's items by year, Excel in/out."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.validators import NumberRange, Optional

from core.extensions import db
from core.models import BudgetItem, FiscalYear, Project
from core.permissions import can
from core.services.excel import ImportRejected, xlsx_response
from core.web.admin.base import ScopedModelView
from core.web.forms import Unique, add_field_error
from plugins.system import projects

YEARS = [NumberRange(min=2000, max=2100)]


class ProjectView(ScopedModelView):
    """Projects with a stable code; a project's page lists its budget item of each year."""

    permission = "project"
    can_export = False  # the Excel download below is the import's own layout
    list_template = "admin/project_list.html"
    details_template = "admin/project_details.html"
    column_list = ("code", "name", "org_unit", "kind", "status", "start_year", "end_year")
    column_details_list = ("code", "name", "org_unit", "kind", "status", "start_year",
                           "end_year", "request_year", "request_amount", "created_at",
                           "updated_at")
    column_searchable_list = ("code", "name")
    column_filters = ("kind", "status", "start_year", "end_year")
    column_sortable_list = ("code", "name", "start_year", "end_year")
    column_default_sort = "code"
    form_columns = ("code", "name", "org_unit", "kind", "status", "start_year", "end_year",
                    "request_year", "request_amount")
    column_formatters = {"org_unit": lambda v, c, m, n: m.org_unit.name}
    form_args = {"code": {"validators": [Unique(Project.code)]},
                 "start_year": {"validators": YEARS},
                 "end_year": {"validators": [Optional(), *YEARS]},
                 "request_year": {"validators": [Optional(), *YEARS]}}
    form_ajax_refs = {"org_unit": {"fields": ("name", "code"), "page_size": 20,
                                   "placeholder": _l("Type a name or code")}}
    column_labels = {"code": _l("Project code"), "name": _l("Name"), "org_unit": _l("Org unit"),
                     "kind": _l("Kind"), "status": _l("Project status"),
                     "start_year": _l("Start year"), "end_year": _l("End year"),
                     "request_year": _l("Request for year"),
                     "request_amount": _l("Requested amount (yuan)"),
                     "created_at": _l("Created"), "updated_at": _l("Updated")}

    def check_form(self, form) -> bool:
        start, end = form.start_year.data, form.end_year.data
        if start is not None and end is not None and end < start:
            return add_field_error(form.end_year, _l("The end year comes before the start year."))
        current = getattr(form, "_obj", None)
        if current is None or start is None:
            return True
        for problem in projects.year_problems(current.id, start, end):
            return add_field_error(form.end_year, problem)
        org = form.org_unit.data
        if org is not None and org.id != current.org_unit_id and current.items:
            return add_field_error(form.org_unit, _l(
                "The project has budget items; it stays with its department."))
        return True

    def render(self, template: str, **kwargs: Any):
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["items"] = db.session.execute(
                select(BudgetItem, FiscalYear.year).join(FiscalYear)
                .where(BudgetItem.project_id == kwargs["model"].id)
                .options(joinedload(BudgetItem.org_unit))
                .order_by(FiscalYear.year.desc())).all()
        return super().render(template, **kwargs)

    @expose("/xlsx/")
    def download(self):
        rows = db.session.scalars(select(Project).options(joinedload(Project.org_unit))
                                  .order_by(Project.code)).all()
        return xlsx_response([projects.export_sheet(rows)], "projects.xlsx")

    @expose("/import/", methods=("GET", "POST"))
    def import_view(self):
        if not can(current_user, "project.create"):
            abort(403)
        errors: list = []
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                flash(_("Choose a file."), "error")
            else:
                try:
                    count = projects.import_projects(upload)
                    flash(_("%(count)s projects imported.", count=count), "success")
                    return redirect(url_for(".index_view"))
                except ImportRejected as exc:
                    db.session.rollback()
                    errors = exc.errors
        return self.render("admin/project_import.html", errors=errors)


def register(admin, category) -> None:
    admin.add_view(ProjectView(Project, db, name=_l("Project library"), category=category))
