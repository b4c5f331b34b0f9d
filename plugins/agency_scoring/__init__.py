"""Agency scoring plugin: assessment of third-party agencies (第三方机构考核).

Every closed engagement gets an assessment for its commissioning party
(``jixiao_engagement_closed``); the finance bureau may spot-check (抽查) the
report; agencies may appeal (申诉); the scores make an annual rating (年度评级)
whose consequences decide eligibility, which the agencies plugin's approval
check asks through ``jixiao_engagement_checks``. Reads engagements only through
``core.contracts``; imports only the core.
"""

from __future__ import annotations

from core.permissions import ADMINS, FINANCE, Permission, crud
from core.plugins import hookimpl

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: it assesses the agencies' demo engagements
DEMO_AFTER = ("system", "agencies")
AGENCY = ("agency_user",)
READERS = (*ADMINS, "viewer", *AGENCY)


@hookimpl
def jixiao_config(config):
    config.setdefault("AGENCY_SCORING_RULE_VERSIONS", [])


@hookimpl
def jixiao_register_models():
    from plugins.agency_scoring import models

    return models


@hookimpl
def jixiao_permissions():
    # lists are read-only in the admin; the work happens on the pages and API named below
    return [
        *crud("agency_assessment", "Agency assessments", view=READERS, edit=()),
        Permission("agency_assessment.score", "Agency assessments: score as commissioning "
                   "party", ADMINS),
        Permission("agency_assessment.spot_check", "Agency assessments: spot-check", FINANCE),
        *crud("agency_appeal", "Agency appeals", view=READERS, edit=()),
        Permission("agency_appeal.file", "Agency appeals: file", AGENCY),
        Permission("agency_appeal.decide", "Agency appeals: decide", FINANCE),
        *crud("agency_rating", "Agency ratings", view=READERS, edit=()),
        Permission("agency_rating.manage", "Agency ratings: compute and publish", FINANCE),
        *crud("agency_restriction", "Agency restrictions", view=READERS, edit=FINANCE),
    ]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.agency_scoring.admin import register

    register(admin, db)


@hookimpl
def jixiao_api(api):
    from plugins.agency_scoring.api import blp

    api.register_blueprint(blp)


@hookimpl(optionalhook=True)
def jixiao_engagement_closed(engagement):
    from plugins.agency_scoring.service import open_from

    open_from(engagement)


@hookimpl(optionalhook=True)
def jixiao_engagement_checks(engagement):
    from plugins.agency_scoring.rating import engagement_reasons

    return engagement_reasons(engagement)


@hookimpl
def jixiao_dashboard_widgets(user):
    from plugins.agency_scoring.widgets import scoring_widgets

    return scoring_widgets(user)


@hookimpl
def jixiao_seed_demo(session, rng, scale):
    from plugins.agency_scoring.demo import seed_scoring

    seed_scoring(session, rng, scale)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.agency_scoring.admin import CATEGORY

    return Stage("agency_scoring", CATEGORY, 90)


@hookimpl
def jixiao_tasks(principal, year):
    from plugins.agency_scoring.tasks import tasks_for

    return tasks_for(principal, year)


@hookimpl
def jixiao_item_panels(item):
    from plugins.agency_scoring.panels import item_panels

    return item_panels(item)
