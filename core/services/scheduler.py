"""Scheduled jobs: registered by plugins, run once per period whichever process fires them.

Plugins register jobs in ``jixiao_jobs(scheduler)`` on a :class:`JobRegistry`
(they never touch APScheduler). :func:`run_job` is the one way a job runs — from
the scheduler process (``flask jixiao scheduler``), from ``flask jixiao jobs
run`` and from tests. It first *claims* the job's period: a ``JobClaim`` row,
unique per job and period, committed before the work starts. A second process
(another scheduler, a late or repeated firing, an operator's manual run) fails
to insert the same row and skips. The job's work and the claim's "finished"
mark are committed together, so a crash leaves the work undone and the claim
"running":

- a claim whose run **failed** (status ``failed``, the error in ``detail``) may
  be taken again by the next run for the same period;
- a claim **stuck in running** longer than ``stale_after`` (setting
  ``JOB_CLAIM_STALE_MINUTES``, or per job) is presumed dead and may be taken
  again.

Both re-claims are one conditional ``UPDATE``, so of two processes trying at
once exactly one succeeds. See docs/scheduler.md.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.audit import actor_var
from core.extensions import db
from core.models import JobClaim, utcnow
from core.plugins import hooks

log = logging.getLogger("jixiao.scheduler")

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
PERIOD_MAX = 40  # JobClaim.period
DETAIL_MAX = 2000
TRIGGERS = ("cron", "interval")


class JobError(ValueError):
    """A job that cannot be registered or run as asked; the message says why."""


# --- periods --------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """How a moment maps to a period key (``"2026-05-01"``), and back to the period's start."""

    label: str
    fmt: str = ""
    seconds: int = 0  # > 0: fixed buckets of this many seconds (``every``)
    func: Callable[[datetime], str] | None = None

    def key(self, when: datetime) -> str:
        if self.func is not None:
            key = str(self.func(when))
        elif self.seconds:
            start = int(when.timestamp()) // self.seconds * self.seconds
            key = datetime.fromtimestamp(start, when.tzinfo).strftime(self.fmt)
        else:
            key = when.strftime(self.fmt)
        if not key or len(key) > PERIOD_MAX:
            raise JobError(f"period key {key!r}: must be 1 to {PERIOD_MAX} characters")
        return key

    def start(self, key: str, tz: ZoneInfo) -> datetime | None:
        """The first moment of period ``key``; None for a custom period function."""
        if self.func is not None:
            return None
        try:
            return datetime.strptime(key, self.fmt).replace(tzinfo=tz)
        except ValueError:
            example = datetime(2026, 5, 1, 8, 30, tzinfo=tz).strftime(self.fmt)
            raise JobError(f"period {key!r}: expected a {self.label} period such as "
                           f"{example!r}") from None


PERIODS = {
    "minutely": Period("minutely", "%Y-%m-%dT%H:%M"),
    "hourly": Period("hourly", "%Y-%m-%dT%H"),
    "daily": Period("daily", "%Y-%m-%d"),
    "monthly": Period("monthly", "%Y-%m"),
    "yearly": Period("yearly", "%Y"),
}


def every(seconds: int) -> Period:
    """Periods of a fixed length (aligned to the Unix epoch), keyed by their start time."""
    if int(seconds) != seconds or seconds < 1:
        raise JobError(f"every({seconds!r}): a whole number of seconds, at least 1")
    return Period(f"every {int(seconds)}s", "%Y-%m-%dT%H:%M:%S", seconds=int(seconds))


def as_period(value: str | Period | Callable[[datetime], str]) -> Period:
    if isinstance(value, Period):
        return value
    if isinstance(value, str):
        if value not in PERIODS:
            raise JobError(f"period {value!r}: use one of {', '.join(PERIODS)}, every(seconds) "
                           "or a function of the run time")
        return PERIODS[value]
    if callable(value):
        return Period(getattr(value, "__name__", "custom"), func=value)
    raise JobError(f"period {value!r}: not a period")


# --- registration ---------------------------------------------------------------------

@dataclass(frozen=True)
class JobRun:
    """What a job function is given: its name, the period it works on, and the moment."""

    name: str
    period: str
    #: the run time in the scheduler's timezone; for a period given by hand (``--period``)
    #: the start of that period, so a job re-run for yesterday works on yesterday
    when: datetime


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[JobRun], Any]
    trigger: str
    trigger_args: dict[str, Any]
    period: Period
    stale_after: timedelta | None = None
    description: str = ""

    def make_trigger(self, tz: ZoneInfo):
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.trigger == "cron":
            return CronTrigger(timezone=tz, **self.trigger_args)
        trigger = IntervalTrigger(timezone=tz, **self.trigger_args)
        if "start_date" not in self.trigger_args:
            # fire on multiples of the interval since the epoch (every 30 minutes: at :00
            # and :30), the same instants in every process, at the start of each period
            step = max(int(trigger.interval_length), 1)
            start = datetime.fromtimestamp(int(time.time()) // step * step, tz)
            trigger = IntervalTrigger(timezone=tz, start_date=start, **self.trigger_args)
        return trigger

    def describe_trigger(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.trigger_args.items())
        return f"{self.trigger} {args}".strip()


@dataclass
class JobRegistry:
    """What ``jixiao_jobs(scheduler)`` receives: ``scheduler.add_job(...)``."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    _jobs: dict[str, Job] = field(default_factory=dict)

    def add_job(self, name: str, func: Callable[[JobRun], Any], *, trigger: str,
                period: str | Period | Callable[[datetime], str] | None = None,
                stale_after: timedelta | None = None, **trigger_args: Any) -> Job:
        """Register ``func(run)`` to run on an APScheduler ``trigger`` once per ``period``.

        ``trigger`` is ``"cron"`` (arguments as APScheduler's CronTrigger: ``hour=8``,
        ``day_of_week="mon"``…) or ``"interval"`` (``minutes=30``…). ``period`` is a
        preset (``"hourly"``, ``"daily"``, ``"monthly"``…), ``every(seconds)`` or a
        function of the run time returning the key; an interval job defaults to
        periods of its interval, a cron job must name one. ``func`` may return a
        short text, kept on the claim.
        """
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise JobError(f"job name {name!r}: lower-case letters, digits, '-', '_' or '.'")
        if name in self._jobs:
            raise JobError(f"job {name!r} is registered twice")
        if trigger not in TRIGGERS:
            raise JobError(f"job {name!r}: trigger must be one of {', '.join(TRIGGERS)}")
        if not callable(func):
            raise JobError(f"job {name!r}: func is not callable")
        if period is None:
            if trigger == "cron":
                raise JobError(f"job {name!r}: a cron job needs a period (e.g. 'daily')")
            interval = trigger_args.get("weeks", 0) * 604800 + trigger_args.get("days", 0) * \
                86400 + trigger_args.get("hours", 0) * 3600 + \
                trigger_args.get("minutes", 0) * 60 + trigger_args.get("seconds", 0)
            period = every(int(interval) or 1)
        job = Job(name=name, func=func, trigger=trigger, trigger_args=dict(trigger_args),
                  period=as_period(period), stale_after=stale_after,
                  description=(func.__doc__ or "").strip().split("\n")[0])
        try:
            job.make_trigger(self.timezone)
        except (TypeError, ValueError) as exc:
            raise JobError(f"job {name!r}: bad {trigger} trigger arguments: {exc}") from None
        self._jobs[name] = job
        return job

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise JobError(f"unknown job {name!r}; known jobs: "
                           f"{', '.join(sorted(self._jobs)) or 'none'}") from None

    def __iter__(self) -> Iterator[Job]:
        return iter(sorted(self._jobs.values(), key=lambda j: j.name))

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)


def timezone_of(app) -> ZoneInfo:
    return ZoneInfo(app.config.get("SCHEDULER_TIMEZONE") or "Asia/Shanghai")


def registry_for(app) -> JobRegistry:
    """The app's jobs, collected from ``jixiao_jobs`` once (no scheduler is started)."""
    registry = app.extensions.get("jixiao_jobs")
    if registry is None:
        registry = JobRegistry(timezone=timezone_of(app))
        with app.app_context():  # a plugin may read current_app.config
            hooks(app).jobs(scheduler=registry)
        app.extensions["jixiao_jobs"] = registry
    return registry


# --- running --------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    job: str
    period: str
    status: str  # "finished", "failed" or "skipped"
    detail: str = ""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _claim(name: str, period: str, stale_after: timedelta) -> JobClaim | None:
    """Take the period: insert the claim, or take over a failed or stale one. Committed."""
    now, me = utcnow(), worker_id()
    try:
        db.session.add(JobClaim(job=name, period=period, claimed_by=me, claimed_at=now,
                                status="running", detail=""))
        db.session.commit()
    except IntegrityError:  # the row exists: someone has (or had) this period
        db.session.rollback()
        free = or_(JobClaim.status == "failed",
                   and_(JobClaim.status == "running", JobClaim.claimed_at < now - stale_after))
        mine = (JobClaim.job == name, JobClaim.period == period)
        if db.session.scalar(select(JobClaim.id).where(*mine, free)) is None:
            db.session.rollback()
            return None  # finished, or running and not stale: nothing written
        # of several processes taking over at once, the row lock lets exactly one match
        taken = db.session.execute(
            update(JobClaim).where(*mine, free)
            .values(status="running", claimed_by=me, claimed_at=now, finished_at=None)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            db.session.rollback()
            return None
        db.session.commit()
    return db.session.scalars(select(JobClaim).where(
        JobClaim.job == name, JobClaim.period == period)).one()


def run_job(app, name: str, when: datetime | None = None,
            period: str | None = None) -> RunResult:
    """Run job ``name`` for the period of ``when`` (default now), or for ``period``.

    A naive ``when`` is read in the scheduler's timezone (``SCHEDULER_TIMEZONE``).

    Returns ``skipped`` without running when the period is claimed by someone
    else (running, or finished); ``finished`` or ``failed`` otherwise.
    """
    job = registry_for(app).get(name)
    tz = timezone_of(app)
    if period is not None:
        start = job.period.start(period, tz)
        when = start or datetime.now(tz)
        key = job.period.key(start) if start else period  # "2026-5-1" → "2026-05-01"
        if not key or len(key) > PERIOD_MAX:
            raise JobError(f"period {key!r}: must be 1 to {PERIOD_MAX} characters")
    else:
        when = datetime.now(tz) if when is None else \
            when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
        key = job.period.key(when)
    stale_after = job.stale_after or timedelta(
        minutes=int(app.config.get("JOB_CLAIM_STALE_MINUTES", 60)))
    started = time.monotonic()
    with app.app_context():
        token = actor_var.set((None, f"job:{name}"))
        try:
            claim = _claim(name, key, stale_after)
            if claim is None:
                other = db.session.scalars(select(JobClaim).where(
                    JobClaim.job == name, JobClaim.period == key)).one()
                result = RunResult(name, key, "skipped",
                                   f"already {other.status} by {other.claimed_by}")
            else:
                result = _work(job, claim, JobRun(name, key, when))
        finally:
            actor_var.reset(token)
            db.session.remove()
    log.info("job %s period %s: %s %s(%.2fs)", name, key, result.status,
             f"({result.detail}) " if result.detail else "", time.monotonic() - started)
    return result


def _work(job: Job, claim: JobClaim, run: JobRun) -> RunResult:
    try:
        detail = job.func(run)
        claim.status = "finished"
        claim.detail = "" if detail is None else str(detail)[:DETAIL_MAX]
        claim.finished_at = utcnow()
        db.session.commit()  # the work and the "finished" mark together
        return RunResult(job.name, run.period, "finished", claim.detail)
    except BaseException as exc:
        db.session.rollback()
        log.exception("job %s failed for period %s", job.name, run.period)
        claim.status = "failed"
        claim.detail = f"{type(exc).__name__}: {exc}"[:DETAIL_MAX]
        claim.finished_at = utcnow()
        db.session.commit()
        if not isinstance(exc, Exception):
            raise
        return RunResult(job.name, run.period, "failed", claim.detail)


# --- the scheduler process ----------------------------------------------------------------

def build_scheduler(app):
    """An APScheduler BlockingScheduler with one APScheduler job per registered job."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.blocking import BlockingScheduler

    tz = timezone_of(app)
    scheduler = BlockingScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(int(app.config.get("SCHEDULER_MAX_WORKERS", 4)))},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(app.config.get("SCHEDULER_MISFIRE_GRACE_SECONDS",
                                                               3600))})
    for job in registry_for(app):
        scheduler.add_job(_fire, trigger=job.make_trigger(tz), args=(app, job.name),
                          id=job.name, name=job.name)
    return scheduler


def _fire(app, name: str) -> None:
    try:
        run_job(app, name)
    except Exception:  # noqa: BLE001 - a broken claim or database must not stop the scheduler
        log.exception("job %s could not run", name)


def serve(app) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT, then let running jobs end."""
    from apscheduler.schedulers import SchedulerNotRunningError

    scheduler = build_scheduler(app)
    stoppers: list[threading.Thread] = []

    def shutdown() -> None:
        try:
            scheduler.shutdown(wait=True)
        except SchedulerNotRunningError:
            pass

    def stop(signum, frame) -> None:
        if stoppers:
            return
        log.info("%s received: stopping once running jobs finish", signal.Signals(signum).name)
        stoppers.append(threading.Thread(target=shutdown, name="jixiao-scheduler-stop"))
        stoppers[0].start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    jobs = list(registry_for(app))
    log.info("scheduler %s started (%s) with %d jobs: %s", worker_id(), timezone_of(app),
             len(jobs), ", ".join(j.name for j in jobs) or "none")
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for thread in stoppers:
            thread.join()
    log.info("scheduler %s stopped", worker_id())


__all__ = ["PERIODS", "Job", "JobError", "JobRegistry", "JobRun", "Period", "RunResult",
           "build_scheduler", "every", "registry_for", "run_job", "serve"]
