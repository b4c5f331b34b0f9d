"""Daily reminder of overdue target sheets (job ``targets-overdue``).

For every open fiscal year whose targets deadline has passed, the active unit
and department users of each org unit get one notification a day with the
count of its sheets still in draft or returned for revision, and one with the
count of its budget items that need targets under the year's rule version
(``TargetRules.needs_targets``) but have no sheet at all. The core job claim
makes a day's run happen once, however often the job is fired.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, Role, StageDeadline, State, User
from core.permissions import BUDGET_UNITS
from core.services.notifications import notify_all
from core.services.scheduler import JobRegistry, JobRun
from plugins.targets.models import TargetSheet
from plugins.targets.rules import rules_for_year

JOB_NAME = "targets-overdue"
LINK = "/admin/targetsheet/"


def _overdue_sheets(today) -> list[tuple[int, int, int]]:
    """(org unit, year, count) of sheets in draft or returned past the deadline."""
    return [tuple(r) for r in db.session.execute(
        select(TargetSheet.org_unit_id, FiscalYear.year, func.count(TargetSheet.id))
        .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
        .join(StageDeadline, (StageDeadline.fiscal_year_id == FiscalYear.id)
              & (StageDeadline.stage == "targets"))
        .where(FiscalYear.status == "open", StageDeadline.due < today,
               TargetSheet.state.in_([State.DRAFT, State.RETURNED]))
        .group_by(TargetSheet.org_unit_id, FiscalYear.year))]


def _missing_sheets(today) -> list[tuple[int, int, int]]:
    """(org unit, year, count) of items that need targets but have no sheet past the deadline."""
    counts: dict[tuple[int, int], int] = {}
    for org_id, org_kind, year, kind, n in db.session.execute(
            select(BudgetItem.org_unit_id, OrgUnit.kind, FiscalYear.year, BudgetItem.kind,
                   func.count(BudgetItem.id))
            .join(OrgUnit, OrgUnit.id == BudgetItem.org_unit_id)
            .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
            .join(StageDeadline, (StageDeadline.fiscal_year_id == FiscalYear.id)
                  & (StageDeadline.stage == "targets"))
            .outerjoin(TargetSheet, TargetSheet.budget_item_id == BudgetItem.id)
            .where(FiscalYear.status == "open", StageDeadline.due < today,
                   TargetSheet.id.is_(None))
            .group_by(BudgetItem.org_unit_id, OrgUnit.kind, FiscalYear.year, BudgetItem.kind)):
        if rules_for_year(year).needs_targets(kind.value, org_kind.value):
            counts[(org_id, year)] = counts.get((org_id, year), 0) + n
    return [(org_id, year, n) for (org_id, year), n in sorted(counts.items())]


def overdue_reminders(run: JobRun) -> str:
    today = run.when.date()
    overdue, missing = _overdue_sheets(today), _missing_sheets(today)
    if not overdue and not missing:
        return "no overdue target sheets"
    users_by_org: dict[int, list[int]] = {}
    for user_id, org_id in db.session.execute(
            select(User.id, User.org_unit_id).join(Role, User.role_id == Role.id)
            .where(User.active, Role.name.in_(BUDGET_UNITS))):
        users_by_org.setdefault(org_id, []).append(user_id)
    sent = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for org_id, year, count in overdue:
            users = users_by_org.get(org_id, [])
            if users:
                notify_all(users, gettext("%(count)s target sheets of %(year)s are overdue",
                                          count=count, year=year),
                           gettext("Submit them for review as soon as possible."), link=LINK)
                sent += len(users)
        for org_id, year, count in missing:
            users = users_by_org.get(org_id, [])
            if users:
                notify_all(users, gettext("%(count)s budget items of %(year)s have no target "
                                          "sheet past the deadline", count=count, year=year),
                           gettext("Fill in their target sheets and submit them for review "
                                   "as soon as possible."), link=LINK)
                sent += len(users)
    return (f"{len(overdue)} org units with overdue sheets, {len(missing)} with items "
            f"lacking sheets, {sent} notifications")


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, overdue_reminders, trigger="cron", hour=8, minute=30,
                      period="daily")
