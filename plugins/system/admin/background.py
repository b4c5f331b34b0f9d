""""My background jobs": the long actions a person started, each with a progress page.

The progress page asks ``/status/`` every 1.5 s and moves the bar; once the job
has ended it reloads and shows the summary or the reason it failed. A job of
someone else is not found (``BackgroundJob.scope_criteria``): 404.
"""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core.extensions import db
from core.services.background import STATUS_LABELS, BackgroundJob, progress_of
from core.web.admin.base import ScopedModelView


def percent(job: BackgroundJob) -> int:
    done, total = progress_of(job)
    if job.status == "done" and not total:
        return 100
    return min(100, done * 100 // total) if total else 0


def status(job: BackgroundJob) -> dict:
    done, total = progress_of(job)
    return {"status": job.status, "label": str(STATUS_LABELS[job.status]), "done": done,
            "total": total, "percent": percent(job), "finished": job.finished}


def _title(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(view.get_url(".progress", id=model.id),
                                                model.title)


class BackgroundJobView(ScopedModelView):
    """Only the person's own jobs; nothing to create, edit or delete."""

    permission = "background_job"
    read_only = True
    can_view_details = False
    can_export = False
    column_list = ("title", "status", "done", "created_at", "finished_at")
    column_sortable_list = ("created_at", "finished_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_formatters = {
        "title": _title,
        "status": lambda v, c, m, n: STATUS_LABELS[m.status],
        "done": lambda v, c, m, n: "{} / {}".format(*progress_of(m)),
    }
    column_labels = {"title": _l("Job"), "status": _l("Status"), "done": _l("Done / total"),
                     "created_at": _l("Started"), "finished_at": _l("Ended")}

    def _job(self) -> BackgroundJob:
        job = self.get_one(request.args.get("id", ""))
        if job is None:
            abort(404)
        return job

    @expose("/progress/")
    def progress(self):
        job = self._job()
        link = job.link if job.link.startswith("/") and not job.link.startswith("//") else ""
        return self.render("admin/background_job.html", job=job, state=status(job), link=link,
                           labels=STATUS_LABELS)

    @expose("/status/")
    def status(self):
        job = self._job()
        answer = jsonify(status(job))
        db.session.rollback()  # end the read: a long poll must not hold a snapshot
        return answer


def register(admin) -> None:
    admin.add_view(BackgroundJobView(BackgroundJob, db, name=_l("My background jobs"),
                                     endpoint="backgroundjob"))
