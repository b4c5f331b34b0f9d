"""Row-level edit and delete for workflow-backed admin views (core.services.review).

``OwnerEditsView`` goes before ``ScopedModelView`` in a view's bases and names
the view's ``review_workflow``: the list shows the edit and delete icons only on
rows the user may change, the details page its edit button likewise, and the
edit form, inline edits, deletes and bulk deletes of any other row are refused
with the reason, changing nothing.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.model.template import BaseListRowAction, DeleteRowAction, EditRowAction
from flask_login import current_user
from jinja2 import pass_context

from core.services.review import EDITABLE, edit_problem

_ROW = "jixiao_review_row"


class _OwnerOnly(BaseListRowAction):
    """A list row action shown only on rows the user may change."""

    def __init__(self, action: BaseListRowAction, view: Any) -> None:
        super().__init__(action.title)
        self.action, self.view = action, view

    @pass_context
    def render_ctx(self, context, row_id, row):
        return self.action.render_ctx(context, row_id, row) if self.view.may_change(row) else ""


class OwnerEditsView:
    """Mixin for a ``ScopedModelView`` of a workflow-backed model."""

    review_workflow: Any = None
    #: states in which the owner may change a row
    edit_states = EDITABLE

    def change_problem(self, row: Any) -> Any:
        return edit_problem(self.review_workflow, row, current_user, self.edit_states)

    def may_change(self, row: Any) -> bool:
        return self.change_problem(row) is None

    @property
    def can_edit(self) -> bool:  # the details page of one row asks about that row
        row = g.get(_ROW)
        return super().can_edit and (row is None or self.may_change(row))

    @can_edit.setter
    def can_edit(self, value: bool) -> None:
        pass

    def get_list_row_actions(self):
        return [_OwnerOnly(a, self) if isinstance(a, EditRowAction | DeleteRowAction) else a
                for a in super().get_list_row_actions()]

    def render(self, template: str, **kwargs: Any):
        """A page of one row (details, or a plugin's record page) asks ``can_edit`` of it."""
        if template != self.edit_template:
            row = next((v for v in kwargs.values() if isinstance(v, self.model)), None)
            if row is not None:
                g.setdefault(_ROW, row)
        return super().render(template, **kwargs)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        row = self.get_one(request.args.get("id", ""))
        if row is not None and super().can_edit and not self.may_change(row):
            flash(str(self.change_problem(row)), "error")
            return redirect(url_for(".details_view", id=row.id))
        return super().edit_view()

    def update_model(self, form, model) -> bool:
        return self._changeable(model) and super().update_model(form, model)

    def delete_model(self, model) -> bool:
        return self._changeable(model) and super().delete_model(model)

    def _changeable(self, row: Any) -> bool:
        """True when ``row`` may be changed; else flash why and return False."""
        problem = self.change_problem(row)
        if problem is not None:
            flash(str(problem), "error")
        return problem is None
