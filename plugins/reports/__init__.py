"""Reports plugin (报告): the reports the finance bureau owes, made from the data.

The district's annual report on its performance management, shaped like the
bureau's 2021 report, with every figure linked to the list it counts; the package
that goes with the budget draft to the people's congress (the key projects'
targets) and the one with the final accounts (self-evaluation results and the key
evaluation reports). Each as a printable page and a Word document (python-docx).
Declares ``jixiao_report_figures`` (``hookspecs.py``), which the stage plugins answer;
reads the rest through ``core.contracts``. Imports only the core. See docs/reports.md.
"""

from __future__ import annotations

from core.permissions import FINANCE, Permission
from core.plugins import hookimpl


@hookimpl
def jixiao_add_hookspecs(pm):
    from plugins.reports import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def jixiao_config(config):
    # the amount from which a project or policy is a key project of the budget package
    config.setdefault("REPORTS_KEY_PROJECT_AMOUNT", "5000000.00")


@hookimpl
def jixiao_permissions():
    return [Permission("report.view", "Reports of the bureau: view", FINANCE)]


@hookimpl
def jixiao_admin_views(admin, db):
    from plugins.reports.admin import register

    register(admin, db)


@hookimpl
def jixiao_stage():
    from core.contracts import Stage
    from plugins.reports.admin import CATEGORY

    return Stage("reports", CATEGORY, 100)
