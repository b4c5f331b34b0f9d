""""My notifications": each user's own messages, newest first, with "mark as read"."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from core.extensions import db
from core.models import Notification
from core.services.notifications import mark_read
from core.web.admin.base import ScopedModelView


class ReadStateFilter(BaseSQLAFilter):
    """Unread or read (``read_at`` empty or set)."""

    def __init__(self, name, **kwargs):
        super().__init__(Notification.read_at, name,
                         options=(("unread", _l("Unread")), ("read", _l("Read"))), **kwargs)

    def apply(self, query, value, alias=None):
        column = Notification.read_at
        return query.filter(column.is_(None) if value == "unread" else column.is_not(None))

    def operation(self):
        return _l("is")


def _link(view, context, model, name):
    link = model.link or ""
    if not link.startswith("/") or link.startswith("//"):
        return ""
    return Markup('<a href="{}">{}</a>').format(link, _l("Open"))


class NotificationView(ScopedModelView):
    """Only the user's own rows (``Notification.scope_criteria``); nothing to create or edit."""

    permission = "notification"
    can_export = False
    column_list = ("title", "body", "link", "created_at", "read_at")
    column_details_list = ("title", "body", "link", "created_at", "read_at")
    column_searchable_list = ("title", "body")
    column_filters = (ReadStateFilter(_l("Status")),)
    column_sortable_list = ("title", "created_at", "read_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_formatters = {"link": _link}
    column_formatters_detail = {"link": _link}
    column_labels = {"title": _l("Title"), "body": _l("Message"), "link": _l("Link"),
                     "created_at": _l("Time"), "read_at": _l("Read at")}

    @action("mark_read", _l("Mark as read"))
    def action_mark_read(self, ids):
        count = mark_read(int(i) for i in ids if str(i).isdigit())
        db.session.commit()
        flash(ngettext("%(num)d notification marked as read.",
                       "%(num)d notifications marked as read.", count), "success")


def register(admin) -> None:
    admin.add_view(NotificationView(Notification, db, name=_l("My notifications"),
                                    endpoint="notification"))
