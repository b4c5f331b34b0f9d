"""Daily reminder of overdue target sheets (job ``targets-overdue``).

For every open fiscal year whose targets deadline has passed, the active unit
and department users of each org unit that still has sheets in draft or
returned for revision get one notification a day with the count.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.models import FiscalYear, Role, StageDeadline, State, User
from core.notifications import notify_all
from core.scheduler import JobRegistry, JobRun
from plugins.targets.models import TargetSheet

JOB_NAME = "targets-overdue"
LINK = "/admin/targetsheet/"


def overdue_reminders(run: JobRun) -> str:
    today = run.when.date()
    rows = db.session.execute(
        select(TargetSheet.org_unit_id, FiscalYear.year, func.count(TargetSheet.id))
        .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
        .join(StageDeadline, (StageDeadline.fiscal_year_id == FiscalYear.id)
              & (StageDeadline.stage == "targets"))
        .where(FiscalYear.status == "open", StageDeadline.due < today,
               TargetSheet.state.in_([State.DRAFT, State.RETURNED]))
        .group_by(TargetSheet.org_unit_id, FiscalYear.year)).all()
    if not rows:
        return "no overdue target sheets"
    users_by_org: dict[int, list[int]] = {}
    for user_id, org_id in db.session.execute(
            select(User.id, User.org_unit_id).join(Role, User.role_id == Role.id)
            .where(User.active, Role.name.in_(("unit_user", "dept_admin")))):
        users_by_org.setdefault(org_id, []).append(user_id)
    sent = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for org_id, year, count in rows:
            users = users_by_org.get(org_id, [])
            if users:
                notify_all(users, gettext("%(count)s target sheets of %(year)s are overdue",
                                          count=count, year=year),
                           gettext("Submit them for review as soon as possible."), link=LINK)
                sent += len(users)
    return f"{len(rows)} org units with overdue sheets, {sent} notifications"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, overdue_reminders, trigger="cron", hour=8, minute=30,
                      period="daily")
