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
def jixiao_register_models():
    from plugins.evaluation import models

    return models


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
def jixiao_admin_views(admin, db):
    from plugins.evaluation.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.evaluation.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_cli(group):
    from plugins.evaluation.cli import register

    register(group)


@hookimpl
def jixiao_jobs(scheduler):
    from plugins.evaluation.jobs import register

    register(scheduler)


@hookimpl
def jixiao_score_method(method):
    from plugins.evaluation.sheet import METHODS

    return METHODS.get(method)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.evaluation.demo import seed_evaluations

    seed_evaluations(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.evaluation.widgets import evaluation_widgets

    return evaluation_widgets(user)


@hookimpl
def jixiao_evaluation_results(year, item_ids, kinds):
    from plugins.evaluation.contracts import evaluation_results

    return evaluation_results(year, item_ids, kinds)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.evaluation.admin import CATEGORY

    return Stage("evaluation", CATEGORY, 40)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.evaluation.tasks import evaluation_tasks

    return evaluation_tasks(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.evaluation.panels import evaluation_panels

    return evaluation_panels(item)
