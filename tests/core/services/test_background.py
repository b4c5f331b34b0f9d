"""Background jobs (core/services/background.py): run once, all or nothing, progress seen
while the work's transaction is open, each person sees only their own jobs."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from core.extensions import db
from core.models import Notification
from core.services import background
from core.services.scheduler import run_job
from tests.support import user

RUNS: list[int] = []
GATE = threading.Event()


def count_run(progress, tag: str) -> str:
    RUNS.append(1)
    time.sleep(0.2)  # a second claimant arrives while this one works
    progress(1, 1)
    return f"ran {tag}"


def notify_then_fail(progress, to: int, title: str, error: str) -> str:
    from core.services.notifications import notify

    notify(to, title)
    db.session.flush()  # written in the work's transaction, then undone
    progress(1, 2)
    if error == "refusal":
        raise ValueError("2025 年的评级已发布，不能再更改。")
    raise KeyError("internal")


def notify_and_wait(progress, to: int, title: str) -> str:
    from core.services.notifications import notify

    notify(to, title)
    db.session.flush()  # the work holds its write (on SQLite: the database's lock)
    progress(3, 10)
    assert GATE.wait(30), "the test never let the job finish"
    progress(10, 10)
    return "十条已完成"


def _owner(app, name: str = "finance") -> int:
    with app.app_context():
        return user(name).id


def _job(app, job_id: int) -> background.BackgroundJob:
    with app.app_context():
        job = db.session.get(background.BackgroundJob, job_id)
        db.session.expunge(job)
        return job


def _notifications(app, title: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Notification.id)).where(
            Notification.title == title))


def _enqueue(app, fn, owner_id: int, **params) -> int:
    with app.app_context():
        return background.enqueue("test", "测试任务", fn, owner_id, params).id


def _wait(client, job_id: int) -> dict:
    for _ in range(300):
        state = client.get(f"/admin/backgroundjob/status/?id={job_id}").get_json()
        if state["finished"]:
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_of_two_workers_racing_for_a_job_only_one_runs_it(app):
    RUNS.clear()
    job_id = _enqueue(app, count_run, _owner(app), tag="race")
    barrier, won = threading.Barrier(2), []

    def worker():
        barrier.wait()
        won.append(background.run(app, job_id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(won) == [False, True]
    assert RUNS == [1]
    job = _job(app, job_id)
    assert (job.status, job.summary, job.done, job.total) == ("done", "ran race", 1, 1)
    assert background.run(app, job_id) is False  # a later firing finds it done


def test_a_failed_job_leaves_nothing_written_and_says_why(app, login):
    owner = _owner(app)
    job_id = _enqueue(app, notify_then_fail, owner, to=owner, title="失败的任务写的",
                      error="refusal")
    assert background.run(app, job_id) is True
    job = _job(app, job_id)
    assert job.status == "failed" and job.error == "2025 年的评级已发布，不能再更改。"
    assert _notifications(app, "失败的任务写的") == 0
    page = login("finance").get(f"/admin/backgroundjob/progress/?id={job_id}").text
    assert "失败" in page and "2025 年的评级已发布，不能再更改。" in page

    job_id = _enqueue(app, notify_then_fail, owner, to=owner, title="失败的任务写的",
                      error="bug")
    background.run(app, job_id)
    job = _job(app, job_id)
    assert job.status == "failed" and "KeyError" in job.error and "未作任何更改" in job.error
    assert _notifications(app, "失败的任务写的") == 0


def test_progress_is_seen_while_the_work_is_still_open(app, login):
    owner = _owner(app)
    client = login("finance")
    GATE.clear()
    job_id = _enqueue(app, notify_and_wait, owner, to=owner, title="等待中的任务写的")
    runner = threading.Thread(target=background.run, args=(app, job_id))
    runner.start()
    try:
        for _ in range(300):
            state = client.get(f"/admin/backgroundjob/status/?id={job_id}").get_json()
            if state["done"] == 3:
                break
            time.sleep(0.1)
        assert state == {"status": "running", "label": "运行中", "done": 3, "total": 10,
                         "percent": 30, "finished": False}
        assert _notifications(app, "等待中的任务写的") == 0  # not committed yet
        page = client.get(f"/admin/backgroundjob/progress/?id={job_id}").text
        assert "3 / 10" in page and 'aria-valuenow="30"' in page
    finally:
        GATE.set()
        runner.join(60)
    assert _wait(client, job_id)["percent"] == 100
    assert _notifications(app, "等待中的任务写的") == 1
    page = client.get(f"/admin/backgroundjob/progress/?id={job_id}").text
    assert "十条已完成" in page and "10 / 10" in page


def test_a_job_is_seen_by_its_owner_only(app, login):
    job_id = _enqueue(app, count_run, _owner(app), tag="mine")
    background.run(app, job_id)
    owner = login("finance")
    assert "测试任务" in owner.get("/admin/backgroundjob/").text
    assert owner.get(f"/admin/backgroundjob/progress/?id={job_id}").status_code == 200
    other = login("dept01")
    assert other.get(f"/admin/backgroundjob/progress/?id={job_id}").status_code == 404
    assert other.get(f"/admin/backgroundjob/status/?id={job_id}").status_code == 404
    assert "测试任务" not in other.get("/admin/backgroundjob/").text


def test_the_scheduler_runs_a_job_no_worker_began(app):
    RUNS.clear()
    job_id = _enqueue(app, count_run, _owner(app), tag="late")
    app.config["BACKGROUND_PICKUP_SECONDS"] = 0
    try:
        result = run_job(app, "background-jobs")
    finally:
        app.config.pop("BACKGROUND_PICKUP_SECONDS")
    assert result.status == "finished" and RUNS == [1]
    assert _job(app, job_id).summary == "ran late"


def _died_running(app, owner_id: int, minutes: int) -> int:
    """A job a worker claimed ``minutes`` ago and then stopped running (killed)."""
    from datetime import timedelta

    from core.models import utcnow

    job_id = _enqueue(app, count_run, owner_id, tag="died")
    with app.app_context():
        job = db.session.get(background.BackgroundJob, job_id)
        long_ago = utcnow() - timedelta(minutes=minutes)
        job.status, job.started_at, job.progress_at = background.RUNNING, long_ago, long_ago
        db.session.commit()
    return job_id


def _slot(n: int):
    """A period of the scheduler's job of its own (other tests ran the current one)."""
    from datetime import datetime, timedelta

    return datetime(2031, 1, 1) + timedelta(minutes=n)


def test_a_job_whose_worker_died_is_marked_failed_when_its_progress_stood_still(app, login):
    owner = _owner(app)
    dead = _died_running(app, owner, 20)
    moving = _died_running(app, owner, 20)
    with app.app_context():
        progress = background.Progress(moving)  # its worker still works: progress moves
    try:
        progress(3, 10)
        assert run_job(app, "background-jobs", when=_slot(dead)).status == "finished"
        job = _job(app, dead)
        assert job.status == background.FAILED and job.finished_at is not None
        assert job.error == "任务执行中断（处理进程已停止），未作任何更改，请重新发起。"
        assert _job(app, moving).status == background.RUNNING  # 10 minutes not yet passed
        page = login("finance").get(f"/admin/backgroundjob/progress/?id={dead}").text
        assert "任务执行中断" in page and "请重新发起" in page
        time.sleep(0.05)
        app.config["BACKGROUND_STALL_SECONDS"] = 0  # now it stands still too long as well
        try:
            assert run_job(app, "background-jobs", when=_slot(moving)).status == "finished"
        finally:
            app.config.pop("BACKGROUND_STALL_SECONDS")
        job = _job(app, moving)
        assert job.status == background.FAILED and (job.done, job.total) == (3, 10)
    finally:
        with app.app_context():
            progress.close()
