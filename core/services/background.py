"""Long actions as background jobs: started by a person, run once, watched with a progress bar.

A plugin turns a long action (create a year's self-evaluations, prepare publications,
compute a rating…) into a job with :func:`start`: it stores a ``BackgroundJob`` row
(queued) and runs it in a thread of the web worker that was asked. The job's
function is named by its import path, so any process can run it: the scheduler
process picks up jobs still queued after ``BACKGROUND_PICKUP_SECONDS`` (a worker
that stopped before its thread began), through the system plugin's job
``background-jobs``, which also marks failed a running job whose progress stood
still for ``BACKGROUND_STALL_SECONDS`` (its process stopped: :func:`fail_stalled`).

- **Once**: :func:`run` first *claims* the job with one conditional UPDATE
  (queued → running); of several processes only the one whose UPDATE matched runs it.
- **All or nothing**: the work runs in one transaction, committed together with the
  "done" mark and the summary; on an error everything is rolled back and the reason
  is stored in words (``error``).
- **Progress** goes around that open transaction (see :class:`Progress`), so other
  requests and workers read it while the work runs.
- **As the person**: the work runs in a request context with the owner logged in, so
  row scope and the audit log see the person who started it.
"""

from __future__ import annotations

import importlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import User, utcnow
from core.services.scheduler import worker_id

log = logging.getLogger("jixiao.background")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_LABELS = {QUEUED: _l("Waiting to start"), RUNNING: _l("Running"), DONE: _l("Finished"),
                 FAILED: _l("Failed")}
#: the fewest seconds between two progress writes (the page asks every 1.5 s)
WRITE_EVERY = 0.5


class BackgroundJob(db.Model):
    """One long action a person started, with how far it got and how it ended."""

    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    func: Mapped[str] = mapped_column(String(200))
    params: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default=QUEUED, index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: when the progress last moved (PostgreSQL; on SQLite the progress file keeps it)
    progress_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @classmethod
    def scope_criteria(cls, principal):
        """Everyone, the finance bureau included, sees only the jobs they started."""
        return cls.owner_id == principal.user_id

    def scope_allows(self, principal) -> bool:
        return self.owner_id == principal.user_id

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    def __str__(self) -> str:
        return self.title


# --- progress ---------------------------------------------------------------------------

class _RowStore:
    """PostgreSQL: the job's row, written through a connection of its own (autocommit)."""

    def __init__(self) -> None:
        self._conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def write(self, job_id: int, done: int, total: int) -> None:
        self._conn.execute(update(BackgroundJob.__table__).where(
            BackgroundJob.__table__.c.id == job_id).values(done=done, total=total,
                                                            progress_at=utcnow()))

    def close(self, job_id: int) -> None:
        self._conn.close()


class _SidecarStore:
    """SQLite: a small second database file next to the main one (``<file>-progress``).

    The work transaction holds the main file's write lock until it ends, so a second
    writer there would wait (and fail after the busy timeout); this file has a lock
    of its own. See docs/architecture.md, "Background jobs".
    """

    def __init__(self) -> None:
        self._conn = sqlite3.connect(_sidecar_path(), timeout=10, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=OFF")  # progress may be lost in a crash
        self._conn.execute("CREATE TABLE IF NOT EXISTS job_progress (job_id INTEGER PRIMARY "
                           "KEY, done INTEGER NOT NULL, total INTEGER NOT NULL, at TEXT NOT NULL)")

    def write(self, job_id: int, done: int, total: int) -> None:
        self._conn.execute("INSERT OR REPLACE INTO job_progress VALUES (?, ?, ?, ?)",
                           (job_id, done, total, utcnow().isoformat()))

    def read(self, job_id: int) -> tuple[int, int] | None:
        found = self.read_at(job_id)
        return None if found is None else found[:2]

    def read_at(self, job_id: int) -> tuple[int, int, datetime] | None:
        """``(done, total, when it was written)``, None before the first write."""
        row = self._conn.execute("SELECT done, total, at FROM job_progress WHERE job_id = ?",
                                 (job_id,)).fetchone()
        return None if row is None else (row[0], row[1], datetime.fromisoformat(row[2]))

    def close(self, job_id: int) -> None:
        self._conn.execute("DELETE FROM job_progress WHERE job_id = ?", (job_id,))
        self._conn.close()


def _sidecar_path() -> str:
    return f"{db.engine.url.database}-progress"


def _store() -> _RowStore | _SidecarStore:
    return _SidecarStore() if db.engine.dialect.name == "sqlite" else _RowStore()


class Progress:
    """What a job's function is given: call ``progress(done, total)`` as it works.

    Written at most every ``WRITE_EVERY`` seconds (and at the last step), outside
    the work's transaction, so the progress page sees it at once.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id, self.done, self.total = job_id, 0, 0
        self._last = 0.0
        self._store = _store()

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self._last >= WRITE_EVERY or self.done >= self.total:
            self._store.write(self.job_id, self.done, self.total)
            self._last = now

    def close(self) -> None:
        self._store.close(self.job_id)


def _latest(job: BackgroundJob) -> tuple[int, int, datetime | None]:
    """``(done, total, when the progress last moved)`` of ``job``, wherever it is kept."""
    if job.status == RUNNING and db.engine.dialect.name == "sqlite":
        store = _SidecarStore()
        try:
            found = store.read_at(job.id)
        finally:
            store._conn.close()
        if found is not None:
            return found
    return job.done, job.total, job.progress_at


def progress_of(job: BackgroundJob) -> tuple[int, int]:
    """``(done, total)`` of ``job`` as of now, also while it runs in another process."""
    done, total, _at = _latest(job)
    return done, total


# --- starting ----------------------------------------------------------------------------

def enqueue(kind: str, title: str, func: Callable[..., str], owner_id: int,
            params: dict[str, Any] | None = None, *, link: str = "") -> BackgroundJob:
    """Store a queued job (committed); ``func(progress, **params)`` returns the summary.

    ``func`` must be a module-level function (it is stored by its import path) and
    ``params`` plain JSON values.
    """
    job = BackgroundJob(kind=kind, title=title, owner_id=owner_id,
                        func=f"{func.__module__}:{func.__qualname__}",
                        params=json.dumps(params or {}, sort_keys=True), link=link, status=QUEUED)
    db.session.add(job)
    db.session.commit()
    return job


def start(kind: str, title: str, func: Callable[..., str], owner_id: int,
          params: dict[str, Any] | None = None, *, link: str = "") -> BackgroundJob:
    """Queue a job and run it now in a thread of this process; returns the job."""
    job = enqueue(kind, title, func, owner_id, params, link=link)
    app = current_app._get_current_object()
    threading.Thread(target=run, args=(app, job.id), name=f"jixiao-job-{job.id}").start()
    return job


# --- running -----------------------------------------------------------------------------

def _claim(job_id: int) -> bool:
    """queued → running in one conditional UPDATE: True for the one process that matched."""
    taken = db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id == job_id, BackgroundJob.status == QUEUED)
        .values(status=RUNNING, started_at=utcnow(), progress_at=utcnow(), worker=worker_id())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return taken == 1


def _function(path: str) -> Callable[..., str]:
    module, _sep, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def reason(exc: BaseException) -> str:
    """The reason of a failure in words: a refusal's own message, else a general one."""
    if isinstance(exc, ValueError | PermissionError) and str(exc):
        return str(exc)
    return _("An unexpected error stopped the job (%(kind)s); nothing was changed. "
             "Tell the system administrator.", kind=type(exc).__name__)


def run(app, job_id: int) -> bool:
    """Run job ``job_id`` if it is still queued; False when another process has it."""
    with app.app_context():
        try:
            if not _claim(job_id):
                return False
            job = db.session.get(BackgroundJob, job_id)
            owner = db.session.get(User, job.owner_id)
            with app.test_request_context():
                g._login_user = owner  # as in the API: scope and audit see the owner
                _work(job)
            return True
        finally:
            db.session.remove()


def _work(job: BackgroundJob) -> None:
    progress = Progress(job.id)
    try:
        summary = _function(job.func)(progress, **json.loads(job.params))
        job.status, job.summary = DONE, str(summary or "")
        job.done, job.total = progress.done, progress.total
        job.finished_at = utcnow()
        db.session.commit()  # the work and the "done" mark together
    except Exception as exc:  # noqa: BLE001 - every failure is stored in words
        db.session.rollback()
        log.exception("background job %s (%s) failed", job.id, job.kind)
        job.status, job.error, job.finished_at = FAILED, reason(exc)[:2000], utcnow()
        job.done, job.total = progress.done, progress.total
        db.session.commit()
    finally:
        progress.close()


def run_queued(app, older_than: timedelta) -> int:
    """Run the jobs queued longer than ``older_than`` (their worker never began them)."""
    with app.app_context():
        ids = list(db.session.scalars(select(BackgroundJob.id).where(
            BackgroundJob.status == QUEUED, BackgroundJob.created_at < utcnow() - older_than)
            .order_by(BackgroundJob.id)))
        db.session.remove()
    return sum(run(app, job_id) for job_id in ids)


def fail_stalled(app, still_for: timedelta) -> int:
    """Mark failed the running jobs whose progress has not moved for ``still_for``.

    Their process stopped (killed, restarted) in the middle: the database rolled
    their work back, so the reason says nothing was changed. The conditional UPDATE
    leaves a job that ended meanwhile alone.
    """
    failed = 0
    with app.app_context():
        try:
            for job in db.session.scalars(select(BackgroundJob).where(
                    BackgroundJob.status == RUNNING).order_by(BackgroundJob.id)).all():
                done, total, at = _latest(job)
                if (at or job.started_at or job.created_at) > utcnow() - still_for:
                    continue
                with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
                    error = _("The job was interrupted (the process running it stopped); "
                              "nothing was changed. Please start it again.")
                failed += db.session.execute(
                    update(BackgroundJob).where(BackgroundJob.id == job.id,
                                                BackgroundJob.status == RUNNING)
                    .values(status=FAILED, error=error, done=done, total=total,
                            finished_at=utcnow())
                    .execution_options(synchronize_session=False)).rowcount
                db.session.commit()
                log.warning("background job %s (%s) stalled since %s: marked failed",
                            job.id, job.kind, at)
        finally:
            db.session.remove()
    return failed


__all__ = ["DONE", "FAILED", "QUEUED", "RUNNING", "STATUS_LABELS", "BackgroundJob", "Progress",
           "enqueue", "fail_stalled", "progress_of", "reason", "run", "run_queued", "start"]
