"""Catalogue plugin: the key evaluation catalogue (重点绩效评价目录) of each department.

Recurring projects of 10,000,000 yuan or more and key-task items are proposed by
the rules, the department adds wide-reaching, high-impact items, confirms, and
the finance bureau approves. A 5-year coverage plan gives every entry a year for
its department key evaluation; coverage updates when an evaluation is finalized
(``jixiao_evaluation_finalized``). Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: coverage is caught up from the evaluation results
DEMO_AFTER = ("system", "evaluation")


@hookimpl
def jixiao_config(config):
    config.setdefault("CATALOGUE_RULE_VERSIONS", [])




@hookimpl
def jixiao_permissions():
    return [
        *crud("catalogue", "Key evaluation catalogues", view=(*ADMINS, "viewer"), edit=ADMINS),
        *crud("catalogue_entry", "Catalogue items", view=(*ADMINS, "unit_user", "viewer"),
              edit=ADMINS),
        Permission("catalogue_report.view", "Catalogue coverage report: view",
                   (*ADMINS, "viewer")),
    ]












@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.catalogue.admin import CATEGORY

    return Stage("catalogue", CATEGORY, 50)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    evaluation_finalized="service:record_coverage",
    seed_demo="demo:seed_catalogues",
    dashboard_widgets="widgets:catalogue_widgets",
    tasks="tasks:catalogue_tasks",
    item_panels="panels:catalogue_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.catalogue.report_figures import report_figures

    return report_figures(year)
