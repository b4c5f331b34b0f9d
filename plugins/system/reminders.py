"""The core's scheduled job: remind departments and units of coming stage deadlines.

Daily (08:00 in the scheduler's timezone), for every stage deadline of an open
fiscal year that is exactly N days away, N in ``DEADLINE_REMINDER_DAYS``
(default 7 and 1), each active department administrator and unit user gets one
notification. The job runs once per day (``core.services.scheduler``), so nobody is
reminded twice for the same deadline and day; a day on which no scheduler ran
sends nothing (``flask jixiao jobs run deadline-reminders --period YYYY-MM-DD``
catches it up).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from core.extensions import db
from core.models import FiscalYear, Role, StageDeadline, User
from core.permissions import BUDGET_UNITS
from core.services.notifications import notify_all
from core.services.scheduler import JobRegistry, JobRun

JOB_NAME = "deadline-reminders"
LINK = "/admin/fiscalyear/"


def reminder_days() -> list[int]:
    return sorted({int(d) for d in current_app.config.get("DEADLINE_REMINDER_DAYS") or []})


def deadline_reminders(run: JobRun) -> str:
    """Notify departments and units of stage deadlines N days ahead."""
    from plugins.system.admin.views import STAGE_LABELS

    today = run.when.date()
    days = reminder_days()
    deadlines = db.session.scalars(
        select(StageDeadline).join(FiscalYear)
        .where(FiscalYear.status == "open",
               StageDeadline.due.in_([today + timedelta(days=d) for d in days]))
        .order_by(StageDeadline.due)).all()
    if not deadlines:
        return "no deadline due in " + ", ".join(map(str, days)) + " days"
    users = db.session.scalars(
        select(User.id).join(Role, User.role_id == Role.id)
        .where(User.active, User.org_unit_id.is_not(None), Role.name.in_(BUDGET_UNITS))
        .order_by(User.id)).all()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for deadline in deadlines:
            stage = str(STAGE_LABELS.get(deadline.stage, deadline.stage))
            left = (deadline.due - today).days
            title = f"{deadline.fiscal_year} " + gettext(
                "%(stage)s, in %(days)s days", stage=stage, days=left)
            notify_all(users, title, gettext("Due on %(date)s.", date=deadline.due.isoformat()),
                       link=LINK)
    return f"{len(deadlines)} deadlines, {len(users)} users each"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, deadline_reminders, trigger="cron", hour=8, minute=0,
                      period="daily")
