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

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: it publishes approved targets and evaluation results
DEMO_AFTER = ("system", "targets", "evaluation")


@hookimpl
def jixiao_config(config):
    config.setdefault("DISCLOSURE_RULE_VERSIONS", [])


@hookimpl
def jixiao_register_models():
    from plugins.disclosure import models

    return models


@hookimpl
def jixiao_permissions():
    return [
        *crud("publication", "Publications", view=(*STAFF, "viewer"), edit=STAFF),
        Permission("disclosure_result.view", "Evaluation results for disclosure: view",
                   (*ADMINS, "viewer")),
        Permission("disclosure_check.view", "Disclosure check: view", (*ADMINS, "viewer")),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.disclosure.admin import register

    register(admin, db)


@hookimpl
def jixiao_blueprints(app):
    from plugins.disclosure.public import bp

    app.register_blueprint(bp)


@hookimpl
def jixiao_api(api):
    from plugins.disclosure.api import blp

    api.register_blueprint(blp)


@hookimpl
def jixiao_workflow_transition(obj, old, new, user, action, comment):
    from plugins.disclosure.models import Publication
    from plugins.disclosure.service import on_transition

    if isinstance(obj, Publication):
        on_transition(obj, old, new)


@hookimpl
def jixiao_evaluation_finalized(evaluation):
    from plugins.disclosure.service import store_result

    store_result(evaluation)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.disclosure.demo import seed_disclosure

    seed_disclosure(session, rng, scale)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.disclosure.widgets import disclosure_widgets

    return disclosure_widgets(user)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.disclosure.admin import CATEGORY

    return Stage("disclosure", CATEGORY, 60)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.disclosure.tasks import disclosure_tasks

    return disclosure_tasks(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.disclosure.panels import disclosure_panels

    return disclosure_panels(item)
