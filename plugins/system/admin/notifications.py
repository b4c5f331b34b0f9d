""""My notifications": each user's own messages, newest first, with "mark as read"."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import update
from werkzeug.exceptions import HTTPException
from wtforms import RadioField, StringField
from wtforms.validators import Length, Optional, Regexp

from core.extensions import db
from core.models import Notification, User
from core.services.notifications import mark_all_read, mark_read
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


def _inside(link: str | None) -> bool:
    return bool(link) and link.startswith("/") and not link.startswith("//")


def _link(view, context, model, name):
    if not _inside(model.link):
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for(".open", id=model.id), _l("Open"))


def _record_exists(link: str) -> bool:
    """Does the record a link opens (its page's ``id``) still exist for the reader? A link
    to a page that is not one record's is taken as it is."""
    parts = urlsplit(link)
    try:
        endpoint, _args = current_app.url_map.bind("").match(parts.path)
    except HTTPException:
        return False
    record_id = parse_qs(parts.query).get("id", [None])[0]
    admin = current_app.extensions["jixiao_admin"]
    view = next((v for v in admin._views if v.endpoint == endpoint.partition(".")[0]), None)
    if record_id is None or not hasattr(view, "get_one"):
        return True
    return view.get_one(record_id) is not None


class SettingsForm(FlaskForm):
    channel = RadioField(_l("Notify me"), choices=[("app", _l("In the app only")),
                                                   ("email", _l("In the app and by e-mail"))])
    email = StringField(_l("E-mail address"), validators=[Optional(), Length(max=200), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Not a valid e-mail address."))], filters=[lambda v: (v or "").strip()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.channel.data == "email" and not self.email.data:
            self.email.errors.append(_l("Give the address to send the e-mails to."))
            return False
        return ok


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

    list_template = "admin/notifications_list.html"

    def is_visible(self) -> bool:  # reached from the navigation bar's badge, not the menu
        return False

    @expose("/open/")
    def open(self):
        """Open a notification's record (and mark it read); a deleted record is said gone."""
        note = self.get_one(request.args.get("id", ""))
        if note is None or not _inside(note.link):
            abort(404)
        mark_read([note.id])
        db.session.commit()
        if not _record_exists(note.link):
            flash(_l("The record of this notification no longer exists: it was deleted."),
                  "warning")
            return redirect(url_for(".index_view"))
        return redirect(note.link)

    @expose("/read-all/", methods=["POST"])
    def read_all(self):
        count = mark_all_read(current_user.id)
        db.session.commit()
        flash(ngettext("%(num)d notification marked as read.",
                       "%(num)d notifications marked as read.", count), "success")
        return redirect(url_for(".index_view"))

    @expose("/settings/", methods=["GET", "POST"])
    def settings(self):
        """In the app only, or also by e-mail (to the address given here)."""
        form = SettingsForm(data={"channel": "email" if current_user.notify_by_email else "app",
                                  "email": current_user.email or ""})
        if form.validate_on_submit():
            # one UPDATE of the person's own row (an expert or agency user may not write
            # user rows through the ORM's scope check, yet its own choice is its own)
            db.session.execute(update(User).where(User.id == current_user.id).values(
                notify_by_email=form.channel.data == "email", email=form.email.data or None))
            db.session.commit()
            flash(_l("Saved."), "success")
            return redirect(url_for(".settings"))
        return self.render("admin/notification_settings.html", form=form,
                           mail_on=bool(current_app.config.get("MAIL_SERVER")))

    @action("mark_read", _l("Mark as read"))
    def action_mark_read(self, ids):
        count = mark_read(int(i) for i in ids if str(i).isdigit())
        db.session.commit()
        flash(ngettext("%(num)d notification marked as read.",
                       "%(num)d notifications marked as read.", count), "success")


def register(admin) -> None:
    admin.add_view(NotificationView(Notification, db, name=_l("My notifications"),
                                    endpoint="notification"))
