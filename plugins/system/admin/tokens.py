""""My API tokens": each user's own personal API tokens — create, rename, revoke, delete.

A new token's plaintext is shown exactly once, on the page that answers the
create form; only its hash is stored. Each user sees only their own tokens
(``ApiToken.scope_criteria``), the finance bureau included.
"""

from __future__ import annotations

from flask import flash, g, make_response, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField
from wtforms.validators import Length, NumberRange, Optional

from core.extensions import db
from core.models import ApiToken
from core.services.api_tokens import create_token, expiry_in, revoke
from core.tokens import EXPIRED, REVOKED, status
from core.web.admin.base import ScopedModelView
from core.web.admin.setup import MORE

MAX_DAYS = 3650
_NEW = "jixiao_new_api_token"


def _status(view, context, model, name) -> str:
    state = status(model)
    if state == REVOKED:
        return _("Revoked")
    if state == EXPIRED:
        return _("Expired")
    return _("Active")


def _prefix(view, context, model, name) -> str:
    return f"{model.prefix}…"


class ApiTokenView(ScopedModelView):
    """Only the user's own rows; the plaintext of a new token is shown once."""

    permission = "api_token"
    can_export = False
    column_list = ("name", "prefix", "status", "created_at", "expires_at", "last_used_at",
                   "revoked_at")
    column_details_list = column_list
    column_searchable_list = ("name",)
    column_sortable_list = ("name", "created_at", "expires_at", "last_used_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_formatters = {"status": _status, "prefix": _prefix}
    column_formatters_detail = column_formatters
    column_labels = {"name": _l("Name"), "prefix": _l("Token starts with"),
                     "status": _l("Status"), "created_at": _l("Created"),
                     "expires_at": _l("Expires"), "last_used_at": _l("Last used"),
                     "revoked_at": _l("Revoked at")}
    column_descriptions = {"last_used_at": _l("Recorded at most once a minute.")}
    form_columns = ("name",)
    form_args = {"name": {"validators": [Length(max=100)],
                          "description": _l("What the token is for, e.g. the script "
                                            "that uses it.")}}

    def get_create_form(self):
        form_class = self.scaffold_form()
        form_class.expires_days = IntegerField(
            _l("Valid for (days)"),
            validators=[Optional(), NumberRange(min=1, max=MAX_DAYS)],
            description=_l("Empty: the token does not expire. At most %(max)d days.",
                           max=MAX_DAYS))
        return form_class

    def create_model(self, form):
        try:
            plaintext, token = create_token(current_user._get_current_object(),
                                            form.name.data or "",
                                            expiry_in(form.expires_days.data))
            db.session.commit()
        except Exception as exc:
            if not self.handle_view_exception(exc):
                raise
            return False
        g.setdefault(_NEW, plaintext)
        return token

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        response = super().create_view()
        plaintext = g.pop(_NEW, None)
        if plaintext is None:
            return response
        page = make_response(self.render(
            "admin/api_token_created.html", plaintext=plaintext, list_url=url_for(".index_view"),
            example_url=url_for("core_api.list_budget_items", _external=True)))
        page.headers["Cache-Control"] = "no-store"
        return page

    def is_action_allowed(self, name: str) -> bool:
        if name == "revoke":
            return self.can_edit
        return super().is_action_allowed(name)

    @action("revoke", _l("Revoke"),
            _l("Revoke the selected tokens? Scripts that use them stop working at once."))
    def action_revoke(self, ids):
        wanted = [int(i) for i in ids if str(i).isdigit()]
        rows = db.session.scalars(select(ApiToken).where(ApiToken.id.in_(wanted))).all()
        count = sum(revoke(token) for token in rows)
        db.session.commit()
        flash(ngettext("%(num)d token revoked.", "%(num)d tokens revoked.", count), "success")


def register(admin) -> None:
    admin.add_view(ApiTokenView(ApiToken, db, name=_l("My API tokens"), endpoint="api_token",
                                category=MORE))
