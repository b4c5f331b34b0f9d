"""Background jobs people started (``core.services.background``): the model, and the
scheduler's job ``background-jobs``: it runs the jobs no web worker began and marks
failed those left "running" by a process that stopped."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from core.services.background import BackgroundJob, fail_stalled, run_queued
from core.services.scheduler import JobRegistry, JobRun

JOB_NAME = "background-jobs"

__all__ = ["BackgroundJob", "pick_up", "register"]


def pick_up(run: JobRun) -> str:
    """Mark failed the running jobs whose progress stood still for ``BACKGROUND_STALL_SECONDS``
    (their process stopped), then run those still waiting to start (their web worker
    stopped first)."""
    app = current_app._get_current_object()
    still = timedelta(seconds=int(app.config.get("BACKGROUND_STALL_SECONDS", 600)))
    failed = fail_stalled(app, still)
    wait = timedelta(seconds=int(app.config.get("BACKGROUND_PICKUP_SECONDS", 60)))
    return f"{failed} stalled background jobs failed, {run_queued(app, wait)} run"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, pick_up, trigger="interval", seconds=30)
