"""Bind Flask-Admin to an app: theme, dashboard and the plugins' views."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.menu import MenuLink
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from core.admin.base import DashboardView
from core.extensions import db
from core.security import csp_nonce


def init_admin(app: Flask, pm) -> Admin:
    admin = Admin(
        app,
        name=_l("Jixiao performance management"),
        theme=Bootstrap4Theme(fluid=True),
        index_view=DashboardView(name=_l("Home"), url="/admin", template="admin/dashboard.html"),
        csp_nonce_generator=csp_nonce,
    )
    pm.hook.jixiao_admin_views(admin=admin, db=db)
    admin.add_link(MenuLink(name="中文", url="/lang/zh_Hans_CN", category=_l("Language")))
    admin.add_link(MenuLink(name="English", url="/lang/en", category=_l("Language")))
    app.extensions["jixiao_admin"] = admin
    return admin
