"""Evaluation plugin: self-evaluation (单位自评), key evaluations (重点评价), re-evaluation
(再评价), result application (结果应用) and coverage.

Every budget item with approved targets gets a self-evaluation, created in bulk
from the targets (through ``core.contracts``, never the targets plugin itself);
the unit enters the year's actual values, the core scoring engine scores them
with the rule version's weights, the department's approval finalizes it. A
finalized evaluation makes a suggestion by grade for finance to decide, and is
announced through ``jixiao_evaluation_finalized``; ``jixiao_evaluation_results``
answers the other plugins. Imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: self-evaluations are created from approved targets
DEMO_AFTER = ("system", "targets")


@hookimpl
def jixiao_config(config):
    config.setdefault("EVALUATION_RULE_VERSIONS", [])
    config.setdefault("EVALUATION_SUGGESTIONS", {})
    config.setdefault("EVALUATION_REEVAL_GAP", "10")
    config.setdefault("EVALUATION_KEY_TEMPLATES", {})
    config.setdefault("EVALUATION_KEY_MIN_RESULTS_SHARE", "60")




@hookimpl
def jixiao_permissions():
    return [
        *crud("self_evaluation", "Self-evaluations", view=(*STAFF, "viewer"), edit=STAFF),
        *crud("key_evaluation", "Key evaluations", view=(*STAFF, "viewer", "expert"),
              edit=ADMINS),
        *crud("re_evaluation", "Re-evaluations", view=(*ADMINS, "viewer"),
              edit=FINANCE),
        *crud("evaluation_suggestion", "Result application",
              view=(*ADMINS, "viewer"), edit=FINANCE),
        *crud("rectification", "Rectification tasks", view=(*STAFF, "viewer"),
              edit=ADMINS),
        Permission("evaluation_report.view", "Self-evaluation coverage: view",
                   (*ADMINS, "viewer")),
    ]










@hookimpl
def jixiao_score_method(method):
    from plugins.evaluation.sheet import METHODS

    return METHODS.get(method)








@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.evaluation.admin import CATEGORY

    return Stage("evaluation", CATEGORY, 40)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    cli="cli:register",
    jobs="jobs:register",
    seed_demo="demo:seed_evaluations",
    dashboard_widgets="widgets:evaluation_widgets",
    evaluation_results="contracts:evaluation_results",
    tasks="tasks:evaluation_tasks",
    item_panels="panels:evaluation_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.evaluation.report_figures import report_figures

    return report_figures(year)
