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
def jixiao_register_models():
    from plugins.monitoring import models

    return models


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
def jixiao_admin_views(admin, db):
    from plugins.monitoring.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.monitoring.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_jobs(scheduler):
    from plugins.monitoring.jobs import register

    register(scheduler)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.monitoring.demo import seed_monitoring

    seed_monitoring(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.monitoring.widgets import monitoring_widgets

    return monitoring_widgets(user)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.monitoring.admin import CATEGORY

    return Stage("monitoring", CATEGORY, 30)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.monitoring.tasks import monitoring_tasks

    return monitoring_tasks(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.monitoring.panels import monitoring_panels

    return monitoring_panels(item)
