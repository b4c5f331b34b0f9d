"""Admin views of the shared model (org units, users, fiscal years, budget items, audit)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from core.admin.base import ScopedModelView
from core.models import AuditLog, BudgetItem, FiscalYear, OrgUnit, Role, User
from core.models.org import OrgError

CAT_SYSTEM = _l("System")
CAT_BASIC = _l("Basic data")


class OrgUnitView(ScopedModelView):
    permission = "org_unit"
    column_list = ("code", "name", "kind", "parent", "active")
    column_searchable_list = ("code", "name")
    column_filters = ("kind", "active")
    column_default_sort = "path"
    form_columns = ("code", "name", "kind", "parent", "active")
    form_ajax_refs = {"parent": {"fields": ("name", "code"), "page_size": 20}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "kind": _l("Kind"),
                     "parent": _l("Parent"), "active": _l("Active"), "path": _l("Path")}

    def on_model_change(self, form, model, is_created):
        try:
            model.check_parent()
        except OrgError as exc:
            raise ValueError(str(exc)) from None


class UserView(ScopedModelView):
    permission = "user"
    column_list = ("username", "full_name", "role", "org_unit", "active", "last_login_at")
    column_searchable_list = ("username", "full_name")
    column_filters = ("active", "role.name")
    column_exclude_list = ("password_hash", "session_token")
    column_details_exclude_list = ("password_hash", "session_token")
    column_export_exclude_list = ("password_hash", "session_token")
    form_columns = ("username", "full_name", "email", "role", "org_unit", "active", "locale")
    form_extra_fields = {"new_password": PasswordField(
        _l("New password"), validators=[Optional(), Length(min=10, max=200)])}
    form_ajax_refs = {"org_unit": {"fields": ("name", "code"), "page_size": 20}}
    column_labels = {"username": _l("Username"), "full_name": _l("Full name"),
                     "role": _l("Role"), "org_unit": _l("Org unit"), "active": _l("Active"),
                     "last_login_at": _l("Last login"), "email": _l("Email"),
                     "locale": _l("Language"), "role.name": _l("Role")}

    def on_model_change(self, form, model, is_created):
        import secrets

        if form.new_password.data:
            model.set_password(form.new_password.data)
            model.session_token = secrets.token_hex(16)
        elif is_created:
            raise ValueError(str(_l("A new user needs a password.")))
        if model.role and model.role.name != "finance_admin" and \
                not current_user.role_name == "finance_admin" and model.role.name == "finance_admin":
            raise ValueError(str(_l("Only the finance bureau can grant that role.")))


class RoleView(ScopedModelView):
    permission = "role"
    column_list = ("name", "permissions")
    form_columns = ("name",)
    inline_models = (("core.models.user.RolePermission", {"form_columns": ("id", "permission")}),)
    column_labels = {"name": _l("Name"), "permissions": _l("Permissions")}

    def __init__(self, *args, **kwargs):
        from core.models import RolePermission

        self.inline_models = ((RolePermission, {"form_columns": ("id", "permission")}),)
        super().__init__(*args, **kwargs)


class FiscalYearView(ScopedModelView):
    permission = "fiscal_year"
    column_list = ("year", "name", "status")
    form_columns = ("year", "name", "status")
    column_default_sort = ("year", True)
    column_labels = {"year": _l("Year"), "name": _l("Name"), "status": _l("Status"),
                     "deadlines": _l("Stage deadlines")}

    def __init__(self, *args, **kwargs):
        from core.models import StageDeadline

        self.inline_models = ((StageDeadline, {"form_columns": ("id", "stage", "due")}),)
        super().__init__(*args, **kwargs)


class BudgetItemView(ScopedModelView):
    permission = "budget_item"
    column_list = ("code", "name", "fiscal_year", "org_unit", "kind", "budget_type", "amount",
                   "is_new", "is_recurring", "is_key_task", "is_purchase_of_services")
    column_searchable_list = ("code", "name")
    column_filters = ("kind", "budget_type", "is_new", "is_recurring", "is_key_task",
                      "is_purchase_of_services", "amount", "fiscal_year.year")
    column_sortable_list = ("code", "name", "amount", "kind", "budget_type")
    column_default_sort = ("code", False)
    form_columns = ("code", "name", "fiscal_year", "org_unit", "kind", "budget_type", "amount",
                    "is_new", "is_recurring", "is_key_task", "is_purchase_of_services",
                    "contractor", "description")
    form_ajax_refs = {"org_unit": {"fields": ("name", "code"), "page_size": 20}}
    column_labels = {"code": _l("Code"), "name": _l("Name"), "fiscal_year": _l("Fiscal year"),
                     "fiscal_year.year": _l("Fiscal year"),
                     "org_unit": _l("Org unit"), "kind": _l("Kind"),
                     "budget_type": _l("Budget type"), "amount": _l("Amount (yuan)"),
                     "is_new": _l("New"), "is_recurring": _l("Recurring"),
                     "is_key_task": _l("Key task"),
                     "is_purchase_of_services": _l("Purchase of services"),
                     "contractor": _l("Contractor"), "description": _l("Description")}

    def on_model_change(self, form, model, is_created):
        if model.is_purchase_of_services and not (model.contractor or "").strip():
            raise ValueError(str(_l("A purchase-of-services item needs its contractor.")))


class AuditLogView(ScopedModelView):
    permission = "audit_log"
    can_view_details = True
    column_list = ("id", "at", "username", "action", "object_type", "object_id")
    column_searchable_list = ("username", "object_type", "object_id")
    column_filters = ("action", "object_type", "username")
    column_default_sort = ("id", True)
    column_labels = {"at": _l("Time"), "username": _l("User"), "action": _l("Action"),
                     "object_type": _l("Object type"), "object_id": _l("Object id"),
                     "before": _l("Before"), "after": _l("After")}

    @property
    def can_create(self):  # type: ignore[override]
        return False

    @property
    def can_edit(self):  # type: ignore[override]
        return False

    @property
    def can_delete(self):  # type: ignore[override]
        return False


def register(admin, db) -> None:
    admin.add_view(OrgUnitView(OrgUnit, db, name=_l("Org units"), category=CAT_BASIC))
    admin.add_view(FiscalYearView(FiscalYear, db, name=_l("Fiscal years"), category=CAT_BASIC))
    admin.add_view(BudgetItemView(BudgetItem, db, name=_l("Budget items"), category=CAT_BASIC))
    admin.add_view(UserView(User, db, name=_l("Users"), category=CAT_SYSTEM))
    admin.add_view(RoleView(Role, db, name=_l("Roles and permissions"), category=CAT_SYSTEM))
    admin.add_view(AuditLogView(AuditLog, db, name=_l("Audit log"), category=CAT_SYSTEM))
