"""The system plugin: the core's own features, registered like every other plugin.

Users, roles, org units, fiscal years and budget items (admin, API), personal API
tokens, notifications, the plugins and jobs pages, deadline reminders, the core
demo data, the operator's commands and the home page's budget cards. It is
registered first (``core.plugins.BUILTIN_PLUGINS``) and cannot be disabled.
"""

from __future__ import annotations

from core.permissions import ADMINS, ALL_ROLES, FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: who may hold personal API tokens (the read-only viewer uses the web pages)
TOKEN_ROLES = tuple(r for r in ALL_ROLES if r != "viewer")


@hookimpl
def jixiao_permissions():
    return [
        *crud("org_unit", "Org units", view=(*STAFF, "viewer"), edit=FINANCE),
        *crud("user", "Users", view=ADMINS, edit=FINANCE),
        *crud("role", "Roles", view=FINANCE, edit=FINANCE),
        *crud("fiscal_year", "Fiscal years", view=(*STAFF, "viewer", "expert"), edit=FINANCE),
        *crud("budget_item", "Budget items", view=(*STAFF, "viewer"),
              edit=ADMINS),
        *crud("project", "Project library", view=(*STAFF, "viewer"), edit=ADMINS),
        Permission("audit_log.view", "Audit log: view", FINANCE),
        Permission("plugin.view", "Plugins: view", FINANCE),
        Permission("dashboard.view", "Dashboard", ALL_ROLES),
        Permission("attachment.view", "Attachments: download", ALL_ROLES),
        Permission("notification.view", "My notifications", ALL_ROLES),
        *crud("api_token", "My API tokens", view=TOKEN_ROLES, edit=TOKEN_ROLES),
        Permission("job_claim.view", "Scheduled jobs: view", FINANCE),
        Permission("background_job.view", "My background jobs", ALL_ROLES),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.system import workbench
    from plugins.system.admin import background, jobs, notifications, plugins_page, tokens
    from plugins.system.admin.views import register

    register(admin, db)
    workbench.register(admin)
    notifications.register(admin)
    tokens.register(admin)
    plugins_page.register(admin)
    jobs.register(admin, db)
    background.register(admin)


@hookimpl
def jixiao_blueprints(app):
    from flask import url_for

    from core.services.notifications import mail
    from plugins.system import workbench
    from plugins.system.attachments import bp as attachments_bp

    app.register_blueprint(attachments_bp)
    app.register_blueprint(workbench.bp)
    mail.init_app(app)
    app.add_template_global(workbench.nav, "workbench_nav")
    app.add_template_global(lambda: url_for("workbench.tasks_block"), "workbench_tasks_url")












@hookimpl
def jixiao_jobs(scheduler):
    from plugins.system import background, reminders

    reminders.register(scheduler)
    background.register(scheduler)


@hookimpl
def jixiao_workflow_transition(obj, new, user, action, comment, workflow):
    from plugins.system.workflow_notices import on_transition

    on_transition(obj, new, user, action, comment, workflow)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    cli="cli:register",
    api="api:blp",
    register_models="background",
    seed_demo="demo:seed_core",
    dashboard_widgets="widgets:core_widgets",
    evaluation_finalized="workflow_notices:on_finalized",
))
