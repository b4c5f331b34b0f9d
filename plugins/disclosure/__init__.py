"""Disclosure plugin (信息公开): public pages and open data of performance information.

Targets of the items in the budget disclosure scope, policy targets chosen for
a pilot, and evaluation results are published item by item through an explicit
approval (core workflow); public pages (/disclosure, no login) and open-data
downloads (CSV, JSON, XLSX) show only the approved snapshot. The disclosure
check measures published results against each department's project
expenditure. Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: it publishes approved targets and evaluation results
DEMO_AFTER = ("system", "targets", "evaluation")


@hookimpl
def jixiao_config(config):
    config.setdefault("DISCLOSURE_RULE_VERSIONS", [])




@hookimpl
def jixiao_permissions():
    return [
        *crud("publication", "Publications", view=(*STAFF, "viewer"), edit=STAFF),
        Permission("disclosure_result.view", "Evaluation results for disclosure: view",
                   (*ADMINS, "viewer")),
        Permission("disclosure_check.view", "Disclosure check: view", (*ADMINS, "viewer")),
    ]








@hookimpl
def jixiao_workflow_transition(obj, old, new, user, action, comment):
    from plugins.disclosure.models import Publication
    from plugins.disclosure.service import on_transition

    if isinstance(obj, Publication):
        on_transition(obj, old, new)








@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.disclosure.admin import CATEGORY

    return Stage("disclosure", CATEGORY, 60)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    blueprints="public:bp",
    api="api:blp",
    evaluation_finalized="service:store_result",
    seed_demo="demo:seed_disclosure",
    dashboard_widgets="widgets:disclosure_widgets",
    tasks="tasks:disclosure_tasks",
    item_panels="panels:disclosure_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.disclosure.report_figures import report_figures

    return report_figures(year)
