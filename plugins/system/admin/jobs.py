"""The "Scheduled jobs" page (System menu): the job claims, read-only, for the finance bureau.

Each row is one job's run for one period (``core.services.scheduler``): who ran it,
when, and whether it finished or failed (with the error). Nothing here can be
changed; a failed period is run again with ``flask jixiao jobs run NAME --period P``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.models import JobClaim
from core.web.admin.base import ScopedModelView

JOB_STATUS = [("running", _l("Running")), ("finished", _l("Finished")), ("failed", _l("Failed"))]


class JobClaimView(ScopedModelView):
    read_only = True
    permission = "job_claim"
    simple_list_pager = True  # one row per job and period: the table only grows
    column_list = ("job", "period", "status", "claimed_by", "claimed_at", "finished_at")
    column_details_list = ("job", "period", "status", "claimed_by", "claimed_at",
                           "finished_at", "detail")
    column_searchable_list = ("job", "period")
    column_filters = ("job", "status", "claimed_at")
    column_choices = {"status": JOB_STATUS}
    column_sortable_list = ("job", "period", "claimed_at", "finished_at")
    column_default_sort = [("claimed_at", True), ("id", True)]
    column_labels = {"job": _l("Job"), "period": _l("Period"), "status": _l("Status"),
                     "claimed_by": _l("Run by"), "claimed_at": _l("Started"),
                     "finished_at": _l("Ended"), "detail": _l("Result")}


def register(admin, db) -> None:
    from plugins.system.admin.views import CAT_SYSTEM

    admin.add_view(JobClaimView(JobClaim, db, name=_l("Scheduled jobs"), category=CAT_SYSTEM,
                                endpoint="jobclaim"))
