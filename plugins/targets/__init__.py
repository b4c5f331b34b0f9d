"""Targets plugin: performance targets (绩效目标) and the indicator library (指标库).

Budget units write a target sheet for each budget item (overall goal, then a
level 1 / level 2 / level 3 indicator tree); the department and then the
finance bureau review it through the core workflow. Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: preassessment and agencies only keep the seed's random draws in order
DEMO_AFTER = ("system", "preassessment", "agencies")


@hookimpl
def jixiao_add_hookspecs(pm):
    from plugins.targets import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def jixiao_config(config):
    config.setdefault("TARGET_RULE_VERSIONS", [])
    config.setdefault("TARGETS_IMPORT_MAX_ROWS", 100_000)
    config.setdefault("TARGETS_IMPORT_MAX_BYTES", 30 * 1024 * 1024)


@hookimpl
def jixiao_register_models():
    from plugins.targets import models

    return models


@hookimpl
def jixiao_permissions():
    return [
        *crud("target_sheet", "Target sheets", view=(*STAFF, "viewer"), edit=STAFF),
        *crud("indicator_template", "Indicator library", view=(*STAFF, "viewer", "expert"),
              edit=FINANCE),
        Permission("target_report.view", "Target coverage: view",
                   (*ADMINS, "viewer")),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.targets.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.targets.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_jobs(scheduler):
    from plugins.targets.jobs import register

    register(scheduler)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.targets.demo import seed_targets

    seed_targets(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.targets.widgets import target_widgets

    return target_widgets(user)


@hookimpl
def jixiao_approved_targets(year, item_ids):
    from plugins.targets.contracts import approved_targets

    return approved_targets(year, item_ids)


@hookimpl
def jixiao_approved_indicator_select(year):
    from plugins.targets.contracts import approved_indicator_select

    return approved_indicator_select(year)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.targets.admin import CATEGORY

    return Stage("targets", CATEGORY, 20)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.targets.tasks import target_tasks

    return target_tasks(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.targets.panels import target_panels

    return target_panels(item)
