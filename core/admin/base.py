"""The base admin views: permission and row scope in one place.

``ScopedModelView`` is what every admin page of the core and of plugins derives
from. It decides access from the ``permission`` prefix (``<prefix>.view``,
``.create``, ``.edit``, ``.delete``) and relies on ``core.scope`` for rows:
list, count, details/edit by id, relation dropdowns, ajax lookups and exports
all run ORM queries that the scope filters. ``get_one`` re-reads through a
scoped SELECT so an object cached in the session cannot bypass it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from core.admin.filters import FilterConverter
from core.extensions import db
from core.forms import MoneyField
from core.money import Money
from core.permissions import can
from core.scope import ScopeError


class PermissionMixin:
    """Access for any admin page: logged in, and holding ``<permission>.view``."""

    permission: str = ""

    def is_accessible(self) -> bool:
        if not current_user.is_authenticated:
            return False
        return not self.permission or can(current_user, f"{self.permission}.view")

    def inaccessible_callback(self, name: str, **kwargs: Any):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class ScopedModelView(PermissionMixin, ModelView):
    """A model view that every role and row check goes through."""

    page_size = 20
    can_view_details = True
    can_export = True
    export_types = ["xlsx", "csv"]
    #: big tables: no COUNT(*) unless a view opts in
    simple_list_pager = False
    filter_converter = FilterConverter()
    #: optimistic locking: the form carries the row's version
    form_excluded_columns = ("created_at", "updated_at", "version")

    def __init__(self, model, session=None, *args, **kwargs):
        super().__init__(model, session or db, *args, **kwargs)

    def _can(self, action: str) -> bool:
        return bool(self.permission) and current_user.is_authenticated and \
            can(current_user, f"{self.permission}.{action}")

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._can("create")

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._can("edit")

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._can("delete")

    # Flask-Admin assigns these in __init__; accept and ignore.
    @can_create.setter
    def can_create(self, value: bool) -> None:
        pass

    @can_edit.setter
    def can_edit(self, value: bool) -> None:
        pass

    @can_delete.setter
    def can_delete(self, value: bool) -> None:
        pass

    def get_one(self, id: Any):
        pk = sa_inspect(self.model).primary_key[0]
        try:
            key = pk.type.python_type(id)
        except (TypeError, ValueError):
            return None
        return db.session.execute(
            select(self.model).where(pk == key).execution_options(populate_existing=True)
        ).scalar_one_or_none()

    def scaffold_form(self):
        form_class = super().scaffold_form()
        for column in sa_inspect(self.model).columns:
            if isinstance(column.type, Money) and hasattr(form_class, column.key):
                label = self.column_labels.get(column.key) if self.column_labels else None
                setattr(form_class, column.key, MoneyField(label or column.key))
        if "version" in sa_inspect(self.model).columns:
            form_class.version = HiddenField()
        return form_class

    def on_form_prefill(self, form, id):
        if hasattr(form, "version"):
            model = self.get_one(id)
            form.version.data = getattr(model, "version", None)

    def update_model(self, form, model) -> bool:
        if hasattr(form, "version") and form.version.data not in (None, "") and \
                str(model.version) != str(form.version.data):
            flash(_("Someone else changed this record while you were editing it. "
                    "Reload the page and apply your changes again."), "error")
            return False
        return super().update_model(form, model)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, ScopeError | ValueError | StaleDataError):
            if isinstance(exc, StaleDataError):
                flash(_("Someone else changed this record while you were editing it. "
                        "Reload the page and apply your changes again."), "error")
            else:
                flash(str(exc), "error")
            db.session.rollback()
            return True
        return super().handle_view_exception(exc)


class ScopedPage(PermissionMixin, BaseView):
    """A non-model admin page (reports, dashboards) with the same access check."""


class DashboardView(AdminIndexView):
    """The home page: cards from ``jixiao_dashboard_widgets``."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name: str, **kwargs: Any):
        return redirect(url_for("auth.login", next=request.full_path))

    def render(self, template: str, **kwargs: Any):
        if template == self._template:
            from core.dashboard import widgets_for

            kwargs["widgets"] = widgets_for(current_user)
        return super().render(template, **kwargs)
