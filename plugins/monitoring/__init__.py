"""Monitoring plugin: execution monitoring (绩效运行监控, "双监控").

The finance bureau opens a round for a cut-off date; every budget item with
approved targets (read through ``core.contracts``) gets a record in which its
unit reports spending to date and the progress of each target indicator.
Warning lights, corrective decisions on red items, coverage, an Excel import
of spending and dashboard charts follow. Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: rounds are opened on approved targets
DEMO_AFTER = ("system", "targets")


@hookimpl
def jixiao_config(config):
    from plugins.monitoring.figures import DEFAULT_LIGHTS

    config.setdefault("MONITORING_LIGHTS", dict(DEFAULT_LIGHTS))
    #: rounds the scheduler opens: on "open" (MM-DD) of the open fiscal year, for the
    #: period "start" – "cutoff", reports due on "due" (the national August round)
    config.setdefault("MONITORING_SCHEDULE", [
        {"open": "08-01", "start": "01-01", "cutoff": "07-31", "due": "08-31"}])
    config.setdefault("MONITORING_REMINDER_DAYS", [7, 1])




@hookimpl
def jixiao_permissions():
    return [
        *crud("monitoring_round", "Monitoring rounds", view=(*STAFF, "viewer"), edit=FINANCE),
        # records are made by opening a round and go with it; decisions are made on the
        # record page of a red item
        *crud("monitoring_record", "Monitoring records", view=(*STAFF, "viewer"), edit=STAFF,
              create=(), delete=()),
        *crud("corrective_decision", "Corrective decisions", view=(*STAFF, "viewer"), edit=FINANCE,
              create=()),
        Permission("monitoring_report.view", "Monitoring coverage: view",
                   (*ADMINS, "viewer")),
    ]












@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.monitoring.admin import CATEGORY

    return Stage("monitoring", CATEGORY, 30)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    jobs="jobs:register",
    seed_demo="demo:seed_monitoring",
    dashboard_widgets="widgets:monitoring_widgets",
    tasks="tasks:monitoring_tasks",
    item_panels="panels:monitoring_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.monitoring.report_figures import report_figures

    return report_figures(year)
