"""The "Plugins" page (System menu): what ``flask jixiao plugins`` prints, for the finance bureau."""

from __future__ import annotations

from flask import current_app
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from core.admin.base import ScopedPage
from core.plugins import describe, disabled


class PluginsPage(ScopedPage):
    """Every registered plugin with its source, module and hooks; then the disabled names."""

    permission = "plugin"

    @expose("/")
    def index(self):
        pm = current_app.extensions["jixiao_plugins"]
        return self.render("admin/plugins.html", plugins=describe(pm), disabled=disabled(pm))


def register(admin) -> None:
    from core.admin.views import CAT_SYSTEM

    admin.add_view(PluginsPage(name=_l("Plugins"), category=CAT_SYSTEM, endpoint="plugins",
                               url="plugins"))
