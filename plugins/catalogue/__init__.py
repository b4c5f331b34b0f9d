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

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: coverage is caught up from the evaluation results
DEMO_AFTER = ("system", "evaluation")


@hookimpl
def jixiao_config(config):
    config.setdefault("CATALOGUE_RULE_VERSIONS", [])


@hookimpl
def jixiao_register_models():
    from plugins.catalogue import models

    return models


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
def jixiao_admin_views(admin, db):
    from plugins.catalogue.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.catalogue.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_evaluation_finalized(evaluation):
    from plugins.catalogue.service import record_coverage

    record_coverage(evaluation)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.catalogue.demo import seed_catalogues

    seed_catalogues(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.catalogue.widgets import catalogue_widgets

    return catalogue_widgets(user)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.catalogue.admin import CATEGORY

    return Stage("catalogue", CATEGORY, 50)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.catalogue.tasks import catalogue_tasks

    return catalogue_tasks(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.catalogue.panels import catalogue_panels

    return catalogue_panels(item)
