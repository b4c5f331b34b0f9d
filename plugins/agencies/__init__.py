"""Agencies plugin: the third-party agency registry (第三方机构), engagements (委托),
conflict-of-interest checks (回避), the agency portal and work logs.

Agency user accounts are attached to one agency by ``agency_member``; the row
scope of this plugin's models reads it (see ``plugins.agencies.models``).
Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: preassessment only keeps the seed's random draws in order (the same data)
DEMO_AFTER = ("system", "preassessment")
AGENCY = ("agency_user",)


@hookimpl
def jixiao_add_hookspecs(pm):
    from plugins.agencies import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def jixiao_config(config):
    config.setdefault("AGENCY_CONFLICT_YEARS", 3)
    config.setdefault("AGENCY_WORKLOG_EDIT_DAYS", 7)
    config.setdefault("AGENCY_MAX_HOURS_PER_DAY", 24)




@hookimpl
def jixiao_permissions():
    return [
        *crud("agency", "Agencies", view=(*ADMINS, "viewer"), edit=FINANCE),
        *crud("agency_staff", "Agency staff", view=(*ADMINS, "viewer"), edit=FINANCE),
        *crud("agency_member", "Agency users", view=FINANCE, edit=FINANCE),
        *crud("engagement", "Engagements", view=(*ADMINS, "unit_user", "viewer", *AGENCY),
              edit=ADMINS),
        Permission("engagement.close", "Engagements: close", ADMINS),
        # the admin list of logs is read-only for everyone; agencies write in the portal/API
        *crud("work_log", "Work logs", view=(*ADMINS, "viewer", *AGENCY), edit=()),
        Permission("work_log.write", "Work logs: log own agency's work", AGENCY),
        Permission("agency_portal.view", "Agency portal", AGENCY),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.agencies.admin import register

    register(admin, db)
    from plugins.agencies.landing import portal_link

    admin.add_link(portal_link())


@hookimpl
def jixiao_blueprints(app):
    from plugins.agencies.landing import install
    from plugins.agencies.portal import bp

    app.register_blueprint(bp)
    install(app)




@hookimpl
def jixiao_engagement_checks(engagement):
    from plugins.agencies.rules import conflict_reasons

    return conflict_reasons(engagement)






@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.agencies.admin import CATEGORY

    return Stage("agencies", CATEGORY, 70)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    api="api:blp",
    seed_demo="demo:seed_agencies",
    dashboard_widgets="widgets:agency_widgets",
    tasks="tasks:tasks_for",
    item_panels="panels:item_panels",
    principal_agency="contracts:agency_of",
    principal_agency_column="contracts:agency_column",
    engagements="contracts:engagements",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.agencies.report_figures import report_figures

    return report_figures(year)
