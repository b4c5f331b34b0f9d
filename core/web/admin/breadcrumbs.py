"""The breadcrumbs above every admin page — 首页 › stage (menu category) › list › record —
read from the menu, so no page builds its own (``admin/master.html`` shows them)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_admin.babel import gettext as admin_gettext
from flask_babel import gettext as _


def _category(view: Any) -> str | None:
    for entry in view.admin.menu():
        if entry.is_category() and any(getattr(child, "_view", None) is view
                                       for child in entry.get_children()):
            return str(entry.name)
    return None


def _record(view: Any) -> str | None:
    """The record a page of ``view`` shows (its ``id`` argument, read under the scope)."""
    if request.endpoint == f"{view.endpoint}.create_view":
        return admin_gettext("Create")
    record_id = request.args.get("id")
    if not record_id or not hasattr(view, "get_one"):
        return None
    record = view.get_one(record_id)
    if record is None:
        return None
    text = str(record)
    return text if not text.startswith("<") else _("Record %(id)s", id=record_id)


def breadcrumbs(view: Any) -> list[tuple[str, str | None]]:
    """``(words, link)`` from the home page to the page of ``view`` being shown (the home
    page itself has none); the last one, the page itself, has no link."""
    admin = getattr(view, "admin", None)
    if admin is None or view is admin.index_view:
        return []
    trail: list[tuple[str, str | None]] = [(str(admin.index_view.name), admin.index_view.url)]
    category = _category(view)
    if category:
        trail.append((category, None))
    default = f"{view.endpoint}.{view._default_view}"
    record = _record(view) if request.endpoint != default else None
    trail.append((str(view.name), view.get_url(default) if record else None))
    if record:
        trail.append((record, None))
    return trail
