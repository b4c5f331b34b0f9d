"""The "Plugins" page (System menu): what ``flask jixiao plugins`` prints, for the finance bureau."""

from __future__ import annotations

from flask_admin import expose
from flask_babel import lazy_gettext as _l

from core.plugins import hooks
from core.web.admin.base import ScopedPage


class PluginsPage(ScopedPage):
    """Every registered plugin with its source, module and hooks; then the disabled names."""

    permission = "plugin"

    @expose("/")
    def index(self):
        plugins = hooks()
        return self.render("admin/plugins.html", plugins=plugins.describe(),
                           disabled=plugins.disabled)


def register(admin) -> None:
    from plugins.system.admin.views import CAT_SYSTEM

    admin.add_view(PluginsPage(name=_l("Plugins"), category=CAT_SYSTEM, endpoint="plugins",
                               url="plugins"))
