"""Daily reminders (job ``preassessment-reminders``).

For every open fiscal year whose pre-assessment deadline (stage
``pre_assessment``) has passed, the active unit and department users of each
org unit with missing pre-assessments get one notification with the count;
every expert with unsubmitted reviews of a pre-assessment that is not final
gets one too. The core job claim makes a day's run happen once.
"""

from __future__ import annotations

from collections import Counter

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.models import FiscalYear, Role, StageDeadline, User
from core.permissions import BUDGET_UNITS
from core.services.notifications import notify_all
from core.services.scheduler import JobRegistry, JobRun
from plugins.preassessment import service
from plugins.preassessment.models import ExpertReview, Preassessment

JOB_NAME = "preassessment-reminders"


def reminders(run: JobRun) -> str:
    today = run.when.date()
    years = db.session.scalars(
        select(FiscalYear.year).join(StageDeadline, StageDeadline.fiscal_year_id == FiscalYear.id)
        .where(FiscalYear.status == "open", StageDeadline.stage == "pre_assessment",
               StageDeadline.due < today)).all()
    missing: Counter[tuple[int, int]] = Counter()
    for year in years:
        for row in service.trigger_rows(year, only_missing=True):
            missing[(row.item.org_unit_id, year)] += 1
    users_by_org: dict[int, list[int]] = {}
    for user_id, org_id in db.session.execute(
            select(User.id, User.org_unit_id).join(Role, User.role_id == Role.id)
            .where(User.active, Role.name.in_(BUDGET_UNITS))):
        users_by_org.setdefault(org_id, []).append(user_id)
    pending = db.session.execute(
        select(ExpertReview.user_id, func.count(ExpertReview.id))
        .join(Preassessment, Preassessment.id == ExpertReview.preassessment_id)
        .where(ExpertReview.submitted_at.is_(None), Preassessment.final_at.is_(None))
        .group_by(ExpertReview.user_id)).all()
    sent = 0
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for (org_id, year), count in sorted(missing.items()):
            users = users_by_org.get(org_id, [])
            if users:
                notify_all(users, gettext("%(count)s budget items of %(year)s still lack a "
                                          "pre-assessment", count=count, year=year),
                           gettext("The deadline has passed: submit their self-assessments "
                                   "as soon as possible."),
                           link=f"/admin/preassessment-trigger/?year={year}&missing=1")
                sent += len(users)
        for user_id, count in pending:
            notify_all([user_id], gettext("%(count)s pre-assessments are waiting for your "
                                          "scores", count=count), "",
                       link="/admin/preassessment_review/")
            sent += 1
    return f"{len(missing)} org units with missing pre-assessments, {len(pending)} experts, " \
           f"{sent} notifications"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, reminders, trigger="cron", hour=8, minute=40, period="daily")
