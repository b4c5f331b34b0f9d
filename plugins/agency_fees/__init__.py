"""Agency fees plugin: fee schedules (收费标准), service-fee calculation (服务费用测算),
engagement quotes with finance approval of deviations, what-if and reconciliation.

Engagements are read through ``core.plugins.hooks().engagements`` (the agencies
plugin answers); without it the plugin still loads and shows no engagements.
Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, Permission, crud
from core.plugins import hookimpl

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: it quotes the agencies' demo engagements
DEMO_AFTER = ("system", "agencies")


@hookimpl
def jixiao_add_hookspecs(pm):
    from plugins.agency_fees import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def jixiao_config(config):
    #: hours of logged work that make one person-day (reconciliation)
    config.setdefault("FEE_HOURS_PER_DAY", 8)
    #: quoted person-days above logged ones by more than this per cent are flagged
    config.setdefault("FEE_OVERBILLING_PCT", 50)


@hookimpl
def jixiao_register_models():
    from plugins.agency_fees import models

    return models


@hookimpl
def jixiao_permissions():
    return [
        *crud("fee_schedule", "Fee schedules", view=(*ADMINS, "viewer"), edit=FINANCE),
        Permission("fee_schedule.activate", "Fee schedules: activate", FINANCE),
        # a stored quote is a record: made (and redone) on the quote page or through the
        # API, never edited as a row
        *crud("fee_quote", "Engagement quotes", view=(*ADMINS, "viewer"), edit=(),
              create=ADMINS),
        Permission("fee.quote", "Fee calculation", ADMINS),
    ]


@hookimpl(trylast=True)
def jixiao_fee_method(method):
    from plugins.agency_fees.calc import BUILTIN

    return BUILTIN.get(method)


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.agency_fees.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.agency_fees.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.agency_fees.demo import seed_fees

    seed_fees(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.agency_fees.widgets import fee_widgets

    return fee_widgets(user)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.agency_fees.admin import CATEGORY

    return Stage("agency_fees", CATEGORY, 80)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.agency_fees.tasks import tasks_for

    return tasks_for(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.agency_fees.panels import item_panels

    return item_panels(item)
