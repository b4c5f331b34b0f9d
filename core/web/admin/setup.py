"""Bind Flask-Admin to an app: theme, dashboard and the plugins' views."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.web.admin.base import DashboardView
from core.web.admin.breadcrumbs import breadcrumbs
from core.web.i18n import CORE_TRANSLATIONS
from core.web.security import csp_nonce

#: the last menu category: personal and secondary links (language, API tokens), so the
#: menu fits on one line
MORE = _l("More")


def init_admin(app: Flask, hooks) -> Admin:
    admin = Admin(
        app,
        name=_l("Jixiao performance management"),
        theme=Bootstrap4Theme(fluid=True),
        index_view=DashboardView(name=_l("Home"), url="/admin", template="admin/dashboard.html"),
        csp_nonce_generator=csp_nonce,
    )
    _add_admin_catalog()
    hooks.admin_views(admin=admin, db=db)
    _stage_order(admin, hooks.stages())
    admin.add_link(MenuLink(name="中文", url="/lang/zh_Hans_CN", category=MORE))
    admin.add_link(MenuLink(name="English", url="/lang/en", category=MORE))
    app.extensions["jixiao_admin"] = admin
    app.add_template_global(breadcrumbs)
    return admin


def _stage_order(admin: Admin, stages: dict) -> None:
    """Menu categories in stage order (事前 → 目标 → 监控 → 评价 → … → 机构, each plugin's
    ``jixiao_stage``); the home page first, every other entry after, as it was added, and
    "More" last."""
    order = {str(s.label): s.order for s in stages.values()}
    home = admin.index_view.name

    def key(item: tuple[int, object]) -> tuple[int, int]:
        position, entry = item
        name = str(entry.name)
        if name == str(home):
            return (-1, 0)
        return (2000, position) if name == str(MORE) else (order.get(name, 1000), position)

    admin._menu[:] = [entry for _i, entry in sorted(enumerate(admin._menu), key=key)]


def _add_admin_catalog() -> None:
    """Read our ``admin.po`` (core/translations) after Flask-Admin's own catalog.

    Flask-Admin 2.2 ships a Chinese admin.mo compiled before "Failed to create record." and
    "Failed to save record." were translated in its admin.po, so they flashed in English.
    ``Admin(translations_path=...)`` does not help reliably: Flask-Admin adds that directory
    only while one of its views runs, but its translation domain is one object per process
    that caches a locale's catalog on first use, so a lookup outside a view (the CSP hashes
    of core.web.security, at start-up) caches the catalog without ours for good. So the
    directory is added to the domain itself, last: where both translate a message, ours wins.
    """
    from flask_admin.babel import domain

    ours = str(CORE_TRANSLATIONS)
    directories = list(domain._translation_directories or [])
    if ours not in directories:
        domain._translation_directories = [*directories, ours]
        domain.cache.clear()
