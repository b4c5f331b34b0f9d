"""Admin views of the shared model (org units, users, fiscal years, budget items, audit).

Bad input is refused with an error on the field it concerns, and nothing is
written: amounts, enum values, unknown related rows and duplicates are checked
by the form converter (``core.web.admin.fields``); the rules that involve several
fields (an org unit's place in the tree, a purchase of services without its
contractor, a new user without a password) are checked in ``check_form``.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import PasswordField
from wtforms.validators import Length, NumberRange, Optional, Regexp

from core.extensions import db
from core.models import AuditLog, BudgetItem, FiscalYear, OrgKind, OrgUnit, Role, User
from core.models.org import ALLOWED_PARENTS, ORG_KIND_LABELS
from core.models.user import ROLE_LABELS, RoleName
from core.permissions import can
from core.plugins import hooks
from core.scope import OUTSIDE_ROLES
from core.web.admin.base import ScopedModelView
from core.web.admin.setup import MORE
from core.web.forms import Unique, add_field_error
from plugins.system import projects
from plugins.system.admin import projects as project_pages

CAT_SYSTEM = MORE  # users, roles, audit log, plugins, jobs: under "More"
CAT_BASIC = _l("Basic data")

FISCAL_YEAR_STATUS = [("open", _l("In progress")), ("closed", _l("Closed"))]
STAGE_LABELS = {
    "pre_assessment": _l("Pre-assessment"),
    "targets": _l("Performance targets"),
    "monitoring": _l("Execution monitoring"),
    "self_evaluation": _l("Self-evaluation"),
    "evaluation": _l("Key evaluation"),
    "disclosure": _l("Disclosure"),
}
AUDIT_ACTIONS = [("create", _l("Create")), ("update", _l("Update")), ("delete", _l("Delete"))]
LANGUAGES = [("zh_Hans_CN", "中文"), ("en", "English")]



class OrgUnitView(ScopedModelView):
    permission = "org_unit"
    column_list = ("code", "name", "kind", "parent", "active")
    column_details_list = ("code", "name", "kind", "parent", "active", "path", "created_at",
                           "updated_at")
    column_export_list = ("code", "name", "kind", "parent", "active")
    column_searchable_list = ("code", "name")
    column_filters = ("kind", "active")
    column_sortable_list = ("code", "name", "kind")
    column_default_sort = "path"
    form_columns = ("code", "name", "kind", "parent", "active")
    form_ajax_refs = {"parent": {"fields": ("name", "code"), "page_size": 20,
                                 "placeholder": _l("Type a name or code")}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "kind": _l("Kind"),
                     "parent": _l("Parent"), "active": _l("Active"), "path": _l("Path"),
                     "created_at": _l("Created"), "updated_at": _l("Updated")}

    def check_form(self, form) -> bool:
        if form.kind.errors or form.parent.errors:
            return False
        kind, parent = OrgKind(form.kind.data), form.parent.data
        parent_kind = parent.kind if parent is not None else None
        if parent_kind not in ALLOWED_PARENTS[kind]:
            return add_field_error(form.parent, _l(
                "A %(kind)s cannot be placed under %(parent)s.", kind=ORG_KIND_LABELS[kind],
                parent=ORG_KIND_LABELS[parent_kind] if parent_kind else _l("nothing")))
        current = getattr(form, "_obj", None)
        if current is not None:
            node = parent
            while node is not None:
                if node.id == current.id:
                    return add_field_error(
                        form.parent, _l("An org unit cannot be its own ancestor."))
                node = node.parent
            if any(kind not in ALLOWED_PARENTS[OrgKind(child.kind)] for child in current.children):
                return add_field_error(form.kind, _l(
                    "The org units under this one cannot stay under a %(kind)s.",
                    kind=ORG_KIND_LABELS[kind]))
        return True

    def on_model_delete(self, model) -> None:
        with db.session.no_autoflush:
            in_use = (
                db.session.scalar(select(func.count()).where(OrgUnit.parent_id == model.id)
                                  .execution_options(jixiao_unscoped=True))
                or db.session.scalar(select(func.count()).where(User.org_unit_id == model.id)
                                     .execution_options(jixiao_unscoped=True))
                or db.session.scalar(select(func.count()).where(BudgetItem.org_unit_id == model.id)
                                     .execution_options(jixiao_unscoped=True)))
        if in_use:
            raise ValueError(str(_l(
                "%(name)s still has org units, users or budget items under it; "
                "move or remove them first, or mark it inactive.", name=model.name)))


class UserView(ScopedModelView):
    permission = "user"
    column_list = ("username", "full_name", "role", "org_unit", "active", "last_login_at")
    column_details_list = ("username", "full_name", "email", "role", "org_unit", "active",
                           "locale", "last_login_at", "locked_until", "created_at")
    column_export_list = ("username", "full_name", "email", "role", "org_unit", "active",
                          "last_login_at")
    column_searchable_list = ("username", "full_name")
    column_filters = ("role.name", "active")
    column_choices = {"role.name": [(r.value, label) for r, label in ROLE_LABELS.items()]}
    column_sortable_list = ("username", "full_name", "active", "last_login_at")
    column_default_sort = "username"
    form_columns = ("username", "full_name", "email", "role", "org_unit", "active", "locale",
                    "new_password")
    form_extra_fields = {"new_password": PasswordField(
        _l("New password"), validators=[Optional(), Length(min=10, max=200)],
        description=_l("At least 10 characters. Leave empty to keep the current password."))}
    form_args = {
        "username": {"validators": [Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l(
            "Use only letters, digits and . _ - @ in a username."))]},
        "email": {"validators": [Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l(
            "Not a valid email address."))]},
    }
    form_choices = {"locale": LANGUAGES}
    form_ajax_refs = {"org_unit": {"fields": ("name", "code"), "page_size": 20,
                                   "placeholder": _l("Type a name or code")}}
    column_labels = {"username": _l("Username"), "full_name": _l("Full name"),
                     "role": _l("Role"), "org_unit": _l("Org unit"), "active": _l("Active"),
                     "last_login_at": _l("Last login"), "email": _l("Email"),
                     "locale": _l("Language"), "role.name": _l("Role"),
                     "locked_until": _l("Locked until"), "created_at": _l("Created")}

    def check_form(self, form) -> bool:
        valid = True
        if getattr(form, "_obj", None) is None and not form.new_password.data:
            valid = add_field_error(form.new_password, _l("A new user needs a password."))
        role = form.role.data
        if role is not None and role.name == RoleName.FINANCE_ADMIN and \
                current_user.role_name != RoleName.FINANCE_ADMIN:
            valid = add_field_error(form.role, _l("Only the finance bureau can grant that role."))
        if role is not None and role.name in OUTSIDE_ROLES and form.org_unit.data is not None:
            valid = add_field_error(form.org_unit, _l(
                "Experts and agency users belong to no org unit; leave it empty."))
        return valid

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
            model.session_token = secrets.token_hex(16)  # ends the user's other sessions


def _permission_choices() -> list[tuple[str, str]]:
    """Every declared permission, plus any granted one no plugin declares any more."""
    from core.models import RolePermission
    from core.permissions import declared

    perms = declared()
    stored = db.session.scalars(select(RolePermission.permission).distinct()
                                .execution_options(jixiao_unscoped=True))
    names = sorted(set(perms) | set(stored))
    return [(n, f"{n} — {perms[n].label}" if n in perms and perms[n].label else n)
            for n in names]


class RoleView(ScopedModelView):
    permission = "role"
    can_export = False
    column_list = ("name", "permissions")
    column_details_list = ("name", "permissions")
    column_formatters = {
        "name": lambda v, c, m, n: str(m),
        "permissions": lambda v, c, m, n: len(m.permissions),
    }
    list_options = (selectinload(Role.permissions),)
    column_formatters_detail = {
        "name": lambda v, c, m, n: str(m),
        "permissions": lambda v, c, m, n: Markup("<br>").join(
            sorted(p.permission for p in m.permissions)),
    }
    form_columns = ("name",)
    form_args = {"name": {"description": _l(
        "finance_admin, dept_admin, unit_user, expert, agency_user, viewer — or a new role")}}
    column_labels = {"name": _l("Name"), "permissions": _l("Permissions")}

    def __init__(self, *args, **kwargs):
        from core.models import RolePermission

        self.inline_models = ((RolePermission, {
            "form_columns": ("id", "permission"),
            "form_choices": {"permission": _permission_choices},
            "form_label": _l("Permissions"),
        }),)
        super().__init__(*args, **kwargs)

    def check_form(self, form) -> bool:
        return _no_duplicates(form.permissions, "permission",
                              _l("This permission is listed twice."))


def _no_duplicates(inline_list, field_name: str, message) -> bool:
    """Refuse two kept rows of an inline list with the same value in ``field_name``."""
    seen: set[Any] = set()
    ok = True
    for entry in inline_list.entries:
        if inline_list.should_delete(entry):
            continue
        field = entry.form[field_name]
        if field.data is None:
            continue
        if field.data in seen:
            ok = add_field_error(field, message)
        seen.add(field.data)
    return ok


def _stage_choices() -> list[tuple[str, Any]]:
    from core.models import StageDeadline

    stored = db.session.scalars(select(StageDeadline.stage).distinct())
    extra = sorted(set(stored) - set(STAGE_LABELS))
    return [*STAGE_LABELS.items(), *((s, s) for s in extra)]


class FiscalYearView(ScopedModelView):
    permission = "fiscal_year"
    list_template = "admin/fiscal_year_list.html"
    column_list = ("year", "name", "status", "deadlines")
    column_details_list = ("year", "name", "status", "deadlines")
    form_columns = ("year", "name", "status")
    column_default_sort = ("year", True)
    column_choices = {"status": FISCAL_YEAR_STATUS}
    column_formatters = {"deadlines": lambda v, c, m, n: "; ".join(
        f"{STAGE_LABELS.get(d.stage, d.stage)} {d.due.isoformat()}" for d in m.deadlines)}
    form_choices = {"status": FISCAL_YEAR_STATUS}
    form_args = {"year": {"validators": [NumberRange(min=2000, max=2100)]}}
    column_labels = {"year": _l("Year"), "name": _l("Name"), "status": _l("Status"),
                     "deadlines": _l("Stage deadlines")}

    def __init__(self, *args, **kwargs):
        from core.models import StageDeadline

        self.inline_models = ((StageDeadline, {
            "form_columns": ("id", "stage", "due"),
            "form_choices": {"stage": _stage_choices},
            "form_label": _l("Stage deadlines"),
            "column_labels": {"stage": _l("Stage"), "due": _l("Due date")},
        }),)
        super().__init__(*args, **kwargs)

    def check_form(self, form) -> bool:
        return _no_duplicates(form.deadlines, "stage",
                              _l("This stage already has a deadline in this year."))

    @expose("/open/", methods=("POST",))
    def open_year(self):
        """Finance opens a year from the one before (plugins/system/year_open.py)."""
        from plugins.system.year_open import YearOpenError, open_year

        if not can(current_user, "fiscal_year.create"):
            abort(403)
        year = request.form.get("year", "").strip()
        if not year.isdigit() or not 2000 <= int(year) <= 2100:
            flash(_("Enter a year."), "error")
            return redirect(url_for(".index_view"))
        try:
            opened = open_year(int(year))
        except YearOpenError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".index_view"))
        db.session.commit()
        flash(_("%(year)s is open: %(deadlines)s deadlines and %(items)s budget items of "
                "continuing projects carried over.", year=opened.year.year,
                deadlines=opened.deadlines, items=opened.items), "success")
        return redirect(url_for(".index_view"))


class BudgetItemView(ScopedModelView):
    """Budget items; an item's page is the project's one place: every stage's panel on it."""

    simple_list_pager = True  # no COUNT(*) over 100k rows per page view (docs/bench.md)
    permission = "budget_item"
    details_template = "admin/budget_item_details.html"
    column_list = ("code", "name", "fiscal_year", "org_unit", "kind", "budget_type", "amount",
                   "is_key_task", "is_purchase_of_services")
    column_details_list = ("code", "name", "project", "fiscal_year", "org_unit", "kind",
                           "budget_type", "amount", "is_new", "is_recurring", "is_key_task",
                           "is_purchase_of_services", "contractor", "description",
                           "created_at", "updated_at")
    column_export_list = ("code", "name", "fiscal_year", "org_unit", "kind", "budget_type",
                          "amount", "is_new", "is_recurring", "is_key_task",
                          "is_purchase_of_services", "contractor")
    column_searchable_list = ("code", "name")
    column_filters = ("fiscal_year.year", "kind", "budget_type", "amount", "is_new",
                      "is_recurring", "is_key_task", "is_purchase_of_services")
    # indexed columns (amount: a top-N sort of one page, still fast on 100k rows)
    column_sortable_list = ("code", "name", "kind", "budget_type", "amount")
    # newest first by primary key: a backward index scan, fast on 100k rows
    column_default_sort = ("id", True)
    form_columns = ("code", "name", "project", "fiscal_year", "org_unit", "kind", "budget_type",
                    "amount", "is_new", "is_recurring", "is_key_task", "is_purchase_of_services",
                    "contractor", "description")
    column_formatters = {"fiscal_year": lambda v, c, m, n: m.fiscal_year.year,
                         "org_unit": lambda v, c, m, n: m.org_unit.name}
    column_formatters_export = {}
    form_args = {"code": {"validators": [
        Unique(BudgetItem.code, within={"fiscal_year": BudgetItem.fiscal_year_id})]}}
    form_ajax_refs = {"org_unit": {"fields": ("name", "code"), "page_size": 20,
                                   "placeholder": _l("Type a name or code")},
                      "project": {"fields": ("code", "name"), "page_size": 20,
                                  "placeholder": _l("Type a name or code")}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "fiscal_year": _l("Fiscal year"),
                     "project": _l("Project"),
                     "fiscal_year.year": _l("Fiscal year"),
                     "org_unit": _l("Org unit"), "kind": _l("Kind"),
                     "budget_type": _l("Budget type"), "amount": _l("Amount (yuan)"),
                     "is_new": _l("New"), "is_recurring": _l("Recurring"),
                     "is_key_task": _l("Key task"),
                     "is_purchase_of_services": _l("Purchase of services"),
                     "contractor": _l("Contractor"), "description": _l("Description"),
                     "created_at": _l("Created"), "updated_at": _l("Updated")}

    def render(self, template: str, **kwargs: Any):
        if template == self.details_template and kwargs.get("model") is not None:
            stages = hooks().stages()
            panels = hooks().item_panels(item=kwargs["model"])
            kwargs["panels"] = sorted(panels, key=lambda p: (
                stages[p.stage].order if p.stage in stages else 1000, str(p.title)))
        return super().render(template, **kwargs)

    def check_form(self, form) -> bool:
        if form.is_purchase_of_services.data and not (form.contractor.data or "").strip():
            return add_field_error(
                form.contractor, _l("A purchase-of-services item needs its contractor."))
        if form.project.errors or form.org_unit.errors or form.fiscal_year.errors:
            return False
        year = form.fiscal_year.data
        project = form.project.data or projects.by_code(form.code.data)
        if project is None:  # a new project of the item's code (projects.attach)
            return True
        for problem in projects.item_problems(form.org_unit.data, project,
                                              year.year if year is not None else None):
            return add_field_error(form.project, problem)
        return True

    def on_model_change(self, form, model, is_created):
        projects.attach(model)


class AuditLogView(ScopedModelView):
    read_only = True
    simple_list_pager = True
    permission = "audit_log"
    column_list = ("id", "at", "username", "action", "object_type", "object_id")
    column_details_list = ("id", "at", "username", "action", "object_type", "object_id",
                           "before", "after", "entry_hash")
    column_searchable_list = ("username", "object_type", "object_id")
    column_filters = ("action", "object_type", "username", "at")
    column_choices = {"action": AUDIT_ACTIONS}
    column_sortable_list = ("id", "at")
    column_default_sort = ("id", True)
    column_labels = {"id": _l("No."), "at": _l("Time"), "username": _l("User"),
                     "action": _l("Action"), "object_type": _l("Object type"),
                     "object_id": _l("Object id"), "before": _l("Before"),
                     "after": _l("After"), "entry_hash": _l("Hash")}


def register(admin, db) -> None:
    admin.add_view(OrgUnitView(OrgUnit, db, name=_l("Org units"), category=CAT_BASIC))
    admin.add_view(FiscalYearView(FiscalYear, db, name=_l("Fiscal years"), category=CAT_BASIC))
    project_pages.register(admin, CAT_BASIC)
    admin.add_view(BudgetItemView(BudgetItem, db, name=_l("Budget items"), category=CAT_BASIC))
    admin.add_view(UserView(User, db, name=_l("Users"), category=CAT_SYSTEM))
    admin.add_view(RoleView(Role, db, name=_l("Roles and permissions"), category=CAT_SYSTEM))
    admin.add_view(AuditLogView(AuditLog, db, name=_l("Audit log"), category=CAT_SYSTEM))

