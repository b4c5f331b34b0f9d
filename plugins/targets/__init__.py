"""Targets plugin: performance targets (绩效目标) and the indicator library (指标库).

Budget units write a target sheet for each budget item (overall goal, then a
level 1 / level 2 / level 3 indicator tree); the department and then the
finance bureau review it through the core workflow. Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

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
def jixiao_permissions():
    return [
        *crud("target_sheet", "Target sheets", view=(*STAFF, "viewer"), edit=STAFF),
        *crud("indicator_template", "Indicator library", view=(*STAFF, "viewer", "expert"),
              edit=FINANCE),
        Permission("target_report.view", "Target coverage: view",
                   (*ADMINS, "viewer")),
    ]
















@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.targets.admin import CATEGORY

    return Stage("targets", CATEGORY, 20)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    jobs="jobs:register",
    seed_demo="demo:seed_targets",
    dashboard_widgets="widgets:target_widgets",
    approved_targets="contracts:approved_targets",
    approved_indicator_select="contracts:approved_indicator_select",
    tasks="tasks:target_tasks",
    item_panels="panels:target_panels",
    year_opened="carry:carry_sheets",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.targets.report_figures import report_figures

    return report_figures(year)
