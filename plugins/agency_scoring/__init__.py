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
from core.services.rooms import rooms

#: the plugins whose demo data comes first (plugins/system/demo_order.py):
#: it assesses the agencies' demo engagements
DEMO_AFTER = ("system", "agencies")
AGENCY = ("agency_user",)
READERS = (*ADMINS, "viewer", *AGENCY)


@hookimpl
def jixiao_config(config):
    config.setdefault("AGENCY_SCORING_RULE_VERSIONS", [])




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






@hookimpl(optionalhook=True)
def jixiao_engagement_closed(engagement):
    from plugins.agency_scoring.service import open_from

    open_from(engagement)


@hookimpl(optionalhook=True)
def jixiao_engagement_checks(engagement):
    from plugins.agency_scoring.rating import engagement_reasons

    return engagement_reasons(engagement)






@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.agency_scoring.admin import CATEGORY

    return Stage("agency_scoring", CATEGORY, 90)


# the hooks that only reach a room of this package (core/services/rooms.py)
globals().update(rooms(
    __name__,
    register_models="models",
    admin_views="admin:register",
    api="api:blp",
    dashboard_widgets="widgets:scoring_widgets",
    seed_demo="demo:seed_scoring",
    tasks="tasks:tasks_for",
    item_panels="panels:item_panels",
))


@hookimpl(optionalhook=True)
def jixiao_report_figures(year):
    """Declared by the reports plugin: this stage's figures of the annual report."""
    from plugins.agency_scoring.report_figures import report_figures

    return report_figures(year)
