"""``flask jixiao scheduler`` and ``flask jixiao jobs list|run``: the job commands."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup


def register(group: AppGroup) -> None:
    @group.command("scheduler")
    def scheduler_cmd():
        """Run the job scheduler in the foreground (one process of its own; SIGTERM stops it).

        Never run jobs inside web workers: start exactly this command as its own
        service. Two of them at once are safe (each period runs once) but useless.
        """
        from core.services.scheduler import serve

        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("jixiao").setLevel(logging.INFO)
        serve(current_app._get_current_object())

    jobs = AppGroup("jobs", help="Scheduled jobs: list them, or run one now.")

    @jobs.command("list")
    def jobs_list():
        """List jobs (tab-separated): name, trigger, period, next run, its period, description."""
        from core.services.scheduler import registry_for, timezone_of

        app = current_app._get_current_object()
        tz = timezone_of(app)
        now = datetime.now(tz)
        for job in registry_for(app):
            next_run = job.make_trigger(tz).get_next_fire_time(None, now)
            shown = next_run.isoformat(timespec="seconds") if next_run else "never"
            next_period = job.period.key(next_run) if next_run else "-"
            click.echo("\t".join([job.name, job.describe_trigger(), job.period.label, shown,
                                  next_period, job.description]))

    @jobs.command("run")
    @click.argument("name")
    @click.option("--period", default=None,
                  help="The period to run for (default: the current one), e.g. 2026-05-01.")
    def jobs_run(name: str, period: str | None):
        """Run job NAME once now, through the same claim as the scheduler.

        Exit status 0 when it finished or was skipped (the period is already
        claimed), 1 when it failed.
        """
        from core.services.scheduler import JobError, run_job

        try:
            result = run_job(current_app._get_current_object(), name, period=period)
        except JobError as exc:
            raise click.UsageError(str(exc)) from None
        line = f"{result.job} {result.period}: {result.status}"
        click.echo(f"{line} ({result.detail})" if result.detail else line,
                   err=result.status == "failed")
        if result.status == "failed":
            raise SystemExit(1)

    group.add_command(jobs)
