"""Background jobs people started (``core.services.background``): the model, and the
scheduler's pick-up of jobs no web worker began (job ``background-jobs``)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from core.services.background import BackgroundJob, run_queued
from core.services.scheduler import JobRegistry, JobRun

JOB_NAME = "background-jobs"

__all__ = ["BackgroundJob", "pick_up", "register"]


def pick_up(run: JobRun) -> str:
    """Run the background jobs still waiting to start (their web worker stopped first)."""
    app = current_app._get_current_object()
    wait = timedelta(seconds=int(app.config.get("BACKGROUND_PICKUP_SECONDS", 60)))
    return f"{run_queued(app, wait)} background jobs run"


def register(scheduler: JobRegistry) -> None:
    scheduler.add_job(JOB_NAME, pick_up, trigger="interval", seconds=30)
