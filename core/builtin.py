"""The core's own plugin: permissions, admin views, API, demo data and cards of the shared model.

Registered first (see ``core.plugins.BUILTIN_PLUGINS``) exactly like every other plugin.
"""

from __future__ import annotations

from core.permissions import ALL_ROLES, STAFF, Permission, crud
from core.plugins import hookimpl


@hookimpl
def jixiao_permissions():
    fin = ("finance_admin",)
    return [
        *crud("org_unit", "Org units", view=(*STAFF, "viewer"), edit=fin),
        *crud("user", "Users", view=("finance_admin", "dept_admin"), edit=fin),
        *crud("role", "Roles", view=fin, edit=fin),
        *crud("fiscal_year", "Fiscal years", view=(*STAFF, "viewer", "expert"), edit=fin),
        *crud("budget_item", "Budget items", view=(*STAFF, "viewer"),
              edit=("finance_admin", "dept_admin")),
        Permission("audit_log.view", "Audit log: view", fin),
        Permission("plugin.view", "Plugins: view", fin),
        Permission("dashboard.view", "Dashboard", ALL_ROLES),
        Permission("attachment.view", "Attachments: download", ALL_ROLES),
        Permission("notification.view", "My notifications", ALL_ROLES),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from core.admin import notifications, plugins_page
    from core.admin.views import register

    register(admin, db)
    notifications.register(admin)
    plugins_page.register(admin)


@hookimpl
def jixiao_blueprints(app):
    from core.attachments import bp as attachments_bp

    app.register_blueprint(attachments_bp)


@hookimpl
def jixiao_api(api):
    from core.api.core_routes import blp

    api.register_blueprint(blp)


@hookimpl(tryfirst=True)
def jixiao_seed_demo(session, rng, scale):
    from core.demo import seed_core

    seed_core(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from core.widgets import core_widgets

    return core_widgets(user)
