"""Daily reminder of overdue rectification tasks (job ``rectification-overdue``).

Every rectification task (整改) past its deadline and not yet reported done
(draft or returned) gets its org unit's active unit and department users one
notification a day with the count. The core job claim makes a day's run happen
once, however often the job is fired.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.models import Role, State, User
from core.permissions import BUDGET_UNITS
from core.services.notifications import notify_all
from core.services.scheduler import JobRegistry, JobRun
from plugins.evaluation.models import Rectification

JOB_NAME = "rectification-overdue"
LINK = "/admin/rectification/"


def overdue_reminders(run: JobRun) -> str:
    today = run.when.date()
    overdue = db.session.execute(
        select(Rectification.org_unit_id, func.count(Rectification.id))
        .where(Rectification.due_on < today,
               Rectification.state.in_([State.DRAFT, State.RETURNED]))
        .group_by(Rectification.org_unit_id)).all()
    if not overdue:
        return "no overdue rectification tasks"
    users_by_org: dict[int, list[int]] = {}
    for user_id, org_id in db.session.execute(
            select(User.id, User.org_unit_id).join(Role, User.role_id == Role.id)
            .where(User.active, Role.name.in_(BUDGET_UNITS))):
        users_by_org.setdefault(org_id, []).append(user_id)
    sent = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for org_id, count in overdue:
            users = users_by_org.get(org_id, [])
            if users:
                notify_all(users, gettext("%(count)s rectification tasks are overdue",
                                          count=count),
                           gettext("Report them done with their evidence as soon as possible."),
                           link=LINK)
                sent += len(users)
    return f"{len(overdue)} org units with overdue rectification tasks, {sent} notifications"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, overdue_reminders, trigger="cron", hour=8, minute=40,
                      period="daily")
