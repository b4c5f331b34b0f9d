"""Agency fees plugin: fee schedules (收费标准), service-fee calculation (服务费用测算),
engagement quotes with finance approval of deviations, what-if and reconciliation.

Engagements are read through ``core.plugins.hooks().engagements`` (the agencies
plugin answers); without it the plugin still loads and shows no engagements.
Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

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
def jixiao_stage():
    from core.contracts import Stage
    from plugins.agency_fees.admin import CATEGORY

    return Stage("agency_fees", CATEGORY, 80)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    seed_demo="demo:seed_fees",
    dashboard_widgets="widgets:fee_widgets",
    tasks="tasks:tasks_for",
    item_panels="panels:item_panels",
))
