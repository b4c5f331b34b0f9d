"""A scheduler process killed in the middle of a job: nothing half-done, then done once.

Scheduler A (``flask jixiao scheduler``, a real process on the run's database)
runs a throw-away job that writes the first of two notifications and then, the
first time only (a marker file), waits. The test SIGKILLs A there: its claim for
the period stays "running", its half of the work was never committed. Two new
schedulers B and C then fire the same job every second; once the claim is stale
(the job's ``stale_after``), exactly one of them takes it over and does the whole
work, the other is refused, and neither runs it again.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import textwrap

from sqlalchemy import func, select

from core.extensions import db
from core.models import JobClaim, Notification
from core.services.audit_check import verify
from tests.faults.support import Process, app_env, wait_for

#: long enough for B and C to start while A's claim is still fresh: both then fire at the
#: same second boundaries and race for the take-over
STALE_SECONDS = 20
JOB = "fault-half"

JOBS_PLUGIN = textwrap.dedent(f'''
    """A job that does half its work, then waits the first time (test only)."""
    import os
    import time
    from datetime import timedelta
    from pathlib import Path

    from sqlalchemy import select

    from core.plugins import hookimpl

    TAG = os.environ["FAULT_TAG"]
    MARKER = Path(os.environ["FAULT_MARKER"])


    def half_then_wait(run):
        """Notify the viewer twice; the first time, wait between the two."""
        from core.extensions import db
        from core.models import User
        from core.services.notifications import notify

        viewer = db.session.scalar(select(User.id).where(User.username == "viewer"))
        notify(viewer, TAG + " part 1")
        db.session.flush()  # sent to the database, inside the job's transaction
        if not MARKER.exists():
            MARKER.write_text(str(os.getpid()))
            time.sleep(600)  # until the test kills this process
        notify(viewer, TAG + " part 2")
        return "both parts"


    @hookimpl
    def jixiao_jobs(scheduler):
        scheduler.add_job("{JOB}", half_then_wait, trigger="interval", seconds=1,
                          period=lambda when: TAG,
                          stale_after=timedelta(seconds={STALE_SECONDS}))
''')

SCHEDULER_APP = textwrap.dedent('''
    """The app with the test's job plugin registered like a built-in one."""
    from core import create_app, plugins

    plugins.BUILTIN_PLUGINS["fault_jobs"] = "fault_jobs"
    app = create_app()
''')


def claim(app, tag: str) -> tuple[str, str] | None:
    with app.app_context():
        row = db.session.execute(select(JobClaim.status, JobClaim.claimed_by).where(
            JobClaim.job == JOB, JobClaim.period == tag)).first()
        db.session.rollback()
    return tuple(row) if row else None


def parts_done(app, tag: str) -> list[str]:
    with app.app_context():
        titles = db.session.scalars(select(Notification.title).where(
            Notification.title.like(f"{tag} part %")).order_by(Notification.title)).all()
        db.session.rollback()
    return list(titles)


def test_a_killed_scheduler_leaves_no_half_work_and_the_job_then_runs_once(
        app, database_url, instance_path, tmp_path):
    tag = f"fault-{secrets.token_hex(4)}"
    marker = tmp_path / "paused.pid"
    (tmp_path / "fault_jobs.py").write_text(JOBS_PLUGIN, encoding="utf-8")
    (tmp_path / "fault_scheduler_app.py").write_text(SCHEDULER_APP, encoding="utf-8")
    env = app_env(database_url, instance_path, tmp_path, FAULT_TAG=tag,
                  FAULT_MARKER=str(marker))
    argv = [sys.executable, "-m", "flask", "--app", "fault_scheduler_app", "jixiao", "scheduler"]
    procs: list[Process] = []
    try:
        a = Process(argv, env, tmp_path / "a.log")
        procs.append(a)
        pid = int(wait_for(lambda: marker.exists() and marker.read_text(), 90,
                           "scheduler A to be inside the job"))
        assert pid == a.proc.pid
        status, by = claim(app, tag)
        assert status == "running" and by.endswith(f":{pid}")  # claimed before the work
        os.kill(pid, signal.SIGKILL)
        a.proc.wait(30)

        assert parts_done(app, tag) == []  # part 1 died with A's transaction
        assert claim(app, tag) == ("running", by)  # nobody finished it

        b = Process(argv, env, tmp_path / "b.log")
        c = Process(argv, env, tmp_path / "c.log")
        procs += [b, c]
        wait_for(lambda: claim(app, tag)[0] == "finished", 120,
                 "B or C to take over the stale claim and finish the job")
        # both keep firing every second: each must now be refused, not run it again
        fired = f"job {JOB} period {tag}: "
        wait_for(lambda: all(p.output().count(fired + "skipped (already finished") >= 2
                             for p in (b, c)), 60, "B and C to fire the finished job again")
        assert all(p.alive() for p in (b, c)), [p.output()[-2000:] for p in (b, c)]
    finally:
        codes = [p.stop() for p in procs]
    assert codes[1:] == [0, 0], [p.output()[-2000:] for p in procs]

    outputs = [p.output() for p in procs[1:]]
    finished = [out.count(fired + "finished (both parts)") for out in outputs]
    assert sorted(finished) == [0, 1], outputs  # exactly one of B and C did the work
    assert not any(fired + "failed" in out for out in outputs), outputs
    status, by = claim(app, tag)
    assert status == "finished" and by != f"{by.rsplit(':', 1)[0]}:{pid}"
    assert by.endswith(f":{procs[1 + finished.index(1)].proc.pid}")
    assert parts_done(app, tag) == [f"{tag} part 1", f"{tag} part 2"]  # all of it, once
    with app.app_context():
        assert verify(db.session).ok
        assert db.session.scalar(select(func.count(JobClaim.id)).where(
            JobClaim.job == JOB, JobClaim.period == tag)) == 1
