"""Pre-assessment plugin: 事前绩效评估 of new major policies and key projects.

Finds the items that need a pre-assessment, takes the department's
self-assessment (scored on a configurable indicator sheet with the core
scoring engine), lets the finance bureau pick key items for an independent
expert panel, records the conclusion with the recommended amount for next
year's budget, and writes the report. Imports only the core.
"""

from __future__ import annotations

from core.permissions import FINANCE, STAFF, Permission, crud
from core.plugins import hookimpl
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: its org tree, users, years and items
DEMO_AFTER = ("system",)


@hookimpl
def jixiao_config(config):
    config.setdefault("PREASSESSMENT_RULE_VERSIONS", [])




@hookimpl
def jixiao_permissions():
    return [
        *crud("preassessment", "Pre-assessments", view=(*STAFF, "viewer"), edit=STAFF),
        Permission("preassessment.decide", "Pre-assessments: key selection, expert panels "
                   "and conclusions", FINANCE),
        Permission("preassessment_report.view", "Pre-assessments: trigger list and budget "
                   "recommendations", (*STAFF, "viewer")),
        # reviews are created by the bureau's panel page and scored by the expert
        *crud("preassessment_review", "Expert reviews", view=(*FINANCE, "expert"), edit=()),
        Permission("preassessment_review.score", "Expert reviews: score as a panel expert",
                   ("expert",)),
    ]


@hookimpl
def jixiao_score_method(method):
    from plugins.preassessment.rules import POINTS_METHOD, points_method

    return points_method if method == POINTS_METHOD else None














@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.preassessment.admin import CATEGORY

    return Stage("preassessment", CATEGORY, 10)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    seed_demo="demo:seed_preassessments",
    dashboard_widgets="widgets:preassessment_widgets",
    preassessment_conclusions="contracts:conclusions",
    jobs="jobs:register",
    tasks="tasks:preassessment_tasks",
    item_panels="panels:preassessment_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.preassessment.report_figures import report_figures

    return report_figures(year)
