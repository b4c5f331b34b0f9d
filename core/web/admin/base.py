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

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.helpers import is_form_submitted
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.db_int import row_id
from core.extensions import db
from core.models import STALE_RECORD
from core.permissions import can
from core.scope import ScopeError
from core.web.admin.display import DisplayMixin
from core.web.admin.export import XlsxExportMixin
from core.web.admin.fields import AdminConverter
from core.web.admin.filters import FilterConverter, OrgUnitFilter
from core.web.admin.states import StateFilter
from core.web.forms import VersionField, stringify_errors


class PermissionMixin:
    """Access for any admin page: logged in, and holding ``<permission>.view``."""

    permission: str = ""

    def is_accessible(self) -> bool:
        if not current_user.is_authenticated:
            return False
        return bool(self.permission) and can(current_user, f"{self.permission}.view")

    def inaccessible_callback(self, name: str, **kwargs: Any):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class ScopedModelView(PermissionMixin, DisplayMixin, XlsxExportMixin, ModelView):
    """A model view that every role and row check goes through."""

    page_size = 20
    can_view_details = True
    can_export = True
    export_types = ["xlsx", "csv"]
    #: False: the list shows "List (N)" and numbered pages, from a COUNT(*) of every
    #: matching row on each page load; a view over a big table sets True (prev/next
    #: only) to keep its page time flat — see docs/bench.md
    simple_list_pager = False
    filter_converter = FilterConverter()
    #: amounts, enum labels, unique checks over all rows, strict related-row ids
    model_form_converter = AdminConverter
    #: optimistic locking: the form carries the row's version
    form_excluded_columns = ("created_at", "updated_at", "version")
    #: loader options for the listed rows (``selectinload(Model.relation)``): what the
    #: columns and formatters read of every row comes in one statement for the page,
    #: not one per row (tests/core/web/test_statement_bounds.py catches an N+1)
    list_options: tuple[Any, ...] = ()

    def get_query(self):
        return super().get_query().options(*self.list_options)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        # PostgreSQL refuses NUL in text (a server error); no stored text holds one
        return super()._apply_search(query, count_query, joins, count_joins,
                                     search.replace("\x00", ""))

    def __init__(self, model, session=None, *args, **kwargs):
        super().__init__(model, session or db, *args, **kwargs)

    #: a record of what happened (audit log, job runs): nobody creates, edits or deletes
    read_only = False
    #: the view's own page of one record (``?id=``), e.g. ``"sheet_page"``: a save returns
    #: there rather than to the list, and links to the record (notifications) open it
    own_page: str | None = None

    def get_save_return_url(self, model: Any, is_created: bool = False) -> str:
        if self.own_page:
            return self.get_url(f".{self.own_page}", id=model.id)
        return super().get_save_return_url(model, is_created)

    def _can(self, action: str) -> bool:
        return not self.read_only and bool(self.permission) and \
            current_user.is_authenticated and can(current_user, f"{self.permission}.{action}")

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
        if pk.type.python_type is int:
            key = row_id(id)  # "abc" or past INTEGER: no such row, not a driver error
            if key is None:
                return None
        else:
            try:
                key = pk.type.python_type(id)
            except (TypeError, ValueError):
                return None
        return db.session.execute(
            select(self.model).where(pk == key).execution_options(populate_existing=True)
        ).scalar_one_or_none()

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        # Flask-Admin's inline list editing does not check can_edit itself.
        if not self.can_edit:
            abort(403)
        return super().ajax_update()

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        response = super().export(export_type)
        if response.is_streamed:
            # Write the whole file now, while the request's session is open:
            # Flask-SQLAlchemy closes it before a streamed body is read, which
            # detaches the rows and breaks every lazy-loaded column.
            response.make_sequence()
        return response

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if "version" in sa_inspect(self.model).columns:
            form_class.version = VersionField()
        return form_class

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if is_form_submitted() and isinstance(
                form, self._create_form_class | self._edit_form_class):
            # cross-field rules run even when a field failed: the user sees every error
            valid = self.check_form(form) and valid
        stringify_errors(form)  # lazy messages would not be shown
        return valid

    def check_form(self, form) -> bool:
        """Rules across fields of a submitted create/edit form.

        Put each error on the field it concerns (``core.web.forms.add_field_error``)
        and return False; nothing is written then. A field that already has
        errors holds no usable data.
        """
        return True

    def on_form_prefill(self, form, id):
        if hasattr(form, "version"):
            model = self.get_one(id)
            form.version.data = getattr(model, "version", None)

    def update_model(self, form, model) -> bool:
        if hasattr(form, "version") and form.version.data not in (None, "") and \
                str(model.version) != str(form.version.data):
            flash(str(STALE_RECORD), "error")
            return False
        return super().update_model(form, model)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, ScopeError | ValueError | StaleDataError):
            if isinstance(exc, StaleDataError):
                flash(str(STALE_RECORD), "error")
            else:
                flash(str(exc), "error")
            db.session.rollback()
            return True
        if isinstance(exc, IntegrityError):  # not the database's raw message
            flash(_("Nothing was saved: the change conflicts with other records "
                    "(a duplicate, or a record still in use)."), "error")
            db.session.rollback()
            return True
        return super().handle_view_exception(exc)


class ScopedPage(PermissionMixin, BaseView):
    """A non-model admin page (reports, dashboards) with the same access check."""


class DashboardView(PermissionMixin, AdminIndexView):
    """The home page: cards from ``jixiao_dashboard_widgets``, a stage's in stage order."""

    permission = "dashboard"

    def render(self, template: str, **kwargs: Any):
        if template == self._template:
            from core.plugins import hooks

            kwargs["widgets"] = hooks().dashboard_widgets(user=current_user)
            kwargs["stages"] = hooks().stages()
        return super().render(template, **kwargs)


def record_link(obj: Any) -> tuple[str, str | None]:
    """How people call ``obj``'s kind (its admin view's name) and where its page is: the
    view's ``own_page`` if it has one, else its details (or edit) page."""
    admin = current_app.extensions.get("jixiao_admin")
    for view in getattr(admin, "_views", ()):
        if isinstance(view, ModelView) and view.model is type(obj):
            page = getattr(view, "own_page", None) or \
                ("details_view" if view.can_view_details else "edit_view")
            # the path alone, also outside a request (a job, the demo data)
            path = current_app.url_map.bind("").build(f"{view.endpoint}.{page}", {"id": obj.id})
            return str(view.name), path
    return type(obj).__name__, None


def _column_key(column: Any) -> str:
    """``"table.column"`` of a model attribute; a string stays as it is."""
    if isinstance(column, str):
        return column
    col = column.property.columns[0]
    return f"{col.table.name}.{col.name}"


def _pairs(filters: tuple[Any, ...]) -> list[tuple[Any, type, Any]]:
    out = []
    for part in filters:
        if hasattr(part, "items"):
            part = list(part.items())
        if isinstance(part, tuple):
            part = [part]
        for entry in part:
            column, kind, value = entry if len(entry) == 3 else (entry[0], FilterEqual, entry[1])
            out.append((column, kind, value))
    return out


def list_url(endpoint: str, *filters: Any, **equals: Any) -> str:
    """The list page of the admin view ``endpoint`` filtered on some columns.

    Each of ``filters`` is a mapping, a list of pairs or one pair ``(column, value)``
    (or a triple ``(column, filter class, value)``; the class defaults to "equals");
    a column is a model attribute, ``"table.column"`` or a bare column name, and
    ``equals`` gives more by bare name. The value is as the URL carries it (an enum
    member's name); with ``OrgUnitFilter`` it is an ``OrgUnit``, and the department or unit
    filter is used as its kind says. A column the view cannot filter that way is left out."""
    admin = current_app.extensions["jixiao_admin"]
    view = next((v for v in admin._views if getattr(v, "endpoint", None) == endpoint), None)
    args: dict[str, Any] = {}
    for column, kind, value in _pairs(filters) + [(k, FilterEqual, v) for k, v in equals.items()]:
        key = _column_key(column)
        for i, flt in enumerate(getattr(view, "_filters", None) or []):
            col = getattr(flt, "column", None)
            name = f"{col.table.name}.{col.name}" if hasattr(col, "table") else ""
            if key not in (name, name.rpartition(".")[2]):
                continue
            if isinstance(flt, StateFilter) and kind is FilterEqual:  # state in words + level
                value = flt.states.key_for(str(value), getattr(current_user, "role_name", None))
            elif kind is OrgUnitFilter and isinstance(flt, kind):  # department or unit filter
                if value.kind not in flt.options.kinds:
                    continue
                value = value.id
            elif not isinstance(flt, kind):
                continue
            args[f"flt{len(args)}_{view.get_filter_arg(i, flt)}"] = value
            break
    return url_for(f"{endpoint}.index_view", **args)
