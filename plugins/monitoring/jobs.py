"""Scheduled jobs: open rounds on the configured days, remind units of reports due and overdue.

``monitoring-open-rounds`` (daily 06:00): for each entry of ``MONITORING_SCHEDULE``
whose ``open`` day (MM-DD) is today, opens the round of the open fiscal year
for ``start`` – ``cutoff`` with reports due on ``due``, unless it exists.
``monitoring-reminders`` (daily 08:15): for every round still open, the unit
and department users whose records are not yet submitted get one notification
when the due date is N days away (N in ``MONITORING_REMINDER_DAYS``) and one
each day once it is past. The core's job claim makes each day's run happen once.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.models import FiscalYear, Role, State, User
from core.permissions import BUDGET_UNITS
from core.services.notifications import notify_all
from core.services.scheduler import JobRegistry, JobRun
from plugins.monitoring import service
from plugins.monitoring.models import MonitoringRecord, MonitoringRound

LINK = "/admin/monitoringrecord/"


def _day(year: int, month_day: str) -> date:
    month, day = (int(p) for p in month_day.split("-"))
    return date(year, month, day)


def open_scheduled_rounds(run: JobRun) -> str:
    """Open the rounds that the schedule opens today."""
    today = run.when.date()
    opened = []
    year = db.session.scalar(select(FiscalYear).where(FiscalYear.status == "open",
                                                      FiscalYear.year == today.year))
    if year is None:
        return f"no open fiscal year {today.year}"
    for entry in current_app.config.get("MONITORING_SCHEDULE") or []:
        if _day(today.year, entry["open"]) != today:
            continue
        cutoff = _day(today.year, entry["cutoff"])
        if db.session.scalar(select(MonitoringRound.id).where(
                MonitoringRound.fiscal_year_id == year.id, MonitoringRound.cutoff == cutoff)):
            continue
        start = _day(today.year, entry["start"])
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            name = gettext("%(year)s monitoring round %(start)s – %(cutoff)s", year=year.year,
                           start=start.strftime("%m-%d"), cutoff=cutoff.strftime("%m-%d"))
        rnd = service.new_round(year, name, start, cutoff, _day(today.year, entry["due"]))
        opened.append(f"{rnd.name}: {service.open_round(rnd)} records")
    return "; ".join(opened) or "nothing to open today"


def due_reminders(run: JobRun) -> str:
    """Remind units of monitoring reports due soon or overdue."""
    today = run.when.date()
    days = {int(d) for d in current_app.config.get("MONITORING_REMINDER_DAYS") or []}
    rounds = [r for r in db.session.scalars(select(MonitoringRound).where(
        MonitoringRound.closed_at.is_(None))) if (r.due - today).days in days or r.due < today]
    if not rounds:
        return "no round due"
    users_by_org: dict[int, list[int]] = {}
    for user_id, org_id in db.session.execute(
            select(User.id, User.org_unit_id).join(Role, User.role_id == Role.id)
            .where(User.active, Role.name.in_(BUDGET_UNITS))):
        users_by_org.setdefault(org_id, []).append(user_id)
    sent = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for rnd in rounds:
            late = rnd.due < today
            for org_id, count in db.session.execute(
                    select(MonitoringRecord.org_unit_id, func.count(MonitoringRecord.id))
                    .where(MonitoringRecord.round_id == rnd.id,
                           MonitoringRecord.state.in_([State.DRAFT, State.RETURNED]))
                    .group_by(MonitoringRecord.org_unit_id)):
                users = users_by_org.get(org_id, [])
                if not users:
                    continue
                if late:
                    title = gettext("%(count)s monitoring reports of %(round)s are overdue",
                                    count=count, round=rnd.name)
                else:
                    title = gettext("%(count)s monitoring reports of %(round)s are due in "
                                    "%(days)s days", count=count, round=rnd.name,
                                    days=(rnd.due - today).days)
                notify_all(users, title, gettext("Due on %(date)s.", date=rnd.due.isoformat()),
                           link=LINK)
                sent += len(users)
    return f"{len(rounds)} rounds, {sent} notifications"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job("monitoring-open-rounds", open_scheduled_rounds, trigger="cron", hour=6,
                      minute=0, period="daily")
    scheduler.add_job("monitoring-reminders", due_reminders, trigger="cron", hour=8, minute=15,
                      period="daily")
