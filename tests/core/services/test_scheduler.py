"""Scheduled jobs: each period runs once, failures are retried, stale claims taken over.

No scheduler runs inside the test process: jobs are run through ``run_job`` and
``flask jixiao jobs run`` (the same claim path the scheduler uses). The proof
against duplicate firing starts two real ``flask jixiao scheduler`` processes on
PostgreSQL.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import types
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import plugins as core_plugins
from core.extensions import db
from core.models import (
    AuditLog,
    FiscalYear,
    JobClaim,
    Notification,
    Role,
    StageDeadline,
    User,
    utcnow,
)
from core.plugins import hookimpl
from core.services.audit_check import verify
from core.services.scheduler import JobError, JobRegistry, every, registry_for, run_job
from tests.core.test_plugins import example_plugin_path  # noqa: F401 - a fixture
from tests.support import csrf_from

ROOT = Path(__file__).resolve().parents[3]
CALLS: list[tuple[str, str]] = []
FAIL_NEXT: set[str] = set()


def _days() -> str:
    """A daily period no other test uses (the claims stay in the run's database)."""
    return (date(2200, 1, 1) + timedelta(days=random.randrange(2_000_000))).isoformat()


def counting(run):
    """Count the call."""
    CALLS.append((run.name, run.period))
    return f"call {len(CALLS)}"


def flaky(run):
    CALLS.append((run.name, run.period))
    if run.period in FAIL_NEXT:
        FAIL_NEXT.discard(run.period)
        db.session.add(Role(name=f"never-{run.period}"))  # undone with the failed run
        raise RuntimeError("the bureau's server is down")
    return "ok"


def writer(run):
    """Write a row: notify the viewer (audited as the job)."""
    from core.services.notifications import notify

    uid = db.session.scalar(select(User.id).where(User.username == "viewer"))
    notify(uid, f"scheduler test {run.period}")


@pytest.fixture(scope="module")
def jobs_app(app, make_app):
    """An app with a throw-away plugin registering test jobs."""
    module = types.ModuleType("jixiao_test_jobs")

    def jixiao_jobs(scheduler):
        scheduler.add_job("t-count", counting, trigger="cron", hour=3, period="daily")
        scheduler.add_job("t-flaky", flaky, trigger="cron", hour=4, period="daily")
        scheduler.add_job("t-write", writer, trigger="interval", minutes=5, period="daily")
        scheduler.add_job("t-slow", counting, trigger="cron", hour=5, period="daily",
                          stale_after=timedelta(minutes=30))

    module.jixiao_jobs = hookimpl(jixiao_jobs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, module.__name__, module)
        mp.setitem(core_plugins.BUILTIN_PLUGINS, "testjobs", module.__name__)
        return make_app()


def claim_of(app, job: str, period: str) -> JobClaim | None:
    with app.app_context():
        return db.session.scalars(select(JobClaim).where(
            JobClaim.job == job, JobClaim.period == period)).one_or_none()


# --- once per period ---------------------------------------------------------------

def test_a_period_runs_once_and_a_second_run_is_skipped(jobs_app):
    period = _days()
    CALLS.clear()
    first = run_job(jobs_app, "t-count", period=period)
    second = run_job(jobs_app, "t-count", period=period)
    assert (first.status, first.detail) == ("finished", "call 1")
    assert second.status == "skipped" and second.detail.startswith("already finished by ")
    assert CALLS == [("t-count", period)]
    claim = claim_of(jobs_app, "t-count", period)
    assert claim.status == "finished" and claim.detail == "call 1"
    assert claim.finished_at >= claim.claimed_at
    assert claim.claimed_by.endswith(f":{os.getpid()}")


def test_the_period_comes_from_the_run_time(jobs_app):
    CALLS.clear()
    tz_day = datetime(2188, 3, 4, 23, 30)  # naive: read in Asia/Shanghai
    assert run_job(jobs_app, "t-count", when=tz_day).period == "2188-03-04"
    assert run_job(jobs_app, "t-count", when=tz_day + timedelta(minutes=40)).period \
        == "2188-03-05"
    assert run_job(jobs_app, "t-count", when=tz_day + timedelta(minutes=10)).status == "skipped"
    assert CALLS == [("t-count", "2188-03-04"), ("t-count", "2188-03-05")]


def test_different_periods_each_run(jobs_app):
    CALLS.clear()
    periods = [_days() for _ in range(3)]
    assert [run_job(jobs_app, "t-count", period=p).status for p in periods] == ["finished"] * 3
    assert CALLS == [("t-count", p) for p in periods]


def test_a_period_written_loosely_is_the_same_period(jobs_app):
    CALLS.clear()
    assert run_job(jobs_app, "t-count", period="2199-7-4").period == "2199-07-04"
    assert run_job(jobs_app, "t-count", period="2199-07-04").status == "skipped"
    assert len(CALLS) == 1


# --- failure, retry, stale claims --------------------------------------------------------

def test_a_failed_run_is_recorded_undone_and_may_be_retried(jobs_app):
    period = _days()
    FAIL_NEXT.add(period)
    CALLS.clear()
    failed = run_job(jobs_app, "t-flaky", period=period)
    assert failed.status == "failed"
    assert failed.detail == "RuntimeError: the bureau's server is down"
    claim = claim_of(jobs_app, "t-flaky", period)
    assert (claim.status, claim.detail) == ("failed", failed.detail)
    with jobs_app.app_context():  # the failed run's own writes were rolled back
        assert db.session.scalar(select(Role).where(Role.name == f"never-{period}")) is None

    retried = run_job(jobs_app, "t-flaky", period=period)
    assert (retried.status, retried.detail) == ("finished", "ok")
    assert run_job(jobs_app, "t-flaky", period=period).status == "skipped"
    assert CALLS == [("t-flaky", period)] * 2
    claim = claim_of(jobs_app, "t-flaky", period)
    assert (claim.status, claim.detail) == ("finished", "ok")


def _plant_claim(app, job: str, period: str, age: timedelta, by: str = "crashed-host:1"):
    with app.app_context():
        db.session.add(JobClaim(job=job, period=period, claimed_by=by,
                                claimed_at=utcnow() - age, status="running"))
        db.session.commit()


def test_a_running_claim_blocks_until_it_is_stale(jobs_app):
    fresh, stale = _days(), _days()
    _plant_claim(jobs_app, "t-slow", fresh, timedelta(minutes=29))
    _plant_claim(jobs_app, "t-slow", stale, timedelta(minutes=31))  # stale_after=30 min
    CALLS.clear()
    skipped = run_job(jobs_app, "t-slow", period=fresh)
    assert skipped.status == "skipped"
    assert skipped.detail == "already running by crashed-host:1"
    assert run_job(jobs_app, "t-slow", period=stale).status == "finished"
    assert CALLS == [("t-slow", stale)]
    claim = claim_of(jobs_app, "t-slow", stale)
    assert claim.status == "finished" and claim.claimed_by != "crashed-host:1"


def test_the_stale_timeout_comes_from_the_settings(jobs_app):
    period = _days()
    _plant_claim(jobs_app, "t-count", period, timedelta(minutes=45))
    assert run_job(jobs_app, "t-count", period=period).status == "skipped"  # default 60 min
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(jobs_app.config, "JOB_CLAIM_STALE_MINUTES", 40)
        assert run_job(jobs_app, "t-count", period=period).status == "finished"


def _race(app, job: str, period: str, n: int = 4) -> list[str]:
    """``n`` threads run the job for one period at the same moment; their statuses."""
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait()
        return run_job(app, job, period=period).status

    with ThreadPoolExecutor(n) as pool:
        return sorted(pool.map(one, range(n)))


def test_simultaneous_runs_of_a_period_do_the_work_once(jobs_app):
    period = _days()
    CALLS.clear()
    assert _race(jobs_app, "t-count", period) == ["finished", "skipped", "skipped", "skipped"]
    assert CALLS == [("t-count", period)]


def test_simultaneous_take_overs_of_a_stale_claim_do_the_work_once(jobs_app):
    period = _days()
    _plant_claim(jobs_app, "t-slow", period, timedelta(hours=2))
    CALLS.clear()
    assert _race(jobs_app, "t-slow", period) == ["finished", "skipped", "skipped", "skipped"]
    assert CALLS == [("t-slow", period)]


# --- audit --------------------------------------------------------------------------------

def test_a_jobs_writes_are_audited_as_the_job(jobs_app):
    period = _days()
    assert run_job(jobs_app, "t-write", period=period).status == "finished"
    with jobs_app.app_context():
        note = db.session.scalars(select(Notification).where(
            Notification.title == f"scheduler test {period}")).one()
        entries = db.session.execute(select(AuditLog.username, AuditLog.action).where(
            AuditLog.object_type == "notification", AuditLog.object_id == str(note.id))).all()
        assert entries == [("job:t-write", "create")]
        claim = db.session.scalars(select(JobClaim).where(
            JobClaim.job == "t-write", JobClaim.period == period)).one()
        claim_log = db.session.execute(select(AuditLog.username, AuditLog.action).where(
            AuditLog.object_type == "job_claim", AuditLog.object_id == str(claim.id))
            .order_by(AuditLog.id)).all()
        assert claim_log == [("job:t-write", "create"), ("job:t-write", "update")]
        assert verify(db.session).ok


# --- registering jobs ---------------------------------------------------------------------

@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("Bad Name", counting), {"trigger": "interval", "minutes": 1}, "job name 'Bad Name'"),
    (("x", counting), {"trigger": "date"}, "trigger must be one of cron, interval"),
    (("x", counting), {"trigger": "cron", "hour": 2}, "a cron job needs a period"),
    (("x", counting), {"trigger": "cron", "hour": 2, "period": "weekly"},
     "period 'weekly': use one of minutely, hourly, daily, monthly, yearly"),
    (("x", counting), {"trigger": "cron", "hour": "x", "period": "daily"},
     "bad cron trigger arguments"),
    (("x", counting), {"trigger": "interval", "minuts": 5}, "bad interval trigger arguments"),
    (("x", "counting"), {"trigger": "interval", "minutes": 5}, "func is not callable"),
])
def test_a_bad_job_is_refused_when_registered(args, kwargs, message):
    with pytest.raises(JobError, match=message):
        JobRegistry().add_job(*args, **kwargs)


def test_a_job_name_is_registered_once():
    registry = JobRegistry()
    registry.add_job("x", counting, trigger="interval", minutes=5)
    with pytest.raises(JobError, match="registered twice"):
        registry.add_job("x", counting, trigger="interval", minutes=5)


def test_an_interval_job_has_periods_of_its_interval():
    job = JobRegistry().add_job("x", counting, trigger="interval", minutes=15)
    assert job.period == every(900)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert job.period.key(datetime(2026, 5, 1, 8, 29, 59, tzinfo=tz)) == "2026-05-01T08:15:00"
    assert job.period.key(datetime(2026, 5, 1, 8, 30, 0, tzinfo=tz)) == "2026-05-01T08:30:00"


def test_jobs_are_collected_once_per_app(jobs_app):
    registry = registry_for(jobs_app)
    assert registry is registry_for(jobs_app)
    assert {"t-count", "t-flaky", "t-write", "t-slow", "deadline-reminders"} <= \
        {job.name for job in registry}


# --- the commands ---------------------------------------------------------------------------

def test_jobs_run_command(jobs_app):
    period = _days()
    runner = jobs_app.test_cli_runner()
    CALLS.clear()
    result = runner.invoke(args=["jixiao", "jobs", "run", "t-count", "--period", period])
    assert result.exit_code == 0, result.output
    assert result.output == f"t-count {period}: finished (call 1)\n"
    again = runner.invoke(args=["jixiao", "jobs", "run", "t-count", "--period", period])
    assert again.exit_code == 0
    assert again.output.startswith(f"t-count {period}: skipped (already finished by ")
    assert len(CALLS) == 1

    FAIL_NEXT.add(period)
    failed = runner.invoke(args=["jixiao", "jobs", "run", "t-flaky", "--period", period])
    assert failed.exit_code == 1
    assert f"t-flaky {period}: failed (RuntimeError: the bureau's server is down)" \
        in failed.output

    bad = runner.invoke(args=["jixiao", "jobs", "run", "t-count", "--period", "May 1st"])
    assert bad.exit_code == 2
    assert "period 'May 1st': expected a daily period such as '2026-05-01'" in bad.output
    unknown = runner.invoke(args=["jixiao", "jobs", "run", "nope"])
    assert unknown.exit_code == 2 and "unknown job 'nope'" in unknown.output


def test_jobs_list_command(jobs_app):
    result = jobs_app.test_cli_runner().invoke(args=["jixiao", "jobs", "list"])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in result.output.splitlines()}
    trigger, period, next_run, next_period, description = rows["deadline-reminders"]
    assert (trigger, period) == ("cron hour=8 minute=0", "daily")
    assert next_run.endswith("T08:00:00+08:00") and next_run.startswith(next_period)
    assert rows["t-count"][4] == "Count the call."
    assert rows["t-write"][:2] == ["interval minutes=5", "daily"]


# --- the core's job: deadline reminders -------------------------------------------------------

def test_deadline_reminders_notify_departments_and_units_once(app):
    with app.app_context():
        year = db.session.scalars(select(FiscalYear).where(FiscalYear.status == "open")
                                  .order_by(FiscalYear.year.desc())).first()
        deadline = db.session.scalars(select(StageDeadline).where(
            StageDeadline.fiscal_year_id == year.id, StageDeadline.stage == "monitoring")).one()
        due, fy_name = deadline.due, str(year)
        reminded = set(db.session.scalars(
            select(User.username).join(Role, User.role_id == Role.id)
            .where(User.active, User.org_unit_id.is_not(None),
                   Role.name.in_(["dept_admin", "unit_user"]))))
        last = db.session.scalar(select(func.max(Notification.id))) or 0
    assert {"dept01", "unit0101", "town01"} <= reminded

    week_before = (due - timedelta(days=7)).isoformat()
    result = run_job(app, "deadline-reminders", period=week_before)
    assert result.status == "finished"
    assert run_job(app, "deadline-reminders", period=week_before).status == "skipped"
    three_days_before = (due - timedelta(days=3)).isoformat()
    assert run_job(app, "deadline-reminders", period=three_days_before).detail \
        == "no deadline due in 1, 7 days"
    with app.app_context():
        notes = db.session.execute(
            select(User.username, Notification.title, Notification.body, Notification.link)
            .join(User, Notification.user_id == User.id).where(Notification.id > last)).all()
    assert Counter(n.username for n in notes) == Counter(reminded)  # each once, nobody else
    for note in notes:
        assert note.title.startswith(fy_name) and " 7 " in note.title
        assert due.isoformat() in note.body and note.link == "/admin/fiscalyear/"


# --- the admin page ---------------------------------------------------------------------------

def test_scheduled_jobs_page_is_read_only_and_for_finance(jobs_app, login):
    period = _days()
    run_job(jobs_app, "t-count", period=period)
    c = login("finance")
    assert 'href="/admin/jobclaim/"' in c.get("/admin/").text
    page = c.get(f"/admin/jobclaim/?search={period}")
    assert page.status_code == 200 and period in page.text and "t-count" in page.text
    assert c.get("/admin/jobclaim/new/").status_code in (302, 403)
    with jobs_app.app_context():
        claim_id = db.session.scalar(select(JobClaim.id).where(JobClaim.period == period))
    assert "call " in c.get(f"/admin/jobclaim/details/?id={claim_id}").text
    assert c.get(f"/admin/jobclaim/edit/?id={claim_id}").status_code in (302, 403)
    token = csrf_from(c.get("/admin/notification/").text)
    deleted = c.post("/admin/jobclaim/delete/", data={"id": claim_id, "csrf_token": token})
    assert deleted.status_code in (302, 403)
    assert claim_of(jobs_app, "t-count", period) is not None
    for username in ("dept01", "viewer"):
        other = login(username)
        assert 'href="/admin/jobclaim/"' not in other.get("/admin/").text
        assert other.get("/admin/jobclaim/").status_code == 403


# --- two scheduler processes on PostgreSQL -----------------------------------------------------

@pytest.mark.skipif(not os.environ.get("JIXIAO_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="the race between two scheduler processes is proven on PostgreSQL, "
                           "the production database; SQLite runs the same claim code above")
def test_two_scheduler_processes_run_each_period_once(app, database_url, instance_path,
                                                      example_plugin_path, tmp_path):  # noqa: F811
    username = f"sched{random.randrange(10**8)}"
    with app.app_context():
        db.session.add(User(username=username, role_id=db.session.scalar(
            select(Role.id).where(Role.name == "viewer"))))
        db.session.commit()
        user_id = db.session.scalar(select(User.id).where(User.username == username))
    env = {**os.environ, "JIXIAO_DATABASE_URL": database_url, "JIXIAO_ENV": "testing",
           "JIXIAO_INSTANCE_PATH": instance_path, "JIXIAO_EXAMPLE_JOB_SECONDS": "1",
           "JIXIAO_EXAMPLE_JOB_NOTIFY": username, "JIXIAO_LOAD_ENTRYPOINT_PLUGINS": "true",
           "PYTHONPATH": os.pathsep.join([str(example_plugin_path), str(ROOT)])}
    env.pop("JIXIAO_DISABLED_PLUGINS", None)
    logs = [tmp_path / f"scheduler{i}.log" for i in (1, 2)]
    procs = []
    for log in logs:
        with log.open("w") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "jixiao", "scheduler"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                log.read_text().count("job example-tick period") >= 4 for log in logs):
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=15) for p in procs]
    outputs = [log.read_text() for log in logs]
    assert codes == [0, 0], outputs
    for out in outputs:
        assert "SIGTERM received" in out and "stopped" in out, out
        assert out.count("job example-tick period") >= 4, out

    workers = {m for out in outputs for m in re.findall(r"scheduler (\S+) started \(", out)}
    assert len(workers) == 2
    with app.app_context():
        claims = db.session.execute(select(JobClaim.period, JobClaim.status, JobClaim.claimed_by)
                                    .where(JobClaim.job == "example-tick",
                                           JobClaim.claimed_by.in_(workers))).all()
        titles = db.session.scalars(select(Notification.title)
                                    .where(Notification.user_id == user_id)).all()
        assert verify(db.session).ok  # two writers, one intact chain
    assert {c.status for c in claims} == {"finished"}
    notified = Counter(t.rsplit("(", 1)[1].rstrip(")") for t in titles)
    assert len(notified) >= 3
    assert set(notified.values()) == {1}, notified  # no period's work done twice
    assert set(notified) == {c.period for c in claims}
    attempts = sum(out.count("job example-tick period") for out in outputs)
    skipped = sum(out.count(": skipped") for out in outputs)
    assert attempts == len(claims) + skipped and skipped >= 1  # duplicates fired, refused
